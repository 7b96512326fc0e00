"""Convolution kernels on arrays: the three linear maps of one convolution.

Shapes: x (N, C, *in), w (O, C/G, *kernel), y (N, O, *out); G groups; K = prod(kernel),
L = prod(out). The three kernels are each other's adjoints:

    conv_forward:        y  = W @ unfold(x)
    conv_input_grad:     x' = fold(W^T @ y')          (= conv_transpose)
    conv_weight_grad:    W' = y' @ unfold(x)^T

Generic path (any array-API namespace, any groups): the (C*K, N*L) window matrix and one matmul
per group; `fold` for the input gradient.

NumPy fast paths (floating point, chunks of images on every core): `conv_numpy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import Array
from .conv_numpy import (
    _conv_forward_grid,
    _conv_forward_per_image,
    _conv_input_grad_as_correlation,
    _conv_input_grad_by_offsets,
    _conv_weight_grad_per_image,
    _grid_pays,
    _input_grad_path,
    _numpy_float,
    _per_image_pays,
)
from .window_arrays import WindowGeometry, _is_numpy, _scratch, fold, unfold, window_geometry


def _as_groups(xp, array, groups: int):
    """(A, ...) -> (G, A/G, prod(...)) without copying when already contiguous."""
    return xp.reshape(array, (groups, array.shape[0] // groups, -1))


def _channels_first(xp, y):
    """(N, O, *out) -> (O, N, *out) (a copy: the matmul wants O leading)."""
    return xp.permute_dims(y, (1, 0) + tuple(range(2, y.ndim)))


def _ascontiguous(xp, a):
    if _is_numpy(a):
        return np.ascontiguousarray(a)
    return a  # array-API namespaces decide their own layout; reshape copies when needed


def conv_forward(xp: Any, x: Array, w: Array, geometry: WindowGeometry, groups: int = 1) -> Array:
    """Cross-correlation of x (N, C, *in) with w (O, C/G, *kernel): (N, O, *out)."""
    if _per_image_pays(x, geometry):
        if _grid_pays(geometry, x.shape[1]):
            return _conv_forward_grid(x, w, geometry, groups)
        return _conv_forward_per_image(x, w, geometry, groups)
    return _conv_forward_generic(xp, x, w, geometry, groups)


def conv_input_grad(xp: Any, y: Array, w: Array, geometry: WindowGeometry,
                    groups: int = 1) -> Array:
    """Adjoint of `conv_forward` in x: y (N, O, *out) -> (N, C, *in) (= transposed conv)."""
    path = _input_grad_path(y, w, geometry, groups)
    if path == "offsets":
        return _conv_input_grad_by_offsets(y, w, geometry)
    if path == "correlation":
        return _conv_input_grad_as_correlation(y, w, geometry, groups)
    return _conv_input_grad_generic(xp, y, w, geometry, groups)


def conv_weight_grad(xp: Any, x: Array, y: Array, geometry: WindowGeometry,
                     groups: int = 1) -> Array:
    """Adjoint of `conv_forward` in w: x (N, C, *in), y (N, O, *out) -> (O, C/G, *kernel)."""
    if groups == 1 and _per_image_pays(x, geometry):
        return _conv_weight_grad_per_image(x, y, geometry)
    return _conv_weight_grad_generic(xp, x, y, geometry, groups)


# ----- generic path (any array-API namespace) -----------------------------------------------


def _conv_forward_generic(xp, x, w, geometry: WindowGeometry, groups: int):
    """The (G, C/G*K, N*L) window matrix and one matmul per group."""
    n = x.shape[0]
    cols = unfold(xp, x, geometry, layout="ckn", scratch=True)
    cols = xp.reshape(cols, (groups, -1, n * math.prod(geometry.out_size)))  # (G, C/G*K, N*L)
    y = xp.matmul(_as_groups(xp, w, groups), cols)                          # (G, O/G, N*L)
    del cols
    y = xp.reshape(y, (w.shape[0], n) + geometry.out_size)
    return _ascontiguous(xp, _channels_first(xp, y))


def _conv_input_grad_generic(xp, y, w, geometry: WindowGeometry, groups: int):
    """W^T @ y' into the (C*K, N*L) window matrix, then fold it back."""
    n = y.shape[0]
    y_cf = _as_groups(xp, _ascontiguous(xp, _channels_first(xp, y)), groups)  # (G, O/G, N*L)
    w_g = _as_groups(xp, w, groups)                                             # (G, O/G, C/G*K)
    w_t = xp.permute_dims(w_g, (0, 2, 1))
    if _numpy_float(y_cf):  # the window matrix goes to the reused scratch
        cols = np.matmul(w_t, y_cf, out=_scratch(
            (groups, w_t.shape[1], y_cf.shape[2]), np.result_type(w_t, y_cf)))
    else:
        cols = xp.matmul(w_t, y_cf)                                             # (G, C/G*K, N*L)
    c = w.shape[1] * groups
    cols = xp.reshape(cols, (c,) + geometry.kernel + (n,) + geometry.out_size)
    return _ascontiguous(xp, fold(xp, cols, geometry, layout="ckn"))


def _conv_weight_grad_generic(xp, x, y, geometry: WindowGeometry, groups: int):
    """y' (G, O/G, N*L) @ the transposed (G, C/G*K, N*L) window matrix."""
    c = x.shape[1]
    cols = unfold(xp, x, geometry, layout="ckn", scratch=True)
    cols_g = xp.reshape(cols, (groups, -1, x.shape[0] * math.prod(geometry.out_size)))
    y_cf = _as_groups(xp, _ascontiguous(xp, _channels_first(xp, y)), groups)  # (G, O/G, N*L)
    w = xp.matmul(y_cf, xp.permute_dims(cols_g, (0, 2, 1)))                     # (G, O/G, C/G*K)
    return xp.reshape(w, (y.shape[1], c // groups) + geometry.kernel)


# --------------------------------------------------------------------------------------------
# Reference: a direct loop, for tests (never used by the library)
# --------------------------------------------------------------------------------------------


def reference_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                   dilation: int | Sequence[int] = 1, groups: int = 1) -> np.ndarray:
    """Cross-correlation by the textbook definition, one output element at a time (slow).

    x: (N, C, *spatial), w: (O, C // groups, *kernel). Written independently of `unfold`/`fold`
    so that tests compare against it.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    geometry = window_geometry("reference_conv", x.shape[2:], w.shape[2:], stride, padding,
                               dilation)
    padded = np.zeros((x.shape[0], x.shape[1]) + tuple(
        n + lo + hi for n, (lo, hi) in zip(x.shape[2:], geometry.padding)))
    padded[(slice(None), slice(None)) + tuple(
        slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], geometry.padding))] = x
    n_out, c_per_group = w.shape[0], w.shape[1]
    o_per_group = n_out // groups
    out = np.zeros((x.shape[0], n_out) + geometry.out_size)
    for index in np.ndindex(*out.shape):
        n, o, pos = index[0], index[1], index[2:]
        group = o // o_per_group
        total = 0.0 if b is None else float(b[o])
        for c in range(c_per_group):
            for k in np.ndindex(*w.shape[2:]):
                where = tuple(p * s + kk * d for p, s, kk, d in
                              zip(pos, geometry.stride, k, geometry.dilation))
                total += padded[(n, group * c_per_group + c) + where] * w[(o, c) + k]
        out[index] = total
    assert out.ndim == nd + 2
    return out


def im2col_bytes(x_shape: Sequence[int], w_shape: Sequence[int], geometry: WindowGeometry,
                 itemsize: int) -> int:
    """Size of the (C*K, N*L) window matrix a conv of this geometry needs, in bytes."""
    n, c = x_shape[0], x_shape[1]
    return n * c * math.prod(geometry.kernel) * math.prod(geometry.out_size) * itemsize
