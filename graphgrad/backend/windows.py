"""Sliding windows on arrays: geometry, window extraction (im2col) and its adjoint (col2im).

Convolution and pooling rest on one linear pair. `unfold` copies every kernel-sized window of a
padded, N-d, channels-first input into one array; `fold` is its adjoint: it adds each window back
where it came from (a scatter-add, overlapping windows summing). Everything here works on arrays
and an array namespace `xp`; the graph-level primitives live in `graphgrad/ops/window.py`.

Three spellings of the same copy:
- NumPy: one `as_strided` view of the padded input, copied once into the requested layout;
- any array-API namespace (CuPy, array_api_strict): a loop over the kernel offsets (kh * kw for 2-d)
  with strided slicing, one slice assignment per offset;
- `fold` always loops over the kernel offsets: for one offset the target positions are distinct, so
  `out[slice] += cols[offset]` is a plain strided add on every backend (no `np.add.at`).

Layouts: `"nck"` is (N, C, *kernel, *out) (what the `unfold` primitive returns, reshapeable to
(N, C*K, L)); `"ckn"` is (C, *kernel, N, *out), reshapeable to the (C*K, N*L) matrix of one big
matmul (the fused conv path).
"""

from __future__ import annotations

import itertools
import math
import threading
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import ShapeError

Pairs = tuple[tuple[int, int], ...]


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def normalize_tuple(value, ndim: int, name: str, op: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or a sequence of `ndim` ints as a tuple, each at least `minimum`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * ndim
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if len(values) != ndim or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
        ):
            raise ShapeError(
                f"{op}: {name} must be an int or {ndim} ints (one per spatial axis), got {value!r}"
            )
        values = tuple(int(v) for v in values)
    else:
        raise ShapeError(f"{op}: {name} must be an int or {ndim} ints, got {value!r}")
    for v in values:
        if v < minimum:
            what = "positive" if minimum == 1 else f"at least {minimum}"
            raise ShapeError(f"{op}: {name} must be {what}, got {value!r}")
    return values


def normalize_padding(padding, ndim: int, kernel: Sequence[int], dilation: Sequence[int],
                      stride: Sequence[int], op: str) -> Pairs:
    """Padding as ((lo, hi), ...) per spatial axis.

    Accepts an int, one int per axis, one (lo, hi) pair per axis, `"valid"` (no padding) or `"same"`
    (output size = input size; stride 1 only, the odd pixel goes after, as in PyTorch and
    TensorFlow).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(
                    f"{op}: padding='same' needs stride 1 (got stride {tuple(stride)}); "
                    "give the padding as numbers instead"
                )
            pairs = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        raise ShapeError(
            f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}"
        )
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        if padding < 0:
            raise ShapeError(f"{op}: padding must be non-negative, got {padding}")
        return ((int(padding), int(padding)),) * ndim
    if isinstance(padding, Sequence) and len(padding) == ndim:
        pairs = []
        for p in padding:
            if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
                pair = (int(p), int(p))
            elif isinstance(p, Sequence) and len(p) == 2:
                pair = (int(p[0]), int(p[1]))
            else:
                pair = None
            if pair is None or pair[0] < 0 or pair[1] < 0:
                raise ShapeError(
                    f"{op}: padding must be non-negative ints or (before, after) pairs, "
                    f"got {padding!r}"
                )
            pairs.append(pair)
        return tuple(pairs)
    raise ShapeError(
        f"{op}: padding must be an int, {ndim} ints, {ndim} (before, after) pairs, 'same' or "
        f"'valid', got {padding!r}"
    )


class WindowGeometry(NamedTuple):
    """Everything a sliding-window op needs, normalised and checked.

    `exact[i]` is True when the windows tile axis i exactly: the last window ends on the last
    (padded) element, no row or column is silently dropped by the floor convention.
    """

    in_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: Pairs
    dilation: tuple[int, ...]
    out_size: tuple[int, ...]
    exact: tuple[bool, ...]


def window_geometry(op: str, in_size: Sequence[int], kernel_size, stride=1, padding=0,
                    dilation=1, strict: bool = False) -> WindowGeometry:
    """Normalise and check a window geometry; the error names `op` and the numbers."""
    in_size = tuple(int(n) for n in in_size)
    ndim = len(in_size)
    kernel = normalize_tuple(kernel_size, ndim, "kernel_size", op)
    stride = normalize_tuple(stride, ndim, "stride", op)
    dilation = normalize_tuple(dilation, ndim, "dilation", op)
    pads = normalize_padding(padding, ndim, kernel, dilation, stride, op)
    out, exact = [], []
    for axis, (n, k, s, (lo, hi), d) in enumerate(zip(in_size, kernel, stride, pads, dilation)):
        span = d * (k - 1) + 1
        padded = n + lo + hi
        if span > padded:
            dil = f" (kernel {k} with dilation {d})" if d > 1 else ""
            raise ShapeError(
                f"{op}: kernel spans {span} elements{dil} but the padded input has only "
                f"{padded} along spatial axis {axis} (size {n} + padding {lo}+{hi}); use a "
                f"kernel of at most {padded} or more padding"
            )
        steps, rest = divmod(padded - span, s)
        out.append(steps + 1)
        exact.append(rest == 0)
        if strict and rest:
            fits = [t for t in range(1, padded - span + 1) if (padded - span) % t == 0]
            raise ShapeError(
                f"{op}: stride {s} cannot tile spatial axis {axis}: input {n} + padding {lo}+{hi}"
                f" = {padded}, kernel span {span}: ({padded} - {span}) / {s} = "
                f"{(padded - span) / s:.4g} is not an integer; {rest} element(s) would be left "
                f"over. Strides that tile: {fits or [1]}; or change the padding"
            )
    return WindowGeometry(in_size, kernel, stride, pads, dilation, tuple(out), tuple(exact))


def _offsets(kernel: Sequence[int]):
    return itertools.product(*(range(k) for k in kernel))


def _window_slices(offset, geometry: WindowGeometry) -> tuple[slice, ...]:
    """The slice of the padded input that kernel position `offset` reads for every output."""
    return tuple(
        slice(o * d, o * d + s * (n_out - 1) + 1, s)
        for o, d, s, n_out in zip(offset, geometry.dilation, geometry.stride, geometry.out_size)
    )


def _is_numpy(x) -> bool:
    return isinstance(x, np.ndarray)


def _zeros(xp, shape, like):
    if _is_numpy(like):
        return np.zeros(shape, dtype=like.dtype)
    return xp.zeros(shape, dtype=like.dtype, device=like.device)


def _empty(xp, shape, like):
    if _is_numpy(like):
        return np.empty(shape, dtype=like.dtype)
    return xp.empty(shape, dtype=like.dtype, device=like.device)


def pad_spatial(xp, x, padding: Pairs):
    """Zero padding of the trailing len(padding) axes (no copy when there is none)."""
    if not any(lo or hi for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    shape = tuple(x.shape[:lead]) + tuple(
        n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], padding)
    )
    out = _zeros(xp, shape, x)
    inner = (slice(None),) * lead + tuple(
        slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], padding)
    )
    out[inner] = x
    return out


def crop_spatial(x, padding: Pairs):
    """The inverse of `pad_spatial`: a view without the padding."""
    if not any(lo or hi for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    return x[(slice(None),) * lead + tuple(
        slice(lo, n - hi) for n, (lo, hi) in zip(x.shape[lead:], padding)
    )]


# --------------------------------------------------------------------------------------------
# unfold (im2col) and fold (col2im)
# --------------------------------------------------------------------------------------------


def unfold(xp, x, geometry: WindowGeometry, layout: str = "nck", scratch: bool = False):
    """All windows of `x` (N, C, *spatial): (N, C, *kernel, *out) or, with layout "ckn",
    (C, *kernel, N, *out). Padding is zeros. Output dtype = input dtype. `scratch=True` (NumPy,
    for callers that drop the result before the next call) copies into the reused scratch buffer."""
    nd = len(geometry.kernel)
    if x.ndim != nd + 2:
        raise ShapeError(f"unfold: expected an input with {nd + 2} axes (N, C, *spatial), "
                         f"got shape {tuple(x.shape)}")
    xp_ = pad_spatial(xp, x, geometry.padding)
    n, c = x.shape[0], x.shape[1]
    if _is_numpy(xp_):
        return _unfold_numpy(xp_, geometry, layout, n, c, scratch)
    if layout == "nck":
        out = _empty(xp, (n, c) + geometry.kernel + geometry.out_size, x)
        for offset in _offsets(geometry.kernel):
            out[(slice(None), slice(None)) + offset + (...,)] = xp_[
                (slice(None), slice(None)) + _window_slices(offset, geometry)]
        return out
    out = _empty(xp, (c,) + geometry.kernel + (n,) + geometry.out_size, x)
    swapped = xp.permute_dims(xp_, (1, 0) + tuple(range(2, nd + 2)))
    for offset in _offsets(geometry.kernel):
        out[(slice(None),) + offset + (...,)] = swapped[
            (slice(None), slice(None)) + _window_slices(offset, geometry)]
    return out


def _unfold_numpy(xp_, geometry: WindowGeometry, layout: str, n: int, c: int,
                  scratch: bool = False):
    strides = xp_.strides
    spatial = strides[2:]
    kernel_strides = tuple(st * d for st, d in zip(spatial, geometry.dilation))
    out_strides = tuple(st * s for st, s in zip(spatial, geometry.stride))
    if layout == "nck":
        shape = (n, c) + geometry.kernel + geometry.out_size
        view_strides = (strides[0], strides[1]) + kernel_strides + out_strides
    elif layout == "ckn":
        shape = (c,) + geometry.kernel + (n,) + geometry.out_size
        view_strides = (strides[1],) + kernel_strides + (strides[0],) + out_strides
    else:
        raise ValueError(f"unfold: unknown layout {layout!r}; expected 'nck' or 'ckn'")
    view = np.lib.stride_tricks.as_strided(xp_, shape, view_strides, writeable=False)
    if scratch and xp_.dtype.kind == "f":  # internal to a conv kernel: reuse the scratch buffer
        out = _scratch(shape, xp_.dtype)
        np.copyto(out, view)
        return out
    return np.ascontiguousarray(view)


def fold(xp, cols, geometry: WindowGeometry, layout: str = "nck"):
    """Adjoint of `unfold`: add every window back into a zero (N, C, *in_size) array.

    `cols` is (N, C, *kernel, *out) ("nck") or (C, *kernel, N, *out) ("ckn"). Overlapping
    windows sum; the padding is cropped off at the end.
    """
    nd = len(geometry.kernel)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(geometry.in_size, geometry.padding))
    if layout == "nck":
        n, c = cols.shape[0], cols.shape[1]
        out = _zeros(xp, (n, c) + padded, cols)
        target = out
        lead = (slice(None), slice(None))
        pick = lambda offset: cols[lead + offset + (...,)]  # noqa: E731
    elif layout == "ckn":
        c, n = cols.shape[0], cols.shape[1 + nd]
        out = _zeros(xp, (c, n) + padded, cols)  # (C, N, *padded): matches the cols layout
        target = out
        lead = (slice(None), slice(None))
        pick = lambda offset: cols[(slice(None),) + offset + (...,)]  # noqa: E731
    else:
        raise ValueError(f"fold: unknown layout {layout!r}; expected 'nck' or 'ckn'")
    for offset in _offsets(geometry.kernel):
        index = lead + _window_slices(offset, geometry)
        if _is_numpy(target):
            view = target[index]
            np.add(view, pick(offset), out=view)
        else:
            target[index] = target[index] + pick(offset)
    if layout == "ckn":
        out = xp.permute_dims(out, (1, 0) + tuple(range(2, nd + 2)))
    return crop_spatial(out, geometry.padding)


# --------------------------------------------------------------------------------------------
# Convolution kernels: one big matmul over the (C*K, N*L) window matrix, per group
# --------------------------------------------------------------------------------------------
#
# Shapes: x (N, C, *in), w (O, C/G, *kernel), y (N, O, *out); G groups; K = prod(kernel),
# L = prod(out). The three kernels are the linear maps of a convolution, each other's adjoints:
#   conv_forward:        y  = W @ unfold(x)
#   conv_input_grad:     x' = fold(W^T @ y')          (= conv_transpose)
#   conv_weight_grad:    W' = y' @ unfold(x)^T


def _as_groups(xp, array, groups: int):
    """(A, ...) -> (G, A/G, prod(...)) without copying when already contiguous."""
    return xp.reshape(array, (groups, array.shape[0] // groups, -1))


def _channels_first(xp, y):
    """(N, O, *out) -> (O, N, *out) (a copy: the matmul wants O leading)."""
    return xp.permute_dims(y, (1, 0) + tuple(range(2, y.ndim)))


def conv_forward(xp, x, w, geometry: WindowGeometry, groups: int = 1):
    """Cross-correlation of x (N, C, *in) with w (O, C/G, *kernel): (N, O, *out)."""
    if _channels_last_pays(x, geometry, groups):
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

    With stride 1 on NumPy and no more output than input channels this is itself a correlation (of
    y, padded by span - 1 - padding, with the flipped, transposed kernel), which reuses the fast
    forward; otherwise matmul + fold.
    """
    if _is_numpy(y) and all(s == 1 for s in geometry.stride) and w.shape[0] <= w.shape[1] * groups:
        # its window matrix is O/C times the forward's: only when that is no bigger
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
    if _channels_last_pays(x, geometry, groups):
        return _conv_weight_grad_channels_last(x, y, geometry)
    c = x.shape[1]
    cols = unfold(xp, x, geometry, layout="ckn", scratch=True)
    cols_g = xp.reshape(cols, (groups, -1, x.shape[0] * math.prod(geometry.out_size)))
    y_cf = _as_groups(xp, _ascontiguous(xp, _channels_first(xp, y)), groups)  # (G, O/G, N*L)
    w = xp.matmul(y_cf, xp.permute_dims(cols_g, (0, 2, 1)))                     # (G, O/G, C/G*K)
    return xp.reshape(w, (y.shape[1], c // groups) + geometry.kernel)


# NumPy fast path. A channels-last window matrix (N*L, K*C) copies runs of kernel_w * C contiguous
# elements (the channels-first one copies runs of out_w), and OpenBLAS multiplies the tall matrix
# faster. The window matrix lives in a per-thread scratch buffer that is reused from call to call:
# a fresh 75 MB array costs more in page faults than the copy itself. `release_workspace()` frees it.

_workspace = threading.local()


def _scratch(shape, dtype):
    """A reusable C-contiguous scratch array (valid until the next call in this thread)."""
    size = math.prod(shape)
    dtype = np.dtype(dtype)
    buffer = getattr(_workspace, "buffer", None)
    if buffer is None or buffer.nbytes < size * dtype.itemsize:
        _workspace.buffer = None  # let the old one go before allocating the new one
        buffer = _workspace.buffer = np.empty(size * dtype.itemsize, dtype=np.uint8)
    return buffer[: size * dtype.itemsize].view(dtype).reshape(shape)


def release_workspace() -> None:
    """Free this thread's conv scratch buffer (it is kept between calls for speed)."""
    _workspace.buffer = None


def _channels_last_pays(x, geometry: WindowGeometry, groups: int) -> bool:
    if not _is_numpy(x) or groups != 1 or x.dtype.kind != "f":
        return False
    run_channels_last = geometry.kernel[-1] * x.shape[1] if geometry.dilation[-1] == 1 \
        else x.shape[1]
    return run_channels_last >= geometry.out_size[-1]


def _windows_channels_last(x, geometry: WindowGeometry):
    """x (N, C, *in) -> scratch window matrix (N*L, K*C), columns ordered (*kernel, C)."""
    n, c = x.shape[0], x.shape[1]
    nd = len(geometry.kernel)
    x_last = np.moveaxis(x, 1, -1)  # (N, *in, C) view
    padded = np.zeros((n,) + tuple(
        s + lo + hi for s, (lo, hi) in zip(geometry.in_size, geometry.padding)) + (c,), x.dtype)
    padded[(slice(None),) + tuple(
        slice(lo, lo + s) for s, (lo, _) in zip(geometry.in_size, geometry.padding))] = x_last
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
    return cols.reshape(n * math.prod(geometry.out_size), -1)


def _conv_forward_channels_last(x, w, geometry: WindowGeometry):
    n, nd = x.shape[0], len(geometry.kernel)
    cols = _windows_channels_last(x, geometry)                       # (N*L, K*C)
    w_mat = np.moveaxis(w, 1, -1).reshape(w.shape[0], -1)            # (O, K*C)
    y = cols @ w_mat.T                                               # (N*L, O)
    y = y.reshape((n,) + geometry.out_size + (w.shape[0],))
    return np.ascontiguousarray(np.moveaxis(y, -1, 1))


def _conv_weight_grad_channels_last(x, y, geometry: WindowGeometry):
    c, o = x.shape[1], y.shape[1]
    cols = _windows_channels_last(x, geometry)                       # (N*L, K*C)
    y_mat = np.ascontiguousarray(np.moveaxis(y, 1, 0)).reshape(o, -1)  # (O, N*L)
    w = (y_mat @ cols).reshape((o,) + geometry.kernel + (c,))
    return np.ascontiguousarray(np.moveaxis(w, -1, 1))


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


def _ascontiguous(xp, a):
    if _is_numpy(a):
        return np.ascontiguousarray(a)
    return a  # array-API namespaces decide their own layout; reshape copies when needed


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


# --------------------------------------------------------------------------------------------
# Pooling kernels: loops over the kernel offsets on strided views (no window copy at all)
# --------------------------------------------------------------------------------------------


def _padded_zeros_like(xp, y, geometry: WindowGeometry):
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(geometry.in_size, geometry.padding))
    return _zeros(xp, tuple(y.shape[:2]) + padded, y)


def _add_into(xp, target, index, value):
    if _is_numpy(target):
        view = target[index]
        np.add(view, value, out=view)
    else:
        target[index] = target[index] + value


def window_sum(xp, x, geometry: WindowGeometry):
    """Sum of each window (zero padding): (N, C, *in) -> (N, C, *out)."""
    xp_ = pad_spatial(xp, x, geometry.padding)
    lead = (slice(None), slice(None))
    out = None
    for offset in _offsets(geometry.kernel):
        part = xp_[lead + _window_slices(offset, geometry)]
        if out is None:
            out = xp.asarray(part, copy=True) if not _is_numpy(part) else part.copy()
        else:
            _add_into(xp, out, (...,), part)
    return out


def window_spread(xp, y, geometry: WindowGeometry):
    """Adjoint of `window_sum`: every output value added to all positions of its window."""
    out = _padded_zeros_like(xp, y, geometry)
    lead = (slice(None), slice(None))
    for offset in _offsets(geometry.kernel):
        _add_into(xp, out, lead + _window_slices(offset, geometry), y)
    return crop_spatial(out, geometry.padding)


def pad_spatial_value(xp, x, padding: Pairs, value: float):
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


def _tiles(x, geometry: WindowGeometry):
    """NumPy view (N, C, o1, k1, o2, k2, ...) when the windows tile x without overlap or gaps
    (stride = kernel, no padding or dilation), else None: then pooling is a reshape."""
    if not _is_numpy(x) or geometry.stride != geometry.kernel or any(
            d != 1 for d in geometry.dilation) or any(lo or hi for lo, hi in geometry.padding):
        return None
    used = tuple(o * k for o, k in zip(geometry.out_size, geometry.kernel))
    x = x[(slice(None), slice(None)) + tuple(slice(0, u) for u in used)]
    shape = tuple(x.shape[:2]) + tuple(
        v for o, k in zip(geometry.out_size, geometry.kernel) for v in (o, k))
    try:
        return x.reshape(shape)  # a view when x is contiguous (copies the crop otherwise)
    except ValueError:
        return None


def _tile_axes(geometry: WindowGeometry) -> tuple[int, ...]:
    return tuple(3 + 2 * i for i in range(len(geometry.kernel)))


def _expand_tiles(y, geometry: WindowGeometry):
    """(N, C, *out) -> (N, C, o1, 1, o2, 1, ...), to broadcast against `_tiles`."""
    return y.reshape(tuple(y.shape[:2]) + tuple(v for o in geometry.out_size for v in (o, 1)))


def _untile(tiles, x_shape, geometry: WindowGeometry):
    used = tuple(o * k for o, k in zip(geometry.out_size, geometry.kernel))
    flat = tiles.reshape(tuple(x_shape[:2]) + used)
    if used == tuple(x_shape[2:]):
        return flat
    out = np.zeros(x_shape, dtype=tiles.dtype)
    out[(slice(None), slice(None)) + tuple(slice(0, u) for u in used)] = flat
    return out


def window_max(xp, x, geometry: WindowGeometry):
    """Largest element of each window; padding never wins (it is -inf)."""
    tiles = _tiles(x, geometry)
    if tiles is not None:
        return tiles.max(axis=_tile_axes(geometry))
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    lead = (slice(None), slice(None))
    out = None
    for offset in _offsets(geometry.kernel):
        part = xp_[lead + _window_slices(offset, geometry)]
        if out is None:
            out = part.copy() if _is_numpy(part) else xp.asarray(part, copy=True)
        elif _is_numpy(out):
            np.maximum(out, part, out=out)
        else:
            out = xp.maximum(out, part)
    return out


def _winner_count(xp, xp_, out, geometry: WindowGeometry):
    lead = (slice(None), slice(None))
    count = None
    for offset in _offsets(geometry.kernel):
        hit = xp.astype(xp_[lead + _window_slices(offset, geometry)] == out, out.dtype)
        count = hit if count is None else count + hit
    return count


def max_route(xp, g, x, out, geometry: WindowGeometry):
    """Gradient of window_max: each window's g goes to its winners (tied winners share it)."""
    tiles = _tiles(x, geometry)
    if tiles is not None:
        winners = tiles == _expand_tiles(out, geometry)
        count = winners.sum(axis=_tile_axes(geometry), keepdims=True, dtype=g.dtype)
        routed = winners * _expand_tiles(g, geometry) / count
        return _untile(routed.astype(g.dtype, copy=False), x.shape, geometry)
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    share = g / _winner_count(xp, xp_, out, geometry)
    target = _padded_zeros_like(xp, g, geometry)
    lead = (slice(None), slice(None))
    zero = xp.zeros((), dtype=g.dtype) if not _is_numpy(g) else g.dtype.type(0)
    for offset in _offsets(geometry.kernel):
        index = lead + _window_slices(offset, geometry)
        _add_into(xp, target, index, xp.where(xp_[index] == out, share, zero))
    return crop_spatial(target, geometry.padding)


def max_gather(xp, z, x, out, geometry: WindowGeometry):
    """Adjoint of `max_route` in g: each window's winners' z, averaged over the winners."""
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    zp = pad_spatial(xp, z, geometry.padding)
    lead = (slice(None), slice(None))
    total = None
    zero = xp.zeros((), dtype=z.dtype) if not _is_numpy(z) else z.dtype.type(0)
    for offset in _offsets(geometry.kernel):
        index = lead + _window_slices(offset, geometry)
        part = xp.where(xp_[index] == out, zp[index], zero)
        total = part if total is None else total + part
    return total / _winner_count(xp, xp_, out, geometry)


def max_indices(xp, x, geometry: WindowGeometry):
    """Flat index (into the unpadded spatial axes) of each window's first largest element.

    These are the "switches" of a deconvnet (PyTorch's return_indices convention).
    """
    xp_ = pad_spatial_value(xp, x, geometry.padding, -math.inf)
    lead = (slice(None), slice(None))
    best = best_index = None
    nd = len(geometry.kernel)
    for offset in _offsets(geometry.kernel):
        part = xp_[lead + _window_slices(offset, geometry)]
        flat = None
        for axis in range(nd):
            start = offset[axis] * geometry.dilation[axis] - geometry.padding[axis][0]
            positions = xp.arange(geometry.out_size[axis]) * geometry.stride[axis] + start
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
