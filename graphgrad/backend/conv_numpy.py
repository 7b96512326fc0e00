"""NumPy fast paths of the three conv kernels (floating point); `conv_kernels` dispatches.

They work on chunks of images small enough (`_CHUNK_BYTES`,
a core's L2 here) that what a chunk pads and copies is still cached when the matmul reads it,
and they multiply image by image: products this small often run in OpenBLAS's small-matrix
kernels (no packing of the operands; `_matmul_in_pieces` cuts a product a little over that
kernel's bound into pieces within it), and each lands where it belongs in the NCHW result. The
chunks run on every core (`chunks.map_chunks`: NumPy releases the GIL in copies and matmuls;
the copies would otherwise stay on one core). Temporaries come from each thread's reused scratch
buffers (`window_arrays._scratch`): no page faults of fresh arrays, and no whole window matrix
(peak memory well below one).

    forward (at least 64 output positions per image, any groups):
        y_n (O, L) = W (O, C*K) @ windows_n (C*K, L), channels-first windows (runs of out_w);
        with stride 1 and less than 1/8 of the columns wasted (1/4 with 8 or more channels),
        on a grid as wide as the padded input instead (`_conv_forward_grid`: each window row
        one long contiguous run)
    weight gradient (groups 1, at least 64 output positions):
        W' = sum_n y'_n (O, L) @ windows_n^T, the windows copied again (keeping the forward's
        whole window matrix costs more cache misses than the copy) in the layout with longer
        contiguous runs: channels-last (L, K*C) rows of kernel_w * C, or channels-first
        (C*K, L) runs of out_w (few channels, wide images: a first layer)
    input gradient, by `_input_grad_path`:
        "offsets" (groups 1, O > C >= 8): with stride 1, one product W^T (K*C, O) @ y' (O,
            n*G) on a grid as wide as the padded input, each offset's block added into a
            padded channels-first target as one contiguous run per image and channel (NumPy
            adds strided rows several times slower); strided, per offset k, y'_last (n*L, O)
            @ W_k (O, C) added into a channels-last target. No window matrix
        "correlation" (stride 1, O <= C): the forward again, of y' with the flipped,
            transposed kernel (its products have K*O inner terms, the offsets' only O)
        else the generic matmul + fold

Below 64 output positions per image (deep 7x7 layers) the per-image products get too thin and
the forward and weight gradient take the generic whole-batch matmul instead.
"""

from __future__ import annotations

import math

import numpy as np

from .chunks import map_chunks
from .window_arrays import (
    WindowGeometry,
    _is_numpy,
    _offsets,
    _scratch,
    _window_slices,
    crop_spatial,
)

_CHUNK_BYTES = 1 << 20  # a core's L2 here; 512 KiB paid more per-chunk NumPy calls (10-30 us each)
_ALIASING_STRIDE = 2048  # bytes: channel planes this far apart share one or two L1 cache sets
_CHANNEL_BLOCK = 16

_MIN_POSITIONS = 64  # output positions per image below which one whole-batch matmul wins
_MIN_OFFSET_CHANNELS = 8  # input channels below which the per-offset products are too narrow

# OpenBLAS (its SkylakeX build here) multiplies products of M*N*K <= 10**6 in a small-matrix
# kernel without packing the operands: 100-110 GFLOP/s a core on our thin conv products, against
# 75-90 for the same product just above the bound (32x144 @ 144x224: 89; in two halves of 112
# columns: 110). Cutting a product pays while the pieces stay wide; below about 96 columns
# (deep layers: 64x576 kernels) the packed whole product wins (64x576 @ 576x1024: 92 against 34).
# Where a BLAS has no such kernel, a cut product costs one more BLAS call per piece.
_SMALL_PRODUCT = 10**6
_MIN_PIECE = 96


def _numpy_float(a) -> bool:
    return _is_numpy(a) and a.dtype.kind == "f"


def _per_image_pays(x, geometry: WindowGeometry) -> bool:
    """NumPy floating point, and images with enough output positions for per-image matmuls.

    Below 64 positions (deep layers: 7x7) the per-image products are too thin and one matmul
    over the whole batch's window matrix is faster (16x256x7x7, 256 filters: 11.2 vs 12.6 ms).
    """
    return _numpy_float(x) and math.prod(geometry.out_size) >= _MIN_POSITIONS


def _input_grad_path(y, w, geometry: WindowGeometry, groups: int) -> str:
    """"offsets" when the per-offset products have an inner size O > C and at least 8 output
    columns C; else "correlation" for stride 1 (its inner size is K * O); else "generic" (its
    big matmul uses OpenBLAS's threads; splitting the batch over Python threads, or into
    cache-sized chunks, measured slower: the fold's K adds are bound by memory and loop
    overhead)."""
    if not _numpy_float(y):
        return "generic"
    o, c = w.shape[0], w.shape[1] * groups
    if groups == 1 and o > c >= _MIN_OFFSET_CHANNELS:
        return "offsets"
    if all(s == 1 for s in geometry.stride) and o <= c:
        return "correlation"
    return "generic"


def _piece_length(length: int, other: int) -> int:
    """Length of the equal pieces to cut an axis of `length` into, so that each product (`other`:
    the product of its two other dimensions) fits OpenBLAS's small-matrix kernel; `length`
    itself when it already fits or when the pieces would be narrower than `_MIN_PIECE`."""
    fit = _SMALL_PRODUCT // max(other, 1)
    if length <= fit or fit < _MIN_PIECE:
        return length
    pieces = -(-length // fit)
    return -(-length // pieces)


def _matmul_in_pieces(a, b, out, axis: int = -1) -> None:
    """out = a @ b (stacked), cut along out's columns (axis -1) or rows (axis -2) into pieces
    that each run in OpenBLAS's small-matrix kernel (`_piece_length`)."""
    rows, inner, columns = a.shape[-2], a.shape[-1], b.shape[-1]
    length, other = (columns, rows * inner) if axis == -1 else (rows, inner * columns)
    piece = _piece_length(length, other)
    for lo in range(0, length, piece):
        cut = slice(lo, lo + piece)
        if axis == -1:
            np.matmul(a, b[..., cut], out=out[..., cut])
        else:
            np.matmul(a[..., cut, :], b, out=out[..., cut, :])


def _padded_size(geometry: WindowGeometry) -> tuple[int, ...]:
    return tuple(s + lo + hi for s, (lo, hi) in zip(geometry.in_size, geometry.padding))


def _interior(geometry: WindowGeometry) -> tuple[slice, ...]:
    """Where the input's spatial axes lie in a padded copy (after one leading axis)."""
    return (slice(None),) + tuple(
        slice(lo, lo + s) for s, (lo, _) in zip(geometry.in_size, geometry.padding))


def _images_per_chunk(n: int, bytes_per_image: int) -> int:
    """Images per chunk, so that what a chunk writes is still cached when it is read back.

    The chunks are made equal (64 images at 9 a chunk: 8 chunks of 8, not 7 of 9 and 1 of 1):
    the threads each take a run of chunks, and with unequal ones the thread holding the big
    ones finishes last (36 images against 28). The rule depends on n and sizes alone, so the
    chunks, and the sums over them, are the same for any number of threads.
    """
    fit = max(1, min(n, _CHUNK_BYTES // max(bytes_per_image, 1)))
    chunks = -(-n // fit)
    return -(-n // chunks)


def _copy_channels_last(dst, src) -> None:
    """dst (N, *sp, C) <- src (N, C, *sp).

    Channel planes a multiple of 2 KiB apart fall into one or two L1 cache sets: gathering all C
    of them at once thrashes (32x64x32x32 float32: 6 ms instead of 2), 16 at a time does not.
    """
    moved = _to_channels_last(src)
    c = src.shape[1]
    if c <= _CHANNEL_BLOCK or src.strides[1] % _ALIASING_STRIDE:
        np.copyto(dst, moved)
        return
    for start in range(0, c, _CHANNEL_BLOCK):
        block = slice(start, start + _CHANNEL_BLOCK)
        np.copyto(dst[..., block], moved[..., block])


def _read_only_view(base, shape, strides):
    """`as_strided(base, shape, strides, writeable=False)` at a tenth of its cost (it runs once
    per chunk): the ndarray constructor on base's memory (offsets are within base's bounds)."""
    view = np.ndarray(shape, base.dtype, base, 0, strides)
    view.flags.writeable = False
    return view


def _to_channels_last(a):
    """(N, C, *sp) -> (N, *sp, C) view (`np.moveaxis` costs microseconds of axis checks)."""
    return a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))


def _from_channels_last(a):
    """(N, *sp, C) -> (N, C, *sp) view."""
    return a.transpose((0, a.ndim - 1) + tuple(range(1, a.ndim - 1)))


def _zero_padded(x, geometry: WindowGeometry, tail: int = 0):
    """x (N, C, *in) zero-padded into the thread's "padded" scratch: (flat buffer, (N, C,
    *padded) view of its start). `tail` more zeros follow, for views that read past the end."""
    size = x.shape[0] * x.shape[1] * math.prod(_padded_size(geometry))
    flat = _scratch((size + tail,), x.dtype, "padded")
    flat.fill(0)
    padded = flat[:size].reshape(x.shape[:2] + _padded_size(geometry))
    padded[(slice(None),) + _interior(geometry)] = x
    return flat, padded


def _windows_channels_first(x, geometry: WindowGeometry):
    """Read-only view (N, C, *kernel, *out) of the windows of x, zero-padded in the scratch."""
    _, padded = _zero_padded(x, geometry)
    st = padded.strides
    return _read_only_view(
        padded, x.shape[:2] + geometry.kernel + geometry.out_size,
        st[:2] + tuple(t * d for t, d in zip(st[2:], geometry.dilation))
        + tuple(t * s for t, s in zip(st[2:], geometry.stride)))


def _windows_channels_last(x, geometry: WindowGeometry):
    """Read-only view (N, *out, *kernel, C) of the windows of a padded channels-last copy of x:
    a window row is kernel_w * C contiguous elements (dilation 1)."""
    n, c = x.shape[0], x.shape[1]
    nd = len(geometry.kernel)
    padded = _scratch((n,) + _padded_size(geometry) + (c,), x.dtype, "padded")
    padded.fill(0)
    _copy_channels_last(padded[_interior(geometry)], x)
    st = padded.strides
    return _read_only_view(
        padded,
        (n,) + geometry.out_size + geometry.kernel + (c,),
        (st[0],) + tuple(t * s for t, s in zip(st[1:1 + nd], geometry.stride))
        + tuple(t * d for t, d in zip(st[1:1 + nd], geometry.dilation)) + (st[-1],))


def _conv_forward_per_image(x, w, geometry: WindowGeometry, groups: int):
    """y_n (O, L) = W (O, C*K) @ windows_n (C*K, L) for each image n (per group).

    Chunks of images (on every core): each is padded and its windows copied into the thread's
    scratch, and multiplied while cached;
    each product lands in y (N, O, L) as it lies, with no transposed copy of the output.
    """
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    positions = math.prod(geometry.out_size)
    width = c // groups * math.prod(geometry.kernel)
    kernel = w.reshape(groups, o // groups, -1)                      # (G, O/G, C/G*K)
    y = np.empty((n, o, positions), np.result_type(x, w))
    image_bytes = positions * c * math.prod(geometry.kernel) * x.itemsize
    step = _images_per_chunk(n, image_bytes)

    def worker():
        cols = _scratch((step, c) + geometry.kernel + geometry.out_size, x.dtype)

        def work(start, stop):
            chunk = cols[:stop - start]
            np.copyto(chunk, _windows_channels_first(x[start:stop], geometry))
            _matmul_in_pieces(
                kernel, chunk.reshape(stop - start, groups, width, positions),
                y[start:stop].reshape(stop - start, groups, o // groups, positions))

        return work

    map_chunks(n, step, worker, work_bytes=n * image_bytes)
    return y.reshape((n, o) + geometry.out_size)


def _grid(geometry: WindowGeometry) -> tuple[tuple[int, ...], tuple[int, ...], list[int]]:
    """Stride 1: output positions on a grid as wide as the padded input.

    The outer spatial axis has its output size, the inner ones their padded size, so a window
    offset is one flat shift of the padded image: (padded size, grid, pitch of each axis in
    elements of one channel plane). Grid positions past out_size are dropped afterwards.
    """
    padded = _padded_size(geometry)
    grid = geometry.out_size[:1] + padded[1:]
    return padded, grid, [math.prod(padded[axis + 1:]) for axis in range(len(padded))]


def _grid_pays(geometry: WindowGeometry, channels: int = 1) -> bool:
    """Stride 1 and few of the grid's columns dropped: the long-run window copy then outweighs
    the matmul's extra columns. Up to 1/8 dropped always pays (32x64x32x32: 16 vs 18.6 ms on
    two threads); with 8 or more channels up to 1/4 does, since channels-first runs of a small
    image are short (one thread: LeNet's 32x16x8x8, 1/5 dropped: 0.54 vs 0.62 ms; 64x16x14x14,
    1/8: 2.7 vs 2.9 ms), while one channel copies fast either way (32x1x8x8: 0.11 vs 0.08)."""
    if any(s != 1 for s in geometry.stride):
        return False
    _, grid, _ = _grid(geometry)
    dropped = math.prod(grid) - math.prod(geometry.out_size)
    if channels >= 8:
        return 4 * dropped <= math.prod(grid)
    return 8 * dropped < math.prod(grid)


def _conv_forward_grid(x, w, geometry: WindowGeometry, groups: int):
    """Stride 1: y_n on the grid (O, G) = W (O, C*K) @ windows_n (C*K, G), G grid positions.

    Each window row is one contiguous run of the padded image (G elements, shifted by the
    kernel offset), so the window copy moves long runs instead of runs of out_w; the matmul
    does (padded_w / out_w - 1) extra work on the dropped columns.
    """
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    padded, grid, pitches = _grid(geometry)
    plane, span, k = math.prod(padded), math.prod(grid), math.prod(geometry.kernel)
    reach = sum((kk - 1) * d * p for kk, d, p in zip(geometry.kernel, geometry.dilation, pitches))
    tail = max(0, reach + span - plane)                # the last plane's dropped columns read on
    dtype = np.result_type(x, w)
    width = c // groups * k
    kernel = w.reshape(groups, o // groups, -1)                      # (G, O/G, C/G*K)
    y = np.empty((n, o) + geometry.out_size, dtype)
    crop = (slice(None), slice(None), slice(None)) + tuple(
        slice(0, s) for s in geometry.out_size[1:])
    item = x.itemsize
    image_bytes = (c * k + o) * span * item
    step = _images_per_chunk(n, image_bytes)

    def worker():
        cols = _scratch((step, c) + geometry.kernel + (span,), x.dtype)
        y_grid = _scratch((step, o, span), dtype, "grid")

        def work(start, stop):
            m = stop - start
            flat, _ = _zero_padded(x[start:stop], geometry, tail)
            windows = _read_only_view(
                flat, (m, c) + geometry.kernel + (span,),
                (c * plane * item, plane * item)
                + tuple(d * p * item for d, p in zip(geometry.dilation, pitches)) + (item,))
            chunk, out = cols[:m], y_grid[:m]
            np.copyto(chunk, windows)
            _matmul_in_pieces(kernel, chunk.reshape(m, groups, width, span),
                              out.reshape(m, groups, o // groups, span))
            np.copyto(y[start:stop], out.reshape((m, o) + grid)[crop])

        return work

    map_chunks(n, step, worker, work_bytes=n * image_bytes)
    return y


def _channels_last_rows_pay(channels: int, geometry: WindowGeometry) -> bool:
    """Whether channels-last windows copy longer contiguous runs than channels-first ones.

    Channels-last, a window row is kernel_w * C contiguous elements (dilation 1); channels-first,
    a run is one output row (stride 1). Few channels and wide images (a first layer: C = 1,
    5x5 kernels, 28 wide) copy faster channels-first.
    """
    run_last = geometry.kernel[-1] * channels if geometry.dilation[-1] == 1 else channels
    run_first = geometry.out_size[-1] if geometry.stride[-1] == 1 else 1
    return run_last >= run_first


def _conv_weight_grad_per_image(x, y, geometry: WindowGeometry):
    """Sum over images of y'_n (O, L) @ windows_n^T (L, C*K): y' is read NCHW, as it lies.

    The windows are copied chunk by chunk, in whichever layout copies longer contiguous runs,
    and multiplied while cached (channels-last: (L, K*C) rows; channels-first: a (C*K, L)
    matrix BLAS reads transposed as it lies).
    """
    n, c, o = x.shape[0], x.shape[1], y.shape[1]
    positions = math.prod(geometry.out_size)
    width = math.prod(geometry.kernel) * c
    dtype = np.result_type(x, y)
    image_bytes = positions * width * x.itemsize
    step = _images_per_chunk(n, image_bytes)
    y_mat = y.reshape(n, o, positions)
    channels_last = _channels_last_rows_pay(c, geometry)
    if channels_last:
        windows_of, shape = _windows_channels_last, geometry.out_size + geometry.kernel + (c,)
    else:
        windows_of, shape = _windows_channels_first, (c,) + geometry.kernel + geometry.out_size

    def worker():
        cols = _scratch((step,) + shape, x.dtype)
        part = _scratch((step, o, width), dtype, "part")

        def work(start, stop):
            chunk, out = cols[:stop - start], part[:stop - start]
            np.copyto(chunk, windows_of(x[start:stop], geometry))
            windows = chunk.reshape(-1, positions, width) if channels_last else \
                np.swapaxes(chunk.reshape(-1, width, positions), 1, 2)
            _matmul_in_pieces(y_mat[start:stop], windows, out)
            return out.sum(axis=0)

        return work

    total = np.zeros((o, width), dtype)
    # in chunk order: the same sum every time
    for partial in map_chunks(n, step, worker, work_bytes=n * image_bytes):
        total += partial
    if not channels_last:
        return total.reshape((o, c) + geometry.kernel)
    w = total.reshape((o,) + geometry.kernel + (c,))
    return np.ascontiguousarray(np.moveaxis(w, -1, 1))


def _conv_input_grad_by_offsets(y, w, geometry: WindowGeometry):
    """All kernel offsets in one product, W_k^T (K*C, O) @ y' (O, m*G), each offset's block then
    added into a padded channels-first target, shifted by the offset's flat position.

    No window matrix. With stride 1 the product is taken on a grid as wide as the padded input
    (zero columns of y' beyond out_w), so each offset's add is one contiguous run per image and
    channel: NumPy adds strided rows several times slower. One product with K*C rows runs
    faster than K thin ones with C columns each (LeNet's 32x16x8x8, O=32: 0.6 ms against 0.77).
    Chunks of images keep y', the product and the target cached.
    """
    if any(s != 1 for s in geometry.stride):
        return _conv_input_grad_by_offsets_strided(y, w, geometry)
    n, o, c = y.shape[0], y.shape[1], w.shape[1]
    nd = len(geometry.kernel)
    padded, grid, pitches = _grid(geometry)
    shifts = [sum(k * d * p for k, d, p in zip(offset, geometry.dilation, pitches))
              for offset in _offsets(geometry.kernel)]
    span, image = math.prod(grid), math.prod(padded)
    pitch = max(image, max(shifts) + span)             # room for the zero tails of the grid
    taps = len(shifts)
    dtype = np.result_type(y, w)
    # w (O, C, *k) -> (*k, C, O) -> (K*C, O): row k*C + c is offset k's weights into channel c
    kernels = np.ascontiguousarray(
        w.transpose(tuple(range(2, 2 + nd)) + (1, 0))).reshape(taps * c, o)
    x = np.empty((n, c) + geometry.in_size, dtype)
    image_bytes = (span * o + taps * c * span + c * pitch) * dtype.itemsize
    step = _images_per_chunk(n, image_bytes)
    corner = (slice(None), slice(None)) + tuple(slice(0, s) for s in geometry.out_size)
    interior = (slice(None),) + _interior(geometry)

    def worker():
        y_grid = _scratch((o, step) + grid, dtype, "grid")
        y_grid.fill(0)                                 # zero outside the out_size corner
        part = _scratch((taps * c, step * span), dtype, "part")
        target = _scratch((c, step, pitch), dtype, "target")

        def work(start, stop):
            m = stop - start
            g, t = y_grid[:, :m], target[:, :m]
            np.copyto(g[corner], y[start:stop].swapaxes(0, 1))
            t.fill(0)
            p = part[:, :m * span]
            np.matmul(kernels, g.reshape(o, m * span), out=p)
            blocks = p.reshape(taps, c, m, span)
            for shift, block in zip(shifts, blocks):
                view = t[:, :, shift:shift + span]
                np.add(view, block, out=view)
            inner = t[:, :, :image].reshape((c, m) + padded)
            np.copyto(x[start:stop], inner[interior].swapaxes(0, 1))

        return work

    map_chunks(n, step, worker, work_bytes=n * image_bytes)
    return x


def _conv_input_grad_by_offsets_strided(y, w, geometry: WindowGeometry):
    """As `_conv_input_grad_by_offsets`, adding each product into the strided target view."""
    n, o, c = y.shape[0], y.shape[1], w.shape[1]
    positions = math.prod(geometry.out_size)
    padded = _padded_size(geometry)
    dtype = np.result_type(y, w)
    kernels = np.moveaxis(w, (0, 1), (-2, -1)).reshape(-1, o, c)    # (K, O, C)
    x = np.empty((n, c) + geometry.in_size, dtype)
    image_bytes = (positions * (o + c) + math.prod(padded) * c) * dtype.itemsize
    step = _images_per_chunk(n, image_bytes)
    index = [(slice(None),) + _window_slices(offset, geometry)
             for offset in _offsets(geometry.kernel)]
    interior = _interior(geometry)

    def worker():
        y_last = _scratch((step,) + geometry.out_size + (o,), dtype, "grid")
        part = _scratch((step,) + geometry.out_size + (c,), dtype, "part")
        target = _scratch((step,) + padded + (c,), dtype, "target")

        def work(start, stop):
            g, p, t = y_last[:stop - start], part[:stop - start], target[:stop - start]
            _copy_channels_last(g, y[start:stop])
            t.fill(0)
            g_mat, p_mat = g.reshape(-1, o), p.reshape(-1, c)
            for where, kernel in zip(index, kernels):
                _matmul_in_pieces(g_mat, kernel, p_mat, axis=-2)
                view = t[where]
                np.add(view, p, out=view)
            np.copyto(x[start:stop], _from_channels_last(t[interior]))

        return work

    map_chunks(n, step, worker, work_bytes=n * image_bytes)
    return x


def _conv_input_grad_as_correlation(y, w, geometry: WindowGeometry, groups: int):
    """Stride 1: the forward of y' (padded by span - 1 - padding) with the flipped kernel."""
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
    from .conv_kernels import conv_forward  # the dispatch (this path may take any of them)

    return conv_forward(np, y, w_t, transposed, groups)
