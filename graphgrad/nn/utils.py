"""Gradient clipping as torch.nn.utils spells it: `clip_grad_norm_(model.parameters(), 1.0)`
between `loss.backward()` and `optimizer.step()` (exploding gradients in RNNs and deep nets)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from graphgrad._tensor import Tensor
from graphgrad.config import no_grad
from graphgrad.errors import ArgumentError

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor], op: str) -> list[Tensor]:
    """The gradients of `parameters` that exist (a parameter unused by the loss has none)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{op}: expected Tensors (model.parameters()), got "
                                f"{type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale every gradient by max_norm / total_norm when the norm of all gradients together
    exceeds max_norm (torch.nn.utils.clip_grad_norm_); returns the total norm before clipping.
    `norm_type` may be math.inf (the largest |g|). A non-finite norm raises with
    `error_if_nonfinite=True`, else the gradients are left as they are (they are NaN anyway)."""
    grads = _grads(parameters, "clip_grad_norm_")
    if not grads:
        return 0.0
    xp = grads[0].device.xp
    if norm_type == math.inf:
        total = max(float(xp.max(xp.abs(g.data))) for g in grads)
    else:
        powers = [float(xp.sum(xp.abs(g.data) ** norm_type)) for g in grads]
        total = math.fsum(powers) ** (1 / norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise ArgumentError(f"clip_grad_norm_: the total norm of the gradients is {total}")
        return total
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        with no_grad():
            for g in grads:
                g.mul_(scale)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place
    (torch.nn.utils.clip_grad_value_)."""
    with no_grad():
        for g in _grads(parameters, "clip_grad_value_"):
            g.copy_(g.device.xp.clip(g.data, -clip_value, clip_value))
