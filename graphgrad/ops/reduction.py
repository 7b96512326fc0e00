"""Reductions along axes: sum, max (the max gate over many inputs), and what is built from them."""

from __future__ import annotations

import numpy as np

from ..backend import dtype_name
from ..errors import ShapeError
from .._primitive import primitive
from .._tensor import Tensor
from .elementwise import abs, equal, exp, log, where, where_defined
from .structural import broadcast_to, check_axis, expand_reduced, squeeze


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


def _root(s: Tensor, exponent: float) -> Tensor:
    """s ** exponent (0 < exponent < 1) for s >= 0, with gradient 0 where s = 0, as PyTorch's
    std and norm have. The test is s != 0, not s > 0: NaN fails every comparison, and here it
    must take the root's branch (NaN in, NaN out) rather than the 0 of the zero vector."""
    return where_defined(s != 0.0, lambda t: t ** exponent, s, 0.0)


def std(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Population standard deviation (NumPy's ddof=0); gradient 0 where the values are equal."""
    return _root(var(x, axis=axis, keepdims=keepdims), 0.5)


def norm(x: Tensor, p: float = 2, axis=None, keepdims: bool = False) -> Tensor:
    """The vector p-norm (sum |x|^p)^(1/p) over `axis` (all axes by default), p >= 1 finite, as
    PyTorch's `linalg.vector_norm`; gradient 0 at the zero vector, as there."""
    if not (isinstance(p, (int, float)) and 1 <= p < float("inf")):
        raise ValueError(f"norm: p must be a finite number >= 1, got {p!r}")
    if p == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    powered = x * x if p == 2 else abs(x) ** float(p)
    return _root(sum(powered, axis=axis, keepdims=keepdims), 1.0 / p)


def _shift_forward(xp, x, *, axis):
    peak = xp.max(x, axis=axis, keepdims=True)
    return xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))  # rows of -inf: -inf, not nan


# a gate without gradient rather than a constant: computed from each call's input (so code that
# gg.compile generates shifts by this call's max, not the first call's)
_logsumexp_shift = primitive("logsumexp_shift", symbol="max (held)", forward=_shift_forward,
                             vjp=None, register=False,
                             doc="logsumexp's shift: the max, held constant, 0 where not finite")


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis` without overflow: the max is taken out first. It is held
    constant (its gradient terms cancel exactly), so the gradient is softmax(x)."""
    axes = normalize_axis(axis, x.ndim, "logsumexp")
    if x.size == 0:
        raise ShapeError(f"logsumexp: the tensor of shape {x.shape} is empty, so it has no "
                         f"maximum to shift by; give a tensor with at least one element")
    peak = _logsumexp_shift(x, axis=axes)
    total = log(sum(exp(x - peak), axis=axes, keepdims=True)) + peak
    return total if keepdims else squeeze(total, axes)


_argmax = primitive("argmax", symbol="argmax",
                    forward=lambda xp, x, *, axis: xp.argmax(x, axis=axis),
                    vjp=None)


_argmin = primitive("argmin", symbol="argmin",
                    forward=lambda xp, x, *, axis: xp.argmin(x, axis=axis),
                    vjp=None)


def _index_of(op, name: str, x: Tensor, axis) -> Tensor:
    if axis is None:
        return op(x.reshape(-1), axis=0)
    return op(x, axis=check_axis(axis, x.ndim, name))


def argmax(x: Tensor, axis=None) -> Tensor:
    """Index of the largest element (no gradient). With axis=None, over the flattened tensor."""
    return _index_of(_argmax, "argmax", x, axis)


def argmin(x: Tensor, axis=None) -> Tensor:
    """Index of the smallest element (no gradient). With axis=None, over the flattened tensor."""
    return _index_of(_argmin, "argmin", x, axis)


def _truth_reduction(name: str):
    def forward(xp, x, *, axis, keepdims):
        truth = x if dtype_name(x.dtype) == "bool" else x != 0  # strict: no bool != int
        return getattr(xp, name)(truth, axis=axis, keepdims=keepdims)

    op = primitive(name, symbol=name, vjp=None, forward=forward,
                   doc=f"{name}: whether elements are nonzero (a boolean, no gradient)")

    def reduce(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
        return op(x, axis=normalize_axis(axis, x.ndim, name), keepdims=bool(keepdims))

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = f"Whether {'any' if name == 'any' else 'every'} element along `axis` is " \
                     f"nonzero (True): NumPy's `{name}`, a boolean tensor with no gradient."
    return reduce


any = _truth_reduction("any")
all = _truth_reduction("all")
