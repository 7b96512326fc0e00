"""Convolution kernels on arrays: the three linear maps of one convolution.

Shapes: x (N, C, *in), w (O, C/G, *kernel), y (N, O, *out); G groups; K = prod(kernel),
L = prod(out). The three kernels are each other's adjoints:

    conv_forward:        y  = W @ unfold(x)
    conv_input_grad:     x' = fold(W^T @ y')          (= conv_transpose)
    conv_weight_grad:    W' = y' @ unfold(x)^T

Generic path (any array-API namespace, any groups): the (C*K, N*L) window matrix and one matmul
per group; `fold` for the input gradient.

NumPy fast path (groups = 1, floating point, and a channels-last window row, kernel_w * C
elements, at least as long as an output row): everything is channels-last, (N*L, K*C) windows
times a (K*C, O) kernel matrix. The long N*L axis stays the matmuls' row axis (OpenBLAS splits
it well across threads; a 64-row product on the left does not), and the transposed operands are
views BLAS reads as they lie:

    forward:         y_last (N*L, O)   = windows (N*L, K*C) @ W^T (K*C, O)
    weight gradient: W'^T   (K*C, O)   = windows^T           @ y'^T (N*L, O)
    input gradient:  with stride 1 and O <= C, the forward again: a correlation of y' with the
                     flipped, transposed kernel (K strided adds of a fold cost more than the
                     window copy); else the generic matmul + fold

The window matrix is copied into the reused scratch buffer (`window_arrays._scratch`), which
remembers whose windows it holds: the weight gradient computed right after the forward (the conv
VJP computes it first) reuses the forward's window matrix instead of copying the windows again.
Peak memory stays one window matrix plus a few activation-sized arrays.
"""

from __future__ import annotations

import math

import numpy as np

from .window_arrays import (WindowGeometry, _is_numpy, _scratch, crop_spatial, fold,
                            remember_windows, remembered_windows, unfold, window_geometry)


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


def conv_forward(xp, x, w, geometry: WindowGeometry, groups: int = 1):
    """Cross-correlation of x (N, C, *in) with w (O, C/G, *kernel): (N, O, *out)."""
    if _channels_last_pays(x, x.shape[1], geometry, groups):
        return _conv_forward_channels_last(x, w, geometry)
    n = x.shape[0]
    cols = unfold(xp, x, geometry, layout="ckn", scratch=True)
    cols = xp.reshape(cols, (groups, -1, n * math.prod(geometry.out_size)))  # (G, C/G*K, N*L)
    y = xp.matmul(_as_groups(xp, w, groups), cols)                          # (G, O/G, N*L)
    del cols
    y = xp.reshape(y, (w.shape[0], n) + geometry.out_size)
    return _ascontiguous(xp, _channels_first(xp, y))


def conv_input_grad(xp, y, w, geometry: WindowGeometry, groups: int = 1):
    """Adjoint of `conv_forward` in x: y (N, O, *out) -> (N, C, *in) (= transposed conv).

    NumPy, stride 1, no more output than input channels: a correlation (of y, padded by
    span - 1 - padding, with the flipped, transposed kernel) that reuses the fast forward (its
    window matrix is O/C times the forward's). Otherwise matmul + fold.
    """
    if _is_numpy(y) and all(s == 1 for s in geometry.stride) and w.shape[0] <= w.shape[1] * groups:
        return _conv_input_grad_as_correlation(y, w, geometry, groups)
    n = y.shape[0]
    y_cf = _as_groups(xp, _ascontiguous(xp, _channels_first(xp, y)), groups)  # (G, O/G, N*L)
    w_g = _as_groups(xp, w, groups)                                             # (G, O/G, C/G*K)
    w_t = xp.permute_dims(w_g, (0, 2, 1))
    if _is_numpy(y_cf) and y.dtype.kind == "f":  # the window matrix goes to the reused scratch
        cols = np.matmul(w_t, y_cf, out=_scratch(
            (groups, w_t.shape[1], y_cf.shape[2]), np.result_type(w_t, y_cf)))
    else:
        cols = xp.matmul(w_t, y_cf)                                             # (G, C/G*K, N*L)
    c = w.shape[1] * groups
    cols = xp.reshape(cols, (c,) + geometry.kernel + (n,) + geometry.out_size)
    return _ascontiguous(xp, fold(xp, cols, geometry, layout="ckn"))


def conv_weight_grad(xp, x, y, geometry: WindowGeometry, groups: int = 1):
    """Adjoint of `conv_forward` in w: x (N, C, *in), y (N, O, *out) -> (O, C/G, *kernel)."""
    if _channels_last_pays(x, x.shape[1], geometry, groups):
        return _conv_weight_grad_channels_last(x, y, geometry)
    c = x.shape[1]
    cols = unfold(xp, x, geometry, layout="ckn", scratch=True)
    cols_g = xp.reshape(cols, (groups, -1, x.shape[0] * math.prod(geometry.out_size)))
    y_cf = _as_groups(xp, _ascontiguous(xp, _channels_first(xp, y)), groups)  # (G, O/G, N*L)
    w = xp.matmul(y_cf, xp.permute_dims(cols_g, (0, 2, 1)))                     # (G, O/G, C/G*K)
    return xp.reshape(w, (y.shape[1], c // groups) + geometry.kernel)


# ----- NumPy channels-last fast path ---------------------------------------------------------


def _channels_last_pays(a, channels: int, geometry: WindowGeometry, groups: int) -> bool:
    """Channels-last copies runs of kernel_w * C elements, channels-first runs of out_w."""
    if not _is_numpy(a) or groups != 1 or a.dtype.kind != "f":
        return False
    run_channels_last = geometry.kernel[-1] * channels if geometry.dilation[-1] == 1 \
        else channels
    return run_channels_last >= geometry.out_size[-1]


def _padded_size(geometry: WindowGeometry) -> tuple[int, ...]:
    return tuple(s + lo + hi for s, (lo, hi) in zip(geometry.in_size, geometry.padding))


def _windows_channels_last(x, geometry: WindowGeometry, reuse: bool = False):
    """x (N, C, *in) -> scratch window matrix (N*L, K*C), columns ordered (*kernel, C).

    `reuse=True` (the weight gradient) takes the scratch buffer's content when it still holds
    these windows of this very x array; a forward always copies them afresh (numerical gradient
    checks perturb their input arrays in place between forwards).
    """
    key = ("channels_last", geometry)
    cols = remembered_windows(x, key) if reuse else None
    if cols is not None:
        return cols
    n, c = x.shape[0], x.shape[1]
    nd = len(geometry.kernel)
    padded = np.zeros((n,) + _padded_size(geometry) + (c,), x.dtype)
    padded[(slice(None),) + tuple(
        slice(lo, lo + s) for s, (lo, _) in zip(geometry.in_size, geometry.padding))] = \
        np.moveaxis(x, 1, -1)
    st = padded.strides
    view = np.lib.stride_tricks.as_strided(
        padded,
        (n,) + geometry.out_size + geometry.kernel + (c,),
        (st[0],) + tuple(t * s for t, s in zip(st[1:1 + nd], geometry.stride))
        + tuple(t * d for t, d in zip(st[1:1 + nd], geometry.dilation)) + (st[-1],),
        writeable=False,
    )
    cols = _scratch(view.shape, x.dtype)
    np.copyto(cols, view)
    cols = cols.reshape(n * math.prod(geometry.out_size), -1)
    remember_windows(x, key, cols)
    return cols


def _kernel_matrix(w):
    """w (O, C, *kernel) -> (O, K*C), columns ordered (*kernel, C) like the window matrix."""
    return np.moveaxis(w, 1, -1).reshape(w.shape[0], -1)


def _conv_forward_channels_last(x, w, geometry: WindowGeometry):
    n = x.shape[0]
    cols = _windows_channels_last(x, geometry)                       # (N*L, K*C)
    y = cols @ _kernel_matrix(w).T                                   # (N*L, O)
    y = y.reshape((n,) + geometry.out_size + (w.shape[0],))
    return np.ascontiguousarray(np.moveaxis(y, -1, 1))


def _conv_weight_grad_channels_last(x, y, geometry: WindowGeometry):
    nd, c, o = len(geometry.kernel), x.shape[1], y.shape[1]
    cols = _windows_channels_last(x, geometry, reuse=True)           # (N*L, K*C)
    y_mat = np.ascontiguousarray(np.moveaxis(y, 1, 0)).reshape(o, -1)  # (O, N*L): runs of L
    w_t = cols.T @ y_mat.T                                           # (K*C, O), BLAS transposes
    w_t = w_t.reshape(geometry.kernel + (c, o))
    return np.ascontiguousarray(np.transpose(w_t, (nd + 1, nd) + tuple(range(nd))))


def _conv_input_grad_as_correlation(y, w, geometry: WindowGeometry, groups: int):
    nd = len(geometry.kernel)
    o, c_g = w.shape[0], w.shape[1]
    # w (G*O/G, C/G, *k) -> flipped, transposed (G*C/G, O/G, *k)
    flipped = w[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
    w_t = flipped.reshape((groups, o // groups, c_g) + geometry.kernel)
    w_t = np.ascontiguousarray(np.swapaxes(w_t, 1, 2)).reshape(
        (groups * c_g, o // groups) + geometry.kernel)
    pads, crops = [], []
    for k, d, (lo, hi) in zip(geometry.kernel, geometry.dilation, geometry.padding):
        span = d * (k - 1)
        pads.append((max(span - lo, 0), max(span - hi, 0)))
        crops.append((max(lo - span, 0), max(hi - span, 0)))
    y = crop_spatial(y, tuple(crops))
    transposed = WindowGeometry(
        tuple(y.shape[2:]), geometry.kernel, (1,) * nd, tuple(pads), geometry.dilation,
        geometry.in_size, (True,) * nd)
    return conv_forward(np, y, w_t, transposed, groups)


# --------------------------------------------------------------------------------------------
# Reference: a direct loop, for tests (never used by the library)
# --------------------------------------------------------------------------------------------


def reference_conv(x: np.ndarray, w: np.ndarray, b=None, stride=1, padding=0, dilation=1,
                   groups: int = 1) -> np.ndarray:
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


def im2col_bytes(x_shape, w_shape, geometry: WindowGeometry, itemsize: int) -> int:
    """Size of the (C*K, N*L) window matrix a conv of this geometry needs, in bytes."""
    n, c = x_shape[0], x_shape[1]
    return n * c * math.prod(geometry.kernel) * math.prod(geometry.out_size) * itemsize
