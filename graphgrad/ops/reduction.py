"""Reductions along axes: sum, max (the max gate over many inputs), and what is built from them.

Every reduction takes NumPy's `axis=`/`keepdims=` and PyTorch's keyword-only `dim=`/`keepdim=`
(one spelling per call). Internal helpers take already-normalized axes, so a reduction built
from others (var from mean, std from var) checks its arguments once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._primitive import Primitive, primitive
from .._tensor import Tensor
from ..backend import dtype_name
from ..declare import declare, resolve_axis, resolve_keepdims
from ..errors import ArgumentError, ShapeError
from .elementwise import _abs, _equal, _exp, _log, _neg, _where, maximum, minimum, where_defined
from .structural import _broadcast_to, _reshape, check_axis, expand_reduced, squeeze


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


def _axes(op: str, x: Tensor, axis, dim, keepdims, keepdim) -> tuple[tuple[int, ...] | None, bool]:
    """Both spellings resolved: (sorted non-negative axes or None, keepdims)."""
    return (normalize_axis(resolve_axis(op, axis, dim), x.ndim, op),
            resolve_keepdims(op, keepdims, keepdim))


def _sum_vjp(g, out, x, *, axis, keepdims):
    return (_broadcast_to(expand_reduced(g, x.ndim, axis, keepdims), shape=x.shape),)


def _sum_forward(xp, x, *, axis, keepdims):
    """NumPy reduces the leading axis first when it is among several (a conv bias's gradient,
    axes (0, 2, 3)): whole rows are added, then short runs, in a fourth of the time NumPy takes
    for the axes at once (LeNet's 32x32x8x8: 12 us against 44)."""
    if type(x) is np.ndarray and type(axis) is tuple and len(axis) > 1 and x.flags.c_contiguous:
        axes = tuple(a % x.ndim for a in axis)
        if 0 in axes:
            out = x.sum(axis=0).sum(axis=tuple(a - 1 for a in axes if a))
            if keepdims:
                return np.reshape(out, tuple(1 if a in axes else n for a, n in enumerate(x.shape)))
            return out
    return xp.sum(x, axis=axis, keepdims=keepdims)


_sum: Primitive = primitive("sum", symbol="Σ", forward=_sum_forward, vjp=_sum_vjp)


def _max_vjp(g, out, x, *, axis, keepdims):
    """The max gate's tie rule over many inputs: tied winners share the gradient equally."""
    out_b = expand_reduced(out, x.ndim, axis, keepdims)
    winners = _where(_equal(x, out_b), 1.0, 0.0).astype(x.dtype)
    count = _sum(winners, axis=axis, keepdims=True)
    share = winners * (expand_reduced(g, x.ndim, axis, keepdims) / count)
    return (share,)


_max: Primitive = primitive("max", symbol="max",
                 forward=lambda xp, x, *, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                 vjp=_max_vjp)


@declare(method=True)
def sum(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
        dim: int | tuple[int, ...] | None = None, keepdim: bool | None = None) -> Tensor:
    """Sum over `axis`/`dim` (all axes by default) (torch.sum, np.sum); gradient: g broadcast
    back over the summed axes."""
    axes, keep = _axes("sum", x, axis, dim, keepdims, keepdim)
    return _sum(x, axis=axes, keepdims=keep)


def _max_of(op: str, x: Tensor, axes, keep: bool) -> Tensor:
    if x.size == 0:
        raise ShapeError(f"{op}: the tensor of shape {x.shape} is empty, so it has no {op}imum")
    return _max(x, axis=axes, keepdims=keep)


class MaxResult(NamedTuple):
    """`max`/`min` along a `dim`, as torch.return_types.max: `values, indices = x.max(dim=1)`."""

    values: Tensor
    indices: Tensor


def _signed(negate: bool) -> Callable[[Tensor], Tensor]:
    return _neg if negate else (lambda t: t)


def _extreme_values(op: str, x: Tensor, axis, dim, keepdims, keepdim, negate: bool) -> Tensor:
    """The values only (np.max, torch.amax; min as -max(-x)), keepdims from either spelling."""
    sign = _signed(negate)
    axes, keep = _axes(op, x, axis, dim, bool(keepdims) if keepdims is not None else False,
                       keepdim or None)
    return sign(_max_of(op, sign(x), axes, keep))


def _extreme(op: str, x: Tensor, dim, keepdim: bool, axis, keepdims, negate: bool
             ) -> Tensor | MaxResult:
    """NumPy's spelling (no dim) gives the values; PyTorch's `dim` gives (values, indices)."""
    if dim is None:
        return _extreme_values(op, x, axis, None, keepdims, keepdim, negate)
    sign = _signed(negate)
    if axis is not None:
        raise ArgumentError(f"{op}: got both dim={dim!r} and axis={axis!r}; they are the same "
                            f"argument (PyTorch's and NumPy's spelling), give one")
    keep = resolve_keepdims(op, keepdims or False, keepdim)
    axes = normalize_axis(dim, x.ndim, op)
    values = sign(_max_of(op, sign(x), axes, keep))
    indices = _index_of(_argmin if negate else _argmax, f"{op}", x, None, dim, False, keep)
    return MaxResult(values, indices)


@declare(method=True)
def max(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
        axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None
        ) -> Tensor | MaxResult:
    """The largest element (torch.max, np.max). Each library's spelling gives its own result:
    `x.max()` and NumPy's `axis=` give the values (np.max, torch.amax); PyTorch's `dim` (also
    positional, `x.max(1)`) gives `(values, indices)` as torch.max does, so `x.max(1)[1]` is the
    argmax; `gg.max(x, other_tensor)` is the element-wise maximum. Gradient: g to the winners,
    tied winners share it (torch.max(dim) gives it to the one it indexes)."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _extreme("max", x, dim, keepdim, axis, keepdims, negate=False)


@declare(method=True)
def min(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
        axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None
        ) -> Tensor | MaxResult:
    """The smallest element, as -max(-x) (torch.min, np.min): values for `x.min()` and `axis=`,
    `(values, indices)` for PyTorch's `dim`, the element-wise minimum for a tensor argument (see
    `max`). Gradient: g to the winners, tied winners share it."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _extreme("min", x, dim, keepdim, axis, keepdims, negate=True)


@declare(method=True)
def amax(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
         axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
    """Largest values over one or more axes (torch.amax, np.amax): always values only;
    gradient: g to the winners, tied winners share it."""
    return _extreme_values("amax", x, axis, dim, keepdims, keepdim, negate=False)


@declare(method=True)
def amin(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
         axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
    """Smallest values over one or more axes as -amax(-x) (torch.amin, np.amin); gradient: g to
    the winners, tied winners share it."""
    return _extreme_values("amin", x, axis, dim, keepdims, keepdim, negate=True)


def _count(x: Tensor, axes) -> int:
    if axes is None:
        return x.size
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def _mean(x: Tensor, axes, keep: bool) -> Tensor:
    n = _count(x, axes)
    if n == 0:
        raise ShapeError(f"mean: no elements along axis {axes!r} of shape {x.shape}")
    return _sum(x, axis=axes, keepdims=keep) * (1.0 / n)


@declare(method=True)
def mean(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
         dim: int | tuple[int, ...] | None = None, keepdim: bool | None = None) -> Tensor:
    """Mean over `axis`/`dim` (torch.mean, np.mean) as a sum times 1/n; gradient: g / n spread
    over the reduced axes."""
    axes, keep = _axes("mean", x, axis, dim, keepdims, keepdim)
    return _mean(x, axes, keep)


def _var(x: Tensor, axes, keep: bool, correction: int = 0) -> Tensor:
    centered = x - _mean(x, axes, True)
    variance = _mean(centered * centered, axes, keep)
    if correction == 0:
        return variance
    n = _count(x, axes)
    return variance * (n / (n - correction))


def _correction(op: str, x: Tensor, axes, correction, unbiased, ddof) -> int:
    """PyTorch's `correction=`/`unbiased=` and NumPy's `ddof=` name one thing; NumPy's default 0."""
    given = {k: v for k, v in (("correction", correction), ("unbiased", unbiased),
                               ("ddof", ddof)) if v is not None}
    if len(given) > 1:
        raise ArgumentError(f"{op}: got {' and '.join(given)}; they are the same argument "
                            f"(PyTorch's and NumPy's spellings), give one")
    value = int(unbiased) if unbiased is not None else next(iter(given.values()), 0)
    if value < 0:
        raise ArgumentError(f"{op}: the correction must be >= 0, got {value}")
    if value and _count(x, axes) <= value:
        raise ShapeError(f"{op}: {_count(x, axes)} value(s) per result with correction={value} "
                         f"divide by {_count(x, axes) - value}; give more values or correction=0")
    return value


@declare(method=True)
def var(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
        dim: int | tuple[int, ...] | None = None, keepdim: bool | None = None,
        correction: int | None = None, unbiased: bool | None = None,
        ddof: int | None = None) -> Tensor:
    """Variance, sum((x - mean x)^2) / (n - correction). The default is NumPy's and JAX's
    population variance (correction 0); torch.var's default divides by n - 1: ask for it with
    `correction=1`, `unbiased=True` or `ddof=1`. Gradient: g * 2 (x - mean x) / (n - correction)."""
    axes, keep = _axes("var", x, axis, dim, keepdims, keepdim)
    return _var(x, axes, keep, _correction("var", x, axes, correction, unbiased, ddof))


def _root(s: Tensor, exponent: float) -> Tensor:
    """s ** exponent (0 < exponent < 1) for s >= 0, with gradient 0 where s = 0, as PyTorch's
    std and norm have. The test is s != 0, not s > 0: NaN fails every comparison, and here it
    must take the root's branch (NaN in, NaN out) rather than the 0 of the zero vector."""
    return where_defined(s != 0.0, lambda t: t ** exponent, s, 0.0)


@declare(method=True)
def std(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
        dim: int | tuple[int, ...] | None = None, keepdim: bool | None = None,
        correction: int | None = None, unbiased: bool | None = None,
        ddof: int | None = None) -> Tensor:
    """Standard deviation, sqrt(var): population (correction 0, NumPy's and JAX's default) unless
    `correction=`/`unbiased=`/`ddof=` says otherwise (torch.std divides by n - 1 by default).
    Gradient: (x - mean x) / ((n - correction) std), 0 where the values are all equal."""
    axes, keep = _axes("std", x, axis, dim, keepdims, keepdim)
    return _root(_var(x, axes, keep, _correction("std", x, axes, correction, unbiased, ddof)), 0.5)


@declare(method=True)
def norm(x: Tensor, p: float = 2, axis: int | tuple[int, ...] | None = None,
         keepdims: bool = False, *, dim: int | tuple[int, ...] | None = None,
         keepdim: bool | None = None) -> Tensor:
    """The vector p-norm (sum |x|^p)^(1/p) over `axis`/`dim` (all axes by default), p >= 1
    finite (torch.linalg.vector_norm); gradient: g * x |x|^(p-2) / norm^(p-1), 0 at the zero
    vector, as in PyTorch."""
    if not 1 <= p < float("inf"):
        raise ValueError(f"norm: p must be a finite number >= 1, got {p!r}")
    axes, keep = _axes("norm", x, axis, dim, keepdims, keepdim)
    if p == 1:
        return _sum(_abs(x), axis=axes, keepdims=keep)
    powered = x * x if p == 2 else _abs(x) ** float(p)
    return _root(_sum(powered, axis=axes, keepdims=keep), 1.0 / p)


def _shift_forward(xp, x, *, axis):
    peak = xp.max(x, axis=axis, keepdims=True)
    return xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))  # rows of -inf: -inf, not nan


# a gate without gradient rather than a constant: computed from each call's input (so code that
# gg.compile generates shifts by this call's max, not the first call's)
_logsumexp_shift: Primitive = primitive("logsumexp_shift", symbol="max (held)",
                                        forward=_shift_forward, vjp=None, register=False,
                                        doc="logsumexp's shift: the max, held constant, 0 where "
                                            "not finite")


@declare(method=True)
def logsumexp(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
              dim: int | tuple[int, ...] | None = None, keepdim: bool | None = None) -> Tensor:
    """log(sum(exp(x))) over `axis`/`dim` without overflow (torch.logsumexp,
    scipy.special.logsumexp): the max is taken out first and held constant (its gradient terms
    cancel exactly); gradient: g * softmax(x)."""
    axes, keep = _axes("logsumexp", x, axis, dim, keepdims, keepdim)
    if x.size == 0:
        raise ShapeError(f"logsumexp: the tensor of shape {x.shape} is empty, so it has no "
                         f"maximum to shift by; give a tensor with at least one element")
    peak = _logsumexp_shift(x, axis=axes)
    total = _log(_sum(_exp(x - peak), axis=axes, keepdims=True)) + peak
    return total if keep else squeeze(total, axes)


_argmax: Primitive = primitive("argmax", symbol="argmax",
                    forward=lambda xp, x, *, axis: xp.argmax(x, axis=axis),
                    vjp=None)


_argmin: Primitive = primitive("argmin", symbol="argmin",
                    forward=lambda xp, x, *, axis: xp.argmin(x, axis=axis),
                    vjp=None)


def _index_of(op, name: str, x: Tensor, axis, dim, keepdims, keepdim) -> Tensor:
    axis, keep = resolve_axis(name, axis, dim), resolve_keepdims(name, keepdims, keepdim)
    if axis is None:
        out = op(_reshape(x, shape=(x.size,)) if x.ndim != 1 else x, axis=0)
        return _reshape(out, shape=(1,) * x.ndim) if keep and x.ndim != 0 else out
    axis = check_axis(axis, x.ndim, name)
    out = op(x, axis=axis)
    return _reshape(out, shape=x.shape[:axis] + (1,) + x.shape[axis + 1:]) if keep else out


@declare(method=True)
def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False, *,
           dim: int | None = None, keepdim: bool | None = None) -> Tensor:
    """Index of the largest element along `axis`/`dim`, over the flattened tensor by default
    (torch.argmax, np.argmax): an int64 tensor, no gradient."""
    return _index_of(_argmax, "argmax", x, axis, dim, keepdims, keepdim)


@declare(method=True)
def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False, *,
           dim: int | None = None, keepdim: bool | None = None) -> Tensor:
    """Index of the smallest element along `axis`/`dim`, over the flattened tensor by default
    (torch.argmin, np.argmin): an int64 tensor, no gradient."""
    return _index_of(_argmin, "argmin", x, axis, dim, keepdims, keepdim)


def _truth_reduction(name: str) -> Callable[..., Tensor]:
    def forward(xp, x, *, axis, keepdims):
        truth = x if dtype_name(x.dtype) == "bool" else x != 0  # strict: no bool != int
        return getattr(xp, name)(truth, axis=axis, keepdims=keepdims)

    op = primitive(name, symbol=name, vjp=None, forward=forward,
                   doc=f"{name}: whether elements are nonzero (a boolean, no gradient)")

    def reduce(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
               dim: int | tuple[int, ...] | None = None, keepdim: bool | None = None) -> Tensor:
        axes, keep = _axes(name, x, axis, dim, keepdims, keepdim)
        return op(x, axis=axes, keepdims=keep)

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = (f"Whether {'any' if name == 'any' else 'every'} element along `axis`/`dim` "
                      f"is nonzero (torch.{name}, np.{name}): a boolean tensor, no gradient.")
    return declare(reduce, method=True)


any: Callable[..., Tensor] = _truth_reduction("any")
all: Callable[..., Tensor] = _truth_reduction("all")
