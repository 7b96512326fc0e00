"""The lecture's regularisation knobs as graph terms you add to the loss.

``loss = data_loss + l2_penalty(model.parameters(), 1e-4)`` puts ½λ‖w‖² in the graph, so the
penalty shows up in diagrams and its gradient comes from backward. The same penalties are also
available as optimizer options (``weight_decay=``, ``l1=``, ``max_norm=``), which is cheaper: the
optimizer adds the known gradient directly. Both regularise weights only (parameters with two or
more dimensions) unless ``weights_only=False``.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphgrad import config
from graphgrad._tensor import Tensor
from graphgrad.optim.optimizer import max_norm_project

__all__ = ["elastic_penalty", "l1_penalty", "l2_penalty", "max_norm_"]


def _selected(params: Iterable, weights_only: bool) -> list:
    chosen = [p for p in params if p.ndim >= 2 or not weights_only]
    if not chosen:
        raise ValueError("no parameters to regularise (weights_only=True keeps only ndim >= 2)")
    return chosen


def _sum_terms(terms: list[Tensor]) -> Tensor:
    """t0 + t1 + ... in order (one add node per term after the first, as a loop would draw)."""
    total = terms[0]  # `_selected` never returns an empty list
    for term in terms[1:]:
        total = total + term
    return total


def _check(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def l2_penalty(params: Iterable, lam: float, weights_only: bool = True) -> Tensor:
    """``½·λ·Σ w²`` over the (weight) parameters, as a scalar Tensor in the graph."""
    _check("lam", lam)
    return _sum_terms([(w * w).sum() for w in _selected(params, weights_only)]) * (0.5 * lam)


def l1_penalty(params: Iterable, lam: float, weights_only: bool = True) -> Tensor:
    """``λ·Σ |w|``: sparsity inducing (many weights end near exactly zero)."""
    _check("lam", lam)
    return _sum_terms([abs(w).sum() for w in _selected(params, weights_only)]) * lam


def elastic_penalty(params: Iterable, l1: float, l2: float, weights_only: bool = True) -> Tensor:
    """L1 + L2 together: ``λ1·Σ|w| + ½·λ2·Σw²``."""
    params = list(params)
    return l1_penalty(params, l1, weights_only) + l2_penalty(params, l2, weights_only)


def max_norm_(params: Iterable, c: float) -> None:
    """Max-norm constraint, in place: every row of every weight gets Euclidean norm ≤ c."""
    if c <= 0:
        raise ValueError(f"max-norm bound c must be positive, got {c!r}")
    with config.no_grad():
        for w in params:
            if w.ndim >= 2:
                w.data = max_norm_project(w.data, c)
