"""Structural gates: they move, copy or select values without arithmetic.

Each one's VJP is another structural gate (reshape <-> reshape, broadcast <-> sum, getitem <->
scatter-add, pad <-> slice, concatenate <-> slices), so gradients of gradients stay in the graph.
The gates are private; the public ops are declared functions (graphgrad.declare) that check
their arguments, take PyTorch's spellings beside NumPy's, and are the Tensor methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend
from .._primitive import Primitive, primitive
from .._tensor import Tensor
from ..backend import Device
from ..declare import declare, resolve_axis
from ..errors import ArgumentError, DtypeError, ShapeError, user_site


def check_axis(axis, ndim: int, op: str) -> int:
    """One axis in [-ndim, ndim) as a non-negative int; the error names op, axis and ndim."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ShapeError(f"{op}: an axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ShapeError(f"{op}: a 0-d tensor has no axis {axis}")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions "
                         f"(valid: {-ndim} to {ndim - 1})")
    return int(axis) % ndim


def _sizes(op: str, sizes: tuple) -> tuple[int, ...]:
    """`f(x, 2, 3)` and `f(x, (2, 3))` (PyTorch accepts both) as one tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for n in sizes:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise ArgumentError(f"{op}: sizes must be ints, got {n!r} ({type(n).__name__}) in "
                                f"{sizes!r}; no silent truncation of a non-integer size")
    return tuple(int(n) for n in sizes)


# ----- reshape, transpose -----------------------------------------------------------------------
_reshape: Primitive = primitive("reshape", symbol="reshape",
                     forward=lambda xp, x, *, shape: xp.reshape(x, shape),
                     vjp=lambda g, out, x, *, shape: (_reshape(g, shape=x.shape),))


def _reshaped(op: str, x: Tensor, shape: tuple[int, ...]) -> Tensor:
    size = math.prod(x.shape)
    if shape.count(-1) > 1:
        raise ShapeError(f"{op}: at most one -1 in the new shape {shape}")
    if any(n < -1 for n in shape):
        raise ShapeError(f"{op}: negative size in the new shape {shape} (only -1, 'infer this "
                         f"one', is allowed)")
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or size % known:
            raise ShapeError(f"{op}: cannot reshape shape {x.shape} ({size} elements) into "
                             f"{shape} (at {user_site()})")
        shape = tuple(size // known if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        raise ShapeError(f"{op}: cannot reshape shape {x.shape} ({size} elements) into {shape} "
                         f"({math.prod(shape)} elements) (at {user_site()})")
    if shape == x.shape:
        return x
    return _reshape(x, shape=shape)


def _reshape_to(x: Tensor, shape) -> Tensor:
    """Internal reshape to a known-good shape (ints, at most one -1)."""
    return _reshaped("reshape", x, (shape,) if isinstance(shape, int) else tuple(shape))


@declare(method=True)
def reshape(x: Tensor, *shape: int | tuple[int, ...]) -> Tensor:
    """The same values in a new shape, `reshape(x, (2, 3))` or `x.reshape(2, 3)`, one -1
    inferred (torch.reshape, np.reshape); gradient: g reshaped back."""
    return _reshaped("reshape", x, _sizes("reshape", shape))


@declare(method=True)
def view(x: Tensor, *shape: int | tuple[int, ...]) -> Tensor:
    """PyTorch's view: reshape (arrays here are never aliased in place, so there is no
    contiguity requirement); gradient: g reshaped back."""
    return _reshaped("view", x, _sizes("view", shape))


def _inverse_permutation(axes):
    return tuple(int(i) for i in np.argsort(axes))


_transpose: Primitive = primitive("transpose", symbol="T",
                       forward=lambda xp, x, *, axes: xp.permute_dims(x, axes),
                       vjp=lambda g, out, x, *, axes:
                       (_transpose(g, axes=_inverse_permutation(axes)),))


def _permuted(op: str, x: Tensor, axes) -> Tensor:
    axes = tuple(axes)
    if len(axes) == x.ndim:
        axes = tuple(check_axis(a, x.ndim, op) for a in axes)
    if len(axes) != x.ndim or sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"{op}: {axes} is not a permutation of the {x.ndim} axes of shape "
                         f"{x.shape}")
    return _transpose(x, axes=axes)


@declare
def transpose(x: Tensor, axes: tuple[int, ...] | None = None) -> Tensor:
    """NumPy's transpose: reverse the axes, or permute them by `axes` (np.transpose;
    `x.transpose(0, 1)` is PyTorch's swap, see Tensor.transpose); gradient: g permuted back."""
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return _permuted("transpose", x, axes)


@declare(method=True)
def permute(x: Tensor, *dims: int | tuple[int, ...]) -> Tensor:
    """The axes in a new order, `permute(x, 2, 0, 1)` or `(x, (2, 0, 1))` (torch.permute,
    np.transpose with axes); gradient: g permuted back."""
    return _permuted("permute", x, _sizes("permute", dims))


@declare(method=True)
def swapaxes(x: Tensor, axis1: int, axis2: int) -> Tensor:
    """Two axes exchanged (np.swapaxes, torch.swapaxes); gradient: g with them swapped back."""
    axes = list(range(x.ndim))
    axis1, axis2 = check_axis(axis1, x.ndim, "swapaxes"), check_axis(axis2, x.ndim, "swapaxes")
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return _transpose(x, axes=tuple(axes))


@declare(method=True)
def t(x: Tensor) -> Tensor:
    """PyTorch's t(): a matrix transposed; a 0-d or 1-d tensor is returned as it is."""
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dimensions, got shape {x.shape}; "
                         f"use x.transpose(a, b) or x.permute(...) for more")
    return x if x.ndim < 2 else _transpose(x, axes=(1, 0))


@declare(method=True)
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Axes start_dim..end_dim merged into one (torch.flatten); gradient: g reshaped back."""
    if x.ndim == 0:
        return _reshape(x, shape=(1,))
    start, end = check_axis(start_dim, x.ndim, "flatten"), check_axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for shape {x.shape}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return _reshape_to(x, shape)


@declare(method=True)
def squeeze(x: Tensor, axis: int | tuple[int, ...] | None = None, *,
            dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Axes of size 1 removed: all of them, or those in `axis`/`dim`, which must have size 1
    (np.squeeze; torch.squeeze, which instead skips a named axis of another size)."""
    axis = resolve_axis("squeeze", axis, dim)
    if axis is None:
        return _reshape_to(x, tuple(n for n in x.shape if n != 1))
    axes = {check_axis(a, x.ndim, "squeeze")
            for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    for a in axes:
        if x.shape[a] != 1:
            raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return _reshape_to(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def _expand_dims(op: str, x: Tensor, axis: int) -> Tensor:
    axis = check_axis(axis, x.ndim + 1, op)
    return _reshape_to(x, x.shape[:axis] + (1,) + x.shape[axis:])


@declare(method=True)
def expand_dims(x: Tensor, axis: int) -> Tensor:
    """A new axis of size 1 at position `axis` (np.expand_dims); gradient: g reshaped back."""
    return _expand_dims("expand_dims", x, axis)


@declare(method=True)
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A new axis of size 1 at position `dim` (torch.unsqueeze); gradient: g reshaped back."""
    return _expand_dims("unsqueeze", x, dim)


# ----- broadcasting and its adjoint -------------------------------------------------------------
def _broadcast_vjp(g, out, x, *, shape):
    return (sum_to(g, x.shape),)


_broadcast_to: Primitive = primitive("broadcast_to", symbol="bcast",
                          forward=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
                          vjp=_broadcast_vjp)


def _broadcast(op: str, x: Tensor, shape: tuple[int, ...]) -> Tensor:
    if x.shape == shape:
        return x
    try:
        fits = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: shape {x.shape} cannot broadcast to {shape} (each axis of "
                         f"the input must be 1 or match, trailing axes aligned) (at {user_site()})")
    return _broadcast_to(x, shape=shape)


@declare(method=True)
def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """x repeated along axes of size 1 and new leading axes (np.broadcast_to,
    torch.broadcast_to); gradient: g summed back to x's shape."""
    return _broadcast("broadcast_to", x, tuple(shape))


@declare(method=True)
def expand(x: Tensor, *sizes: int | tuple[int, ...]) -> Tensor:
    """PyTorch's expand: broadcast_to where a size of -1 keeps that axis's size; gradient: g
    summed back to x's shape."""
    sizes = _sizes("expand", sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}; "
                         f"give at least {x.ndim}")
    target = []
    for i, n in enumerate(sizes):
        if n == -1:
            if i < lead:
                raise ShapeError(f"expand: -1 at position {i} of {sizes} is a new leading axis "
                                 f"of a tensor of shape {x.shape}; -1 only keeps an existing size")
            n = x.shape[i - lead]
        target.append(n)
    return _broadcast("expand", x, tuple(target))


@declare(method=True)
def repeat(x: Tensor, *repeats: int | tuple[int, ...]) -> Tensor:
    """PyTorch's repeat (np.tile): x tiled `repeats[i]` times along axis i, new leading axes for
    extra repeats; built from reshape and broadcast_to, so gradient: g summed over the tiles."""
    repeats = _sizes("repeat", repeats)
    if len(repeats) < x.ndim:
        raise ShapeError(f"repeat: {len(repeats)} repeats {repeats} for a tensor of shape "
                         f"{x.shape}; give at least one per axis ({x.ndim})")
    if any(r < 0 for r in repeats):
        raise ShapeError(f"repeat: repeats must be >= 0, got {repeats}")
    shape = (1,) * (len(repeats) - x.ndim) + x.shape
    interleaved = tuple(v for n in shape for v in (1, n))
    tiled = tuple(v for r, n in zip(repeats, shape) for v in (r, n))
    spread = _broadcast("repeat", _reshape_to(x, interleaved), tiled)
    return _reshape_to(spread, tuple(r * n for r, n in zip(repeats, shape)))


@declare(check=False)  # the engine's own hot path (every broadcast gradient): checked there
def sum_to(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """`g` summed down to `shape`, leading axes then size-1 axes: the adjoint of broadcasting
    (what the engine does to every cotangent); gradient: g broadcast back."""
    if not isinstance(g, Tensor) or not isinstance(shape, (tuple, list)):
        raise ArgumentError(f"sum_to: expects a Tensor and a shape (a tuple of ints), got "
                            f"{type(g).__name__} and {shape!r}")
    shape = tuple(shape)
    if g.shape == shape:
        return g
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))
               and n >= 0 for n in shape):
        raise ArgumentError(f"sum_to: shape must be a tuple of sizes (ints >= 0), got {shape!r}")
    from .reduction import _sum

    lead = g.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"sum_to: gradient of shape {g.shape} has fewer axes than {shape}")
    if any(n not in (1, m) for n, m in zip(shape, g.shape[lead:])):
        raise ShapeError(f"sum_to: shape {g.shape} does not broadcast from {shape}, so it "
                         f"cannot be summed down to it")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    return _reshape_to(g, shape)


def expand_reduced(g: Tensor, ndim: int, axis, keepdims: bool) -> Tensor:
    """Re-insert the axes a reduction removed, so `g` broadcasts against the reduction's input."""
    if keepdims:
        return g
    if axis is None:
        return _reshape_to(g, (1,) * ndim)
    shape = list(g.shape)
    for a in axis:
        shape.insert(a, 1)
    return _reshape_to(g, tuple(shape))


# ----- indexing ---------------------------------------------------------------------------------
def _check_int_index(index, shape) -> None:
    """A Python int beyond int64 would be an OverflowError deep in NumPy: name the axis instead."""
    parts = index if isinstance(index, tuple) else (index,)
    axis = 0
    for part in parts:
        if part is None:
            continue
        if isinstance(part, int) and not isinstance(part, bool) and axis < len(shape):
            if not -shape[axis] <= part < shape[axis]:
                raise IndexError(f"getitem: index {part} is out of range for axis {axis} with "
                                 f"size {shape[axis]} (valid: {-shape[axis]} to "
                                 f"{shape[axis] - 1})")
        elif not isinstance(part, slice):
            return  # ..., arrays and masks: NumPy checks what follows them
        axis += 1


def _freeze_index(index):
    """Tensors in an index become arrays (indices carry no gradient)."""
    if isinstance(index, tuple):
        return tuple(_freeze_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        try:
            array = np.asarray(index)
        except ValueError as error:  # ragged: [1, [2]]
            raise ArgumentError(f"getitem: the index list {index!r} is not a valid index "
                                f"(ragged nesting: {error})") from None
        # [] selects nothing, as in NumPy
        return array.astype(np.intp) if array.size == 0 else array
    if isinstance(index, np.integer):
        return int(index)
    return index


def _device_index(index, device):
    """`index` for a non-NumPy namespace: NumPy arrays moved to `device`; a basic index gets a
    trailing `...` (the array API wants every axis indexed: `x[0]` of a matrix is `x[0, ...]`)."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(device.asarray(p) if isinstance(p, np.ndarray) else p for p in parts)
    if backend.is_basic_index(parts) and not any(p is Ellipsis for p in parts):
        return parts + (Ellipsis,)
    return parts if isinstance(index, tuple) else parts[0]


_scatter: Primitive = primitive("index_add", symbol="scatter",
                     forward=lambda xp, g, *, index, shape:
                     backend.scatter_add(xp, shape, index, g),
                     vjp=lambda gg, out, g, *, index, shape: (_getitem(gg, index=index),))

_getitem: Primitive = primitive("getitem", symbol="[]",
                     forward=lambda xp, x, *, index: backend.take_index(xp, x, index),
                     vjp=lambda g, out, x, *, index: (_scatter(g, index=index, shape=x.shape),))


def _index(x: Tensor, index) -> Tensor:
    """x[index] (the `[]` operator's path: no declaration wrapper)."""
    index = _freeze_index(index)
    _check_int_index(index, x.shape)
    if x.device is not backend.CPU:
        index = _device_index(index, x.device)
    return _getitem(x, index=index)


@declare
def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index]: NumPy indexing and slicing (ints, slices, None, ..., int arrays, bool masks,
    Tensors as indices); gradient: g scattered back, repeated indices accumulate."""
    return _index(x, index)


def _split_at(x: Tensor, axis: int, sizes: Sequence[int]) -> tuple[Tensor, ...]:
    parts, start = [], 0
    for n in sizes:
        parts.append(_index(x, (slice(None),) * axis + (slice(start, start + n),)))
        start += n
    return tuple(parts)


@declare(method=True)
def split(x: Tensor, split_size_or_sections: int | tuple[int, ...],
          dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's split: pieces of `split_size_or_sections` along `dim` (the last one smaller if
    it does not divide), or pieces of the given sizes, which must add up to the axis size; each
    piece is a slice, so gradient: g placed back."""
    axis = check_axis(dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = tuple(split_size_or_sections)
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} must be >= 0 and add up to {n}, the size of "
                             f"axis {axis} of shape {x.shape}")
    else:
        size = split_size_or_sections
        if size <= 0:
            raise ShapeError(f"split: split_size must be a positive int, got {size}")
        sizes = tuple(min(size, n - start) for start in range(0, n, size)) or (0,)
    return _split_at(x, axis, sizes)


@declare(method=True)
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's chunk: at most `chunks` pieces of ceil(n / chunks) along `dim` (fewer when they
    run out, as there); gradient: g placed back."""
    if chunks <= 0:
        raise ShapeError(f"chunk: chunks must be a positive int, got {chunks}")
    axis = check_axis(dim, x.ndim, "chunk")
    size = -(-x.shape[axis] // chunks)
    return split(x, max(size, 1), axis)



# ----- padding and joining ----------------------------------------------------------------------
def _unpad_index(pad_width):
    return tuple(slice(before, -after if after else None) for before, after in pad_width)


_pad: Primitive = primitive("pad", symbol="pad",
                 forward=lambda xp, x, *, pad_width, value: backend.pad(xp, x, pad_width, value),
                 vjp=lambda g, out, x, *, pad_width, value:
                 (_getitem(g, index=_unpad_index(pad_width)),))


def _pad_widths(x: Tensor, pad_width) -> tuple[tuple[int, int], ...]:
    flat = np.asarray(pad_width, dtype=object).ravel().tolist() \
        if isinstance(pad_width, (tuple, list)) else [pad_width]
    for v in flat:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise ArgumentError(
                f"pad: pad_width must be ints (an int, a (before, after) pair, or one pair per "
                f"axis), got {v!r} ({type(v).__name__}) in {pad_width!r}; no silent truncation")
    try:
        pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except (ValueError, OverflowError) as error:  # OverflowError: a width beyond int64
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}: "
                         f"give an int, a (before, after) pair, or {x.ndim} pairs") from error
    widths = tuple((int(p[0]), int(p[1])) for p in pairs)
    if any(v < 0 for p in widths for v in p):
        raise ShapeError(f"pad: negative padding {widths} for shape {x.shape}")
    return widths


@declare
def pad(x: Tensor, pad_width: int | tuple[int, ...] | tuple[tuple[int, int], ...],
        value: float = 0.0) -> Tensor:
    """Constant padding with `value` (np.pad's mode="constant"); `pad_width` as in NumPy: an
    int, a (before, after) pair, or one pair per axis; gradient: g with the border cut off."""
    return _pad(x, pad_width=_pad_widths(x, pad_width), value=_pad_value(x, value))


def _pad_value(x: Tensor, value) -> float | int:
    """A float for a floating tensor (NumPy's overflow to inf included); for an integer or bool
    tensor a whole number it can hold: NumPy truncated 2.5 to 2 without a word and raised an
    OverflowError naming no operation for 1e308."""
    xp, dtype = x.device.xp, x.data.dtype
    if backend.is_floating(xp, dtype):
        return float(value)
    name = backend.dtype_name(dtype)
    if name == "bool":
        low, high = 0, 1
    else:
        info = xp.iinfo(dtype)
        low, high = int(info.min), int(info.max)
    whole = isinstance(value, (int, np.integer)) or float(value).is_integer()
    if not whole or not low <= value <= high:
        raise DtypeError(f"pad: value {value!r} does not fit the {name} tensor of shape "
                         f"{x.shape}; give a whole number in [{low}, {high}], or pad a "
                         f"floating copy (x.astype('float32'))")
    return int(value)


def _concatenate_vjp(g, out, *xs, axis):
    grads, start = [], 0
    for x in xs:
        index = (slice(None),) * axis + (slice(start, start + x.shape[axis]),)
        grads.append(_getitem(g, index=index))
        start += x.shape[axis]
    return tuple(grads)


_concatenate: Primitive = primitive("concatenate", symbol="concat",
                         forward=lambda xp, *xs, axis: xp.concat(xs, axis=axis),
                         vjp=_concatenate_vjp)


def _concatenated(op: str, tensors: list, axis: int) -> Tensor:
    if not tensors:
        raise ShapeError(f"{op}: needs at least one tensor")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError(f"{op}: 0-d tensors have no axis to join along; use stack")
    axis = check_axis(axis, ndim, op)
    rest = tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]
    for t in tensors:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != rest:
            shapes = ", ".join(str(u.shape) for u in tensors)
            raise ShapeError(f"{op}: shapes {shapes} differ outside axis {axis}")
    return _concatenate(*tensors, axis=axis)


@declare
def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Tensors joined along an existing axis `axis`/`dim` (np.concatenate, torch.cat, alias
    gg.cat); gradient: each input gets its slice of g."""
    return _concatenated("concatenate", list(tensors),
                         resolve_axis("concatenate", axis if dim is None else None, dim))


cat = concatenate  # PyTorch's name


@declare
def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Tensors of one shape joined along a new axis `axis`/`dim` (np.stack, torch.stack);
    gradient: each input gets its slice of g."""
    tensors = list(tensors)
    axis = resolve_axis("stack", axis if dim is None else None, dim)
    if not tensors:
        raise ShapeError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    axis = check_axis(axis, tensors[0].ndim + 1, "stack")
    return _concatenated("stack", [_expand_dims("stack", t, axis) for t in tensors], axis)


# ----- copies, dtype and device -----------------------------------------------------------------
_clone: Primitive = primitive("clone", symbol="copy",
                   forward=lambda xp, x: xp.asarray(x, copy=True),
                   vjp=lambda g, out, x: (g,),
                   doc="a copy of the values: a new node, the gradient passes through")


@declare(method=True)
def clone(x: Tensor) -> Tensor:
    """A copy as a new node of the graph (torch.clone, np.copy); gradient: g unchanged."""
    return _clone(x)


_astype: Primitive = primitive("astype", symbol="cast",
                    forward=lambda xp, x, *, dtype: xp.astype(x, backend.resolve_dtype(xp, dtype)),
                    vjp=lambda g, out, x, *, dtype:
                    (_astype(g, dtype=backend.dtype_name(x.dtype)),),
                    mixed_dtypes=True)


def _cast(x: Tensor, dtype) -> Tensor:
    try:
        dtype = backend.dtype_name(dtype)
    except (TypeError, ValueError, SyntaxError):  # NumPy's message names neither op nor choices
        raise DtypeError(f"astype: {dtype!r} is not a dtype; use a name such as 'float32', "
                         f"'float64', 'int64', 'bool' or a NumPy dtype") from None
    if backend.dtype_name(x.dtype) == dtype:
        return x
    return _astype(x, dtype=dtype)


@declare(method=True)
def astype(x: Tensor, dtype: str | np.dtype | type) -> Tensor:
    """x converted to `dtype` (ndarray.astype; torch's x.to(dtype)); x itself when it already
    has it; gradient: g converted back to x's dtype."""
    return _cast(x, dtype)


def _declare_cast(name: str, dtype: str, torch_dtype: str) -> Callable[..., Tensor]:
    def cast(x: Tensor) -> Tensor:
        return _cast(x, dtype)

    cast.__name__ = name
    # a method only: found (by help() and the API reference) where it lives, on Tensor
    cast.__qualname__ = f"Tensor.{name}"
    cast.__module__ = Tensor.__module__
    cast.__doc__ = (f"x as {dtype} (PyTorch's x.{name}(), torch.{torch_dtype}; astype({dtype!r}));"
                    f" gradient: g converted back to x's dtype.")
    return declare(cast, name=f"Tensor.{name}", method=name)


# methods only: module functions named float, int, bool would shadow Python's
for _name, _dtype, _torch in (("float", "float32", "float32"), ("double", "float64", "float64"),
                              ("long", "int64", "int64"), ("int", "int32", "int32"),
                              ("bool", "bool", "bool")):
    _declare_cast(_name, _dtype, _torch)


def _to_device_forward(xp, x, *, device):
    return device.asarray(backend.to_numpy(x) if backend.device_of(x) is not device else x)


def _to_device_vjp(g, out, x, *, device):
    return (to_device(g, device=x.device),)


_to_device: Primitive = primitive("to_device", symbol="to",
                       forward=_to_device_forward, vjp=_to_device_vjp)


@declare
def to_device(x: Tensor, device: Device) -> Tensor:
    """A copy on another device, the only op whose output lives elsewhere than its input
    (x.to(device)); gradient: g moved back."""
    if not isinstance(device, (str, backend.Device)):
        raise ArgumentError(f"to_device: device must be a Device or a name such as 'cpu', "
                            f"'cuda:0' or 'strict', got {device!r} ({type(device).__name__})")
    device = backend.get_device(device)
    out = _to_device(x, device=device)
    out.device = device
    return out
