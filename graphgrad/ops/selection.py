"""Selecting elements by index or by rank: gather, masked_fill, sort, topk, one_hot.

`gather` is a gate whose gradient scatter-adds (repeated indices accumulate); `sort`/`topk` are
an `argsort` gate (integer indices, no gradient) and a gather through them, so the values carry the
gradient back to where they came from; `masked_fill` is a `where` (gradient 0 where filled) and
`one_hot` reuses the losses' gate.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._primitive import Primitive, primitive
from .._tensor import Tensor
from ..backend import dtype_name, resolve_dtype, scatter_add
from ..declare import declare
from ..errors import ArgumentError, ShapeError
from .elementwise import _where
from .structural import _index, _reshape_to, check_axis


class SortResult(NamedTuple):
    """`sort`'s result, as torch.return_types.sort: `values, indices = gg.sort(x)`."""

    values: Tensor
    indices: Tensor


class TopKResult(NamedTuple):
    """`topk`'s result, as torch.return_types.topk: `values, indices = gg.topk(x, 3)`."""

    values: Tensor
    indices: Tensor


def _kind(array) -> str:
    """NumPy's dtype kind ('f', 'i', 'u', 'b') of an array of any namespace."""
    return np.dtype(dtype_name(array.dtype)).kind


def _is_integer(array) -> bool:
    return _kind(array) in "iu"


def _full_index(xp, index, axis: int) -> tuple:
    """The advanced index that picks x[..., index[...], ...] along `axis` (open aranges
    elsewhere)."""
    parts = []
    for d, n in enumerate(index.shape):
        shape = [1] * index.ndim
        shape[d] = n
        parts.append(index if d == axis else xp.reshape(xp.arange(n), tuple(shape)))
    return tuple(parts)


def _scatter_along_forward(xp, g, index, *, axis, shape):
    return scatter_add(xp, shape, _full_index(xp, index, axis), g)


# The index is an input of the gates (not a parameter), so gg.compile's generated code reads each
# call's indices (sort's, topk's, the user's) instead of freezing the traced ones.
_gather: Primitive = primitive(
    "gather", symbol="gather", nondiff=(1,),
    forward=lambda xp, x, index, *, axis: x[_full_index(xp, index, axis)],
    vjp=lambda g, out, x, index, *, axis: (_scatter_along(g, index, axis=axis, shape=x.shape),
                                           None),
    doc="picks x along an axis at integer indices; gradient: g scatter-added back")

_scatter_along: Primitive = primitive(
    "scatter_add", symbol="scatter", nondiff=(1,), forward=_scatter_along_forward,
    vjp=lambda gg, out, g, index, *, axis, shape: (_gather(gg, index, axis=axis), None),
    doc="zeros with g added at integer indices along an axis (gather's transpose)")


def _argsort_forward(xp, x, *, axis, descending):
    """Stable argsort on x's namespace; ties keep their order, as PyTorch's stable sort."""
    if xp is np:
        if descending:
            x = -x if x.dtype.kind in "fi" else -x.astype(np.float64)
        return np.argsort(x, axis=axis, kind="stable").astype(np.int64)
    try:
        return xp.argsort(x, axis=axis, descending=descending, stable=True)
    except TypeError:  # CuPy: no `descending=`
        return xp.argsort(-x if descending else x, axis=axis)


_argsort: Primitive = primitive("argsort", symbol="argsort", forward=_argsort_forward, vjp=None,
                                mixed_dtypes=True, doc="the sorting permutation: no gradient")


@declare(method=True)
def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """`out[i][j][k] = x[i][j][index[i][j][k]]` for dim=2 (torch.gather, np.take_along_axis);
    gradient: g scatter-added back to the gathered positions (repeats accumulate)."""
    axis = check_axis(dim, x.ndim, "gather")
    if not _is_integer(index.data):
        raise ArgumentError(f"gather: index must be an integer tensor, got dtype "
                            f"{index.dtype} (convert it with .long())")
    if index.ndim != x.ndim or any(m > n for d, (m, n) in enumerate(zip(index.shape, x.shape))
                                   if d != axis):
        raise ShapeError(f"gather: index of shape {index.shape} does not fit x of shape "
                         f"{x.shape} along dim {dim}: it needs x's rank ({x.ndim}) and sizes "
                         f"<= x's on every other axis")
    if index.data.size:
        low, high = int(index.device.xp.min(index.data)), int(index.device.xp.max(index.data))
        if low < 0 or high >= x.shape[axis]:
            raise ShapeError(f"gather: index values must lie in [0, {x.shape[axis] - 1}] for dim "
                             f"{dim} of size {x.shape[axis]}, got values in [{low}, {high}]")
    return _gather(x, index, axis=axis)


@declare(method=True)
def masked_fill(x: Tensor, mask: Tensor, value: float) -> Tensor:
    """x with `value` where the boolean `mask` (broadcast to x's shape) holds
    (torch.masked_fill, np.where(mask, value, x)); gradient: g where kept, 0 where filled."""
    if _kind(mask.data) != "b":
        raise ArgumentError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype} "
                            f"(compare to make one: x > 0)")
    try:
        fits = np.broadcast_shapes(mask.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to x's "
                         f"shape {x.shape}")
    return _where(mask, value, x)


def _ranked(op: str, x: Tensor, dim: int, descending: bool, k: int | None):
    axis = check_axis(dim, x.ndim, op) if x.ndim else None
    if axis is None:  # a 0-d tensor is its own sort, as in PyTorch
        index = x.device.asarray(0, dtype=resolve_dtype(x.device.xp, "int64"))
        return _reshape_to(x, ()), Tensor._leaf(index, x.device)
    index = _argsort(x, axis=axis, descending=descending)
    if k is not None and k < x.shape[axis]:
        index = _index(index, (slice(None),) * axis + (slice(0, k),))
    return _gather(x, index, axis=axis), index


@declare(method=True)
def sort(x: Tensor, dim: int = -1, descending: bool = False) -> SortResult:
    """(values, indices) of x sorted along `dim`, ties in their original order (torch.sort
    with stable=True, np.sort/np.argsort); gradient: through the values, each g back to the
    position it came from; the int64 indices carry none."""
    return SortResult(*_ranked("sort", x, dim, descending, None))


@declare(method=True)
def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> TopKResult:
    """(values, indices) of the k largest (or smallest) entries along `dim` (torch.topk);
    always in sorted order, ties by position. Gradient: g back to the k chosen positions."""
    size = x.shape[check_axis(dim, x.ndim, "topk")] if x.ndim else 1
    if not 0 <= k <= size:
        raise ArgumentError(f"topk: k must lie in [0, {size}] for dim {dim} of size {size}, "
                            f"got k={k}")
    return TopKResult(*_ranked("topk", x, dim, largest, k))


@declare
def one_hot(labels: Tensor, num_classes: int = -1) -> Tensor:
    """Integer labels of shape (*) as int64 one-hot rows of shape (*, C)
    (torch.nn.functional.one_hot); C = num_classes, or max(labels) + 1 for -1. No gradient."""
    from ..composites.losses import one_hot as _one_hot  # composites import the ops: at call time

    if not _is_integer(labels.data):
        raise ArgumentError(f"one_hot: labels must be an integer tensor, got dtype "
                            f"{labels.dtype} (convert with .long())")
    xp = labels.device.xp
    if num_classes == -1:
        if labels.data.size == 0:
            raise ArgumentError("one_hot: num_classes=-1 infers the classes from the labels, "
                                "but there are none: give num_classes")
        num_classes = int(xp.max(labels.data)) + 1
    elif num_classes < 1:
        raise ArgumentError(f"one_hot: num_classes must be >= 1 (or -1: max label + 1), "
                            f"got {num_classes}")
    rows = _one_hot(_reshape_to(labels, (-1,)), classes=num_classes,
                    dtype=resolve_dtype(xp, "int64"), op="one_hot")
    return _reshape_to(rows, tuple(labels.shape) + (num_classes,))
