"""Structural gates: they move, copy or select values without arithmetic.

Each one's VJP is another structural gate (reshape <-> reshape, broadcast <-> sum, getitem <->
scatter-add, pad <-> slice, concatenate <-> slices), so gradients of gradients stay in the graph.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ShapeError, user_site
from .._primitive import primitive
from .._tensor import Tensor

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


# ----- reshape, transpose -----------------------------------------------------------------------
_reshape = primitive("reshape", symbol="reshape",
                     forward=lambda xp, x, *, shape: xp.reshape(x, shape),
                     vjp=lambda g, out, x, *, shape: (_reshape(g, shape=x.shape),))


def reshape(x: Tensor, shape) -> Tensor:
    """NumPy's reshape, with one -1 allowed; the error names both shapes when sizes differ."""
    shape = (shape,) if isinstance(shape, int) else tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: at most one -1 in the new shape {shape}")
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or x.size % known:
            raise ShapeError(f"reshape: cannot reshape shape {x.shape} ({x.size} elements) into "
                             f"{shape} (at {user_site()})")
        shape = tuple(x.size // known if n == -1 else n for n in shape)
    if math.prod(shape) != x.size:
        raise ShapeError(f"reshape: cannot reshape shape {x.shape} ({x.size} elements) into {shape} "
                         f"({math.prod(shape)} elements) (at {user_site()})")
    if shape == x.shape:
        return x
    return _reshape(x, shape=shape)


def _inverse_permutation(axes):
    return tuple(int(i) for i in np.argsort(axes))


_transpose = primitive("transpose", symbol="T",
                       forward=lambda xp, x, *, axes: xp.permute_dims(x, axes),
                       vjp=lambda g, out, x, *, axes: (_transpose(g, axes=_inverse_permutation(axes)),))


def transpose(x: Tensor, axes=None) -> Tensor:
    """NumPy's transpose: reverse the axes, or permute them by `axes`."""
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    axes = tuple(axes)
    if len(axes) != x.ndim:
        raise ShapeError(f"transpose: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}")
    axes = tuple(check_axis(a, x.ndim, "transpose") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}")
    return _transpose(x, axes=axes)


def swapaxes(x: Tensor, axis1: int, axis2: int) -> Tensor:
    axes = list(range(x.ndim))
    axis1, axis2 = check_axis(axis1, x.ndim, "swapaxes"), check_axis(axis2, x.ndim, "swapaxes")
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """PyTorch's flatten: merge axes start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = check_axis(start_dim, x.ndim, "flatten"), check_axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for shape {x.shape}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x: Tensor, axis=None) -> Tensor:
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = {check_axis(a, x.ndim, "squeeze") for a in ((axis,) if isinstance(axis, int) else axis)}
    for a in axes:
        if x.shape[a] != 1:
            raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def expand_dims(x: Tensor, axis: int) -> Tensor:
    axis = check_axis(axis, x.ndim + 1, "expand_dims")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


# ----- broadcasting and its adjoint -------------------------------------------------------------
def _broadcast_vjp(g, out, x, *, shape):
    return (sum_to(g, x.shape),)


_broadcast_to = primitive("broadcast_to", symbol="bcast",
                          forward=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
                          vjp=_broadcast_vjp)


def broadcast_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        fits = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"broadcast_to: shape {x.shape} cannot broadcast to {shape} (each axis of "
                         f"the input must be 1 or match, trailing axes aligned) (at {user_site()})")
    return _broadcast_to(x, shape=shape)


def sum_to(g: Tensor, shape) -> Tensor:
    """Sum `g` down to `shape` (the adjoint of broadcasting): leading axes, then size-1 axes."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    from .reduction import _sum

    lead = g.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"sum_to: gradient of shape {g.shape} has fewer axes than {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    return reshape(g, shape)


def expand_reduced(g: Tensor, ndim: int, axis, keepdims: bool) -> Tensor:
    """Re-insert the axes a reduction removed, so `g` broadcasts against the reduction's input."""
    if keepdims:
        return g
    if axis is None:
        return reshape(g, (1,) * ndim)
    shape = list(g.shape)
    for a in axis:
        shape.insert(a, 1)
    return reshape(g, tuple(shape))


# ----- indexing ---------------------------------------------------------------------------------
def _freeze_index(index):
    """Tensors in an index become arrays (indices carry no gradient)."""
    if isinstance(index, tuple):
        return tuple(_freeze_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        array = np.asarray(index)
        return array.astype(np.intp) if array.size == 0 else array  # [] selects nothing, as in NumPy
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


_scatter = primitive("index_add", symbol="scatter",
                     forward=lambda xp, g, *, index, shape: backend.scatter_add(xp, shape, index, g),
                     vjp=lambda gg, out, g, *, index, shape: (_getitem(gg, index=index),))

_getitem = primitive("getitem", symbol="[]",
                     forward=lambda xp, x, *, index: x[index],
                     vjp=lambda g, out, x, *, index: (_scatter(g, index=index, shape=x.shape),))


def getitem(x: Tensor, index) -> Tensor:
    """NumPy indexing and slicing; the gradient scatters back (repeated indices accumulate)."""
    index = _freeze_index(index)
    if x.device is not backend.CPU:
        index = _device_index(index, x.device)
    return _getitem(x, index=index)


# ----- padding and joining ----------------------------------------------------------------------
def _unpad_index(pad_width):
    return tuple(slice(before, -after if after else None) for before, after in pad_width)


_pad = primitive("pad", symbol="pad",
                 forward=lambda xp, x, *, pad_width, value: backend.pad(xp, x, pad_width, value),
                 vjp=lambda g, out, x, *, pad_width, value: (_getitem(g, index=_unpad_index(pad_width)),))


def pad(x: Tensor, pad_width, value: float = 0.0) -> Tensor:
    """Constant padding; `pad_width` as in NumPy: an int, a (before, after) pair, or one per axis."""
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),) * x.ndim
    pad_width = tuple(tuple(int(v) for v in p) for p in np.broadcast_to(
        np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)))
    if any(v < 0 for p in pad_width for v in p):
        raise ShapeError(f"pad: negative padding {pad_width} for shape {x.shape}")
    return _pad(x, pad_width=pad_width, value=float(value))


def _concatenate_vjp(g, out, *xs, axis):
    grads, start = [], 0
    for x in xs:
        index = (slice(None),) * axis + (slice(start, start + x.shape[axis]),)
        grads.append(_getitem(g, index=index))
        start += x.shape[axis]
    return tuple(grads)


_concatenate = primitive("concatenate", symbol="concat",
                         forward=lambda xp, *xs, axis: xp.concat(xs, axis=axis),
                         vjp=_concatenate_vjp)


def concatenate(tensors, axis: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("concatenate: needs at least one tensor")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("concatenate: 0-d tensors have no axis to join along; use stack")
    axis = check_axis(axis, ndim, "concatenate")
    for t in tensors:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            shapes = ", ".join(str(u.shape) for u in tensors)
            raise ShapeError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return _concatenate(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    axis = check_axis(axis, tensors[0].ndim + 1, "stack")
    return concatenate([expand_dims(t, axis) for t in tensors], axis=axis)


# ----- dtype and device -------------------------------------------------------------------------
_astype = primitive("astype", symbol="cast",
                    forward=lambda xp, x, *, dtype: xp.astype(x, backend.resolve_dtype(xp, dtype)),
                    vjp=lambda g, out, x, *, dtype: (_astype(g, dtype=backend.dtype_name(x.dtype)),),
                    mixed_dtypes=True)


def astype(x: Tensor, dtype) -> Tensor:
    dtype = backend.dtype_name(dtype)
    if backend.dtype_name(x.dtype) == dtype:
        return x
    return _astype(x, dtype=dtype)


def _to_device_forward(xp, x, *, device):
    return device.asarray(backend.to_numpy(x) if backend.device_of(x) is not device else x)


def _to_device_vjp(g, out, x, *, device):
    return (to_device(g, device=x.device),)


_to_device = primitive("to_device", symbol="to",
                       forward=_to_device_forward, vjp=_to_device_vjp)


def to_device(x: Tensor, device) -> Tensor:
    """Copy to another device; the only op whose output lives elsewhere than its input."""
    out = _to_device(x, device=device)
    out.device = device
    return out
