"""Reductions along axes: sum, max (the max gate over many inputs), and what is built from them."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from .elementwise import equal, where
from .structural import broadcast_to, check_axis, expand_reduced


def normalize_axis(axis, ndim: int, op: str) -> tuple[int, ...] | None:
    """`axis` (None, int, or sequence) as a sorted tuple of non-negative axes, validated."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        axes = (axis,)
    else:
        raise ShapeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    result = [check_axis(a, ndim, op) for a in axes]
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def _sum_vjp(g, out, x, *, axis, keepdims):
    return (broadcast_to(expand_reduced(g, x.ndim, axis, keepdims), shape=x.shape),)


_sum = primitive("sum", symbol="Σ",
                 forward=lambda xp, x, *, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims),
                 vjp=_sum_vjp)


def _max_vjp(g, out, x, *, axis, keepdims):
    """The max gate's tie rule over many inputs: tied winners share the gradient equally."""
    out_b = expand_reduced(out, x.ndim, axis, keepdims)
    winners = where(equal(x, out_b), 1.0, 0.0).astype(x.dtype)
    count = _sum(winners, axis=axis, keepdims=True)
    share = winners * (expand_reduced(g, x.ndim, axis, keepdims) / count)
    return (share,)


_max = primitive("max", symbol="max",
                 forward=lambda xp, x, *, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                 vjp=_max_vjp)


def sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    return _sum(x, axis=normalize_axis(axis, x.ndim, "sum"), keepdims=bool(keepdims))


def max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Largest element along `axis`; gradient routed to the winners (ties share it)."""
    axes = normalize_axis(axis, x.ndim, "max")
    if x.size == 0:
        raise ShapeError(f"max: the tensor of shape {x.shape} is empty, so it has no maximum")
    return _max(x, axis=axes, keepdims=bool(keepdims))


def min(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    return -max(-x, axis=axis, keepdims=keepdims)


def _count(x: Tensor, axes) -> int:
    if axes is None:
        return x.size
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    axes = normalize_axis(axis, x.ndim, "mean")
    n = _count(x, axes)
    if n == 0:
        raise ShapeError(f"mean: no elements along axis {axis!r} of shape {x.shape}")
    return _sum(x, axis=axes, keepdims=bool(keepdims)) * (1.0 / n)


def var(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Population variance (NumPy's ddof=0)."""
    centered = x - mean(x, axis=axis, keepdims=True)
    return mean(centered * centered, axis=axis, keepdims=keepdims)


def std(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Population standard deviation (NumPy's ddof=0). Where the values are all equal the
    gradient is 0, as in PyTorch: the square root reads 1 there instead of the variance 0 (the
    "double where"), so its infinite slope at 0 never meets the zero upstream (0 * inf = nan)."""
    variance = var(x, axis=axis, keepdims=keepdims)
    spread = variance > 0.0
    return where(spread, where(spread, variance, 1.0) ** 0.5, 0.0)


_argmax = primitive("argmax", symbol="argmax",
                    forward=lambda xp, x, *, axis: xp.argmax(x, axis=axis),
                    vjp=None)


def argmax(x: Tensor, axis=None) -> Tensor:
    """Index of the largest element (no gradient). With axis=None, over the flattened tensor."""
    if axis is None:
        return _argmax(x.reshape(-1), axis=0)
    return _argmax(x, axis=normalize_axis(axis, x.ndim, "argmax")[0])
