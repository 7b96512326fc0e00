"""Pooling kernels on arrays: loops over the kernel offsets on strided views, no window copy.

For one kernel offset, `x[_window_slices(offset)]` is a strided view with one element per output
(the element at that offset of every window): max pooling is K element-wise maxima of such views,
sum pooling K additions. This is also the fast path for non-overlapping windows (a reshape to
(N, C, OH, kh, OW, kw) and a reduction over the kernel axes is several times slower in NumPy).

Gradients: `window_spread` adds each output value to its whole window; `max_route` sends it to the
window's winners, tied winners sharing it equally (the max gate's rule, docs/tie_rules.md). The
winner masks are computed once per offset. When no two windows overlap (stride >= kernel span),
each input element receives at most one value, so both write into strided views instead of adding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Array
from .window_arrays import (
    Pairs,
    WindowGeometry,
    _is_numpy,
    _offsets,
    _window_slices,
    _zeros,
    crop_spatial,
    pad_spatial,
)

_LEAD = (slice(None), slice(None))


def _padded_shape(y, geometry: WindowGeometry) -> tuple[int, ...]:
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(geometry.in_size, geometry.padding))
    return tuple(y.shape[:2]) + padded


def _overlap_free(geometry: WindowGeometry) -> bool:
    """No padded input element lies in two windows."""
    return all(s >= d * (k - 1) + 1
               for s, d, k in zip(geometry.stride, geometry.dilation, geometry.kernel))


def _covers_all(geometry: WindowGeometry) -> bool:
    """Windows tile the padded input exactly: every element lies in exactly one window."""
    return all(s == k and d == 1 and exact for s, d, k, exact in
               zip(geometry.stride, geometry.dilation, geometry.kernel, geometry.exact))


def _scatter_target(xp, y, geometry: WindowGeometry):
    """The padded array a gradient is scattered into, and whether to write (not add) into it.

    NumPy and no overlap: each element gets at most one value, so a write suffices, and the
    array need not even be zeroed when the windows cover it all.
    """
    shape = _padded_shape(y, geometry)
    if _is_numpy(y) and _overlap_free(geometry):
        if _covers_all(geometry):
            return np.empty(shape, dtype=y.dtype), True
        return np.zeros(shape, dtype=y.dtype), True
    return _zeros(xp, shape, y), False


def _add_into(xp, target, index, value):
    if _is_numpy(target):
        view = target[index]
        np.add(view, value, out=view)
    else:
        target[index] = target[index] + value


def window_sum(xp: Any, x: Array, geometry: WindowGeometry) -> Array:
    """Sum of each window (zero padding): (N, C, *in) -> (N, C, *out)."""
    xp_ = pad_spatial(xp, x, geometry.padding)
    out = None
    for offset in _offsets(geometry.kernel):
        part = xp_[_LEAD + _window_slices(offset, geometry)]
        if out is None:
            out = xp.asarray(part, copy=True) if not _is_numpy(part) else part.copy()
        else:
            _add_into(xp, out, (...,), part)
    return out


def window_spread(xp: Any, y: Array, geometry: WindowGeometry) -> Array:
    """Adjoint of `window_sum`: every output value added to all positions of its window."""
    target, write = _scatter_target(xp, y, geometry)
    for offset in _offsets(geometry.kernel):
        index = _LEAD + _window_slices(offset, geometry)
        if write:
            target[index] = y
        else:
            _add_into(xp, target, index, y)
    return crop_spatial(target, geometry.padding)


def pad_spatial_value(xp: Any, x: Array, padding: Pairs, value: float) -> Array:
    """Constant padding of the trailing axes with `value` (-inf for max pooling)."""
    if not any(lo or hi for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    shape = tuple(x.shape[:lead]) + tuple(
        n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], padding))
    if _is_numpy(x):
        out = np.full(shape, value, dtype=x.dtype)
    else:
        out = xp.full(shape, value, dtype=x.dtype, device=x.device)
    out[(slice(None),) * lead + tuple(
        slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], padding))] = x
    return out


# ----- NumPy, 2-d windows that tile the image (MaxPool2d(2)): whole-array passes -------------
# The general kernels take one strided pass per kernel offset; on small images those passes
# run NumPy's inner loop a few elements at a time (LeNet's 8x8 -> 4x4: 4 elements), and cost
# 5-8x a contiguous pass. Here rows are combined with runs a whole image row long, columns
# with one long 1-d strided run, and the backward upsamples with `np.repeat` and compares
# contiguous arrays (LeNet's pooling backward: about 150 us instead of 430).


def _tiles_2d(x, geometry: WindowGeometry) -> bool:
    """NumPy, two spatial axes, stride == kernel, no padding or dilation, no leftover rows."""
    return (_is_numpy(x) and len(geometry.kernel) == 2 and geometry.stride == geometry.kernel
            and geometry.dilation == (1, 1) and all(geometry.exact)
            and not any(lo or hi for lo, hi in geometry.padding))


def _combine_tiles(op, a, geometry: WindowGeometry):
    """op (np.maximum, np.add) over each window of a (N, C, H, W): (N*C*Ho*Wo,) flat."""
    kh, kw = geometry.kernel
    rows = a.reshape(-1, kh, a.shape[-1])
    acc = rows[:, 0]
    for i in range(1, kh):
        acc = op(acc, rows[:, i])
    flat = acc.reshape(-1)
    out = flat[0::kw]
    for j in range(1, kw):
        out = op(out, flat[j::kw])
    return out


def _upsample_tiles(a, geometry: WindowGeometry, shape):
    """Each window's value repeated over the window: (N, C, Ho, Wo) -> shape (N, C, H, W)."""
    kh, kw = geometry.kernel
    columns = np.repeat(a.reshape(-1), kw).reshape(-1, shape[-1])
    return np.repeat(columns, kh, axis=0).reshape(shape)


def _max_route_tiles(g, x, out, geometry: WindowGeometry):
    hit = x == _upsample_tiles(out, geometry, x.shape)
    share = g
    if np.count_nonzero(hit) != out.size or np.isnan(out).any():  # ties (or NaN windows)
        share = g / _combine_tiles(np.add, hit.astype(g.dtype), geometry).reshape(g.shape)
    return np.multiply(hit, _upsample_tiles(share, geometry, x.shape))


def window_max(xp: Any, x: Array, geometry: WindowGeometry) -> Array:
    """Largest element of each window; padding never wins (it is -inf)."""
    if _tiles_2d(x, geometry):
        return _combine_tiles(np.maximum, x, geometry).reshape(
            tuple(x.shape[:2]) + geometry.out_size)
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    out = None
    for offset in _offsets(geometry.kernel):
        part = xp_[_LEAD + _window_slices(offset, geometry)]
        if out is None:
            out = part.copy() if _is_numpy(part) else xp.asarray(part, copy=True)
        elif _is_numpy(out):
            np.maximum(out, part, out=out)
        else:
            out = xp.maximum(out, part)
    return out


def _winners(xp, x, out, geometry: WindowGeometry):
    """Per kernel offset: (index into the padded x, mask of the windows it wins); and the count
    of winners per window, in out's dtype (1 except at ties)."""
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    masks, count = [], None
    for offset in _offsets(geometry.kernel):
        index = _LEAD + _window_slices(offset, geometry)
        hit = xp_[index] == out
        masks.append((index, hit))
        if count is None:
            count = xp.astype(hit, out.dtype)
        elif _is_numpy(count):
            np.add(count, hit, out=count)
        else:
            count = count + xp.astype(hit, out.dtype)
    return masks, count


def max_route(xp: Any, g: Array, x: Array, out: Array, geometry: WindowGeometry) -> Array:
    """Gradient of window_max: each window's g goes to its winners (tied winners share it)."""
    if _tiles_2d(x, geometry) and _is_numpy(g):
        return _max_route_tiles(g, x, out, geometry)
    masks, count = _winners(xp, x, out, geometry)
    share = g / count
    target, write = _scatter_target(xp, g, geometry)
    zero = xp.zeros((), dtype=g.dtype) if not _is_numpy(g) else g.dtype.type(0)
    for index, hit in masks:
        if write:
            np.multiply(hit, share, out=target[index])
        else:
            _add_into(xp, target, index, xp.where(hit, share, zero))
    return crop_spatial(target, geometry.padding)


def max_gather(xp: Any, z: Array, x: Array, out: Array, geometry: WindowGeometry) -> Array:
    """Adjoint of `max_route` in g: each window's winners' z, averaged over the winners."""
    masks, count = _winners(xp, x, out, geometry)
    zp = pad_spatial(xp, z, geometry.padding)
    total = None
    zero = xp.zeros((), dtype=z.dtype) if not _is_numpy(z) else z.dtype.type(0)
    for index, hit in masks:
        part = xp.where(hit, zp[index], zero)
        total = part if total is None else total + part
    return total / count


def max_indices(xp: Any, x: Array, geometry: WindowGeometry) -> Array:
    """Flat index (into the unpadded spatial axes) of each window's first largest element.

    These are the "switches" of a deconvnet (PyTorch's return_indices convention).
    """
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    best = best_index = None
    nd = len(geometry.kernel)
    for offset in _offsets(geometry.kernel):
        part = xp_[_LEAD + _window_slices(offset, geometry)]
        flat = None
        for axis in range(nd):
            start = offset[axis] * geometry.dilation[axis] - geometry.padding[axis][0]
            positions = xp.arange(geometry.out_size[axis], device=getattr(x, "device", None)) \
                * geometry.stride[axis] + start
            shape = [1] * (nd + 2)
            shape[2 + axis] = geometry.out_size[axis]
            positions = xp.reshape(positions, tuple(shape))
            flat = positions if flat is None else flat * geometry.in_size[axis] + positions
        if best is None:
            best = part
            best_index = xp.broadcast_to(flat, tuple(part.shape))
        else:
            better = part > best
            best = xp.where(better, part, best)
            best_index = xp.where(better, flat, best_index)
    return xp.astype(best_index, xp.int64)
