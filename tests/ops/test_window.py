"""The window gates (unfold/fold, window_sum/window_spread, max_route/max_gather) and the array
kernels under them: direct loops, adjoint identities, numerical gradients, both backends.

`WINDOW_DRAWS` gives the registry-driven spec table (tests/ops/specs.py) one draw per primitive.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad.backend import chunks, conv_kernels, conv_numpy, pool_kernels, window_arrays, windows
from graphgrad.backend.windows import window_geometry
from graphgrad.errors import ShapeError
from graphgrad.ops import window as W


@st.composite
def geometries(draw, nd=None, max_pad=2, pool=False):
    nd = draw(st.integers(1, 3)) if nd is None else nd
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    padding = tuple((draw(st.integers(0, k // 2 if pool else max_pad)),
                     draw(st.integers(0, k // 2 if pool else max_pad))) for k in kernel)
    size = tuple(max(1, d * (k - 1) + 1 - lo - hi) + draw(st.integers(0, 2 if nd == 3 else 3))
                 for k, d, (lo, hi) in zip(kernel, dilation, padding))
    return window_geometry("test", size, kernel, stride, padding, dilation)


def _direct_unfold(x, g):
    """Window copy by the definition, element by element."""
    n, c = x.shape[:2]
    out = np.zeros((n, c) + g.kernel + g.out_size)
    for k in itertools.product(*(range(v) for v in g.kernel)):
        for o in itertools.product(*(range(v) for v in g.out_size)):
            src = tuple(oo * s + kk * d - lo for oo, s, kk, d, (lo, _) in
                        zip(o, g.stride, k, g.dilation, g.padding))
            if all(0 <= i < n_ for i, n_ in zip(src, g.in_size)):
                out[(slice(None), slice(None)) + k + o] = x[(slice(None), slice(None)) + src]
    return out


@given(geometries(), st.integers(0, 2**16))
def test_unfold_matches_direct_loop_and_fold_is_its_adjoint(g, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2) + g.in_size)
    cols = windows.unfold(np, x, g)
    np.testing.assert_array_equal(cols, _direct_unfold(x, g))
    c = rng.standard_normal(cols.shape)
    folded = windows.fold(np, c, g)
    assert folded.shape == x.shape
    assert np.sum(cols * c) == pytest.approx(np.sum(x * folded), rel=1e-10, abs=1e-10)
    nd = len(g.kernel)
    ckn = windows.unfold(np, x, g, layout="ckn")
    np.testing.assert_array_equal(np.moveaxis(ckn, 1 + nd, 0), cols)
    np.testing.assert_allclose(windows.fold(np, np.ascontiguousarray(np.moveaxis(c, 0, 1 + nd)),
                                            g, layout="ckn"), folded, rtol=1e-12, atol=1e-12)


@given(geometries(), st.integers(0, 2**16))
def test_kernels_agree_between_numpy_and_the_strict_backend(g, seed):
    """NumPy takes as_strided and channels-last fast paths; the strict namespace the generic
    slicing loops. Both must give the same numbers."""
    import array_api_strict as xs

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2) + g.in_size)
    w = rng.standard_normal((3, 2) + g.kernel)
    y = rng.standard_normal((2, 3) + g.out_size)
    back = lambda a: np.asarray(a._array)
    xs_, ws_, ys_ = xs.asarray(x), xs.asarray(w), xs.asarray(y)
    pairs = [
        (windows.unfold(np, x, g), back(windows.unfold(xs, xs_, g))),
        (windows.unfold(np, x, g, "ckn"), back(windows.unfold(xs, xs_, g, "ckn"))),
        (windows.conv_forward(np, x, w, g), back(windows.conv_forward(xs, xs_, ws_, g))),
        (windows.conv_input_grad(np, y, w, g), back(windows.conv_input_grad(xs, ys_, ws_, g))),
        (windows.conv_weight_grad(np, x, y, g), back(windows.conv_weight_grad(xs, xs_, ys_, g))),
        (windows.window_sum(np, x, g), back(windows.window_sum(xs, xs_, g))),
        (windows.window_spread(np, y[:, :2], g),
         back(windows.window_spread(xs, ys_[:, :2, ...], g))),
    ]
    for index, (a, b) in enumerate(pairs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=f"kernel {index}")


def test_channels_last_fast_path_matches_the_generic_path():
    """The NumPy fast paths (per-image forward, channels-last weight gradient, the correlation
    input gradient here: O < C) against the direct loop and the adjoint identities, in both
    float dtypes; 11x9 output positions are enough for the fast paths."""
    rng = np.random.default_rng(0)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-4)):
        x = rng.standard_normal((3, 8, 12, 9)).astype(dtype)
        w = rng.standard_normal((4, 8, 3, 2)).astype(dtype)
        g = window_geometry("test", (12, 9), (3, 2), 1, ((1, 2), (0, 1)), (2, 1))
        assert conv_numpy._per_image_pays(x, g)
        assert conv_numpy._input_grad_path(x, w, g, 1) == "correlation"
        y = windows.conv_forward(np, x, w, g)
        assert y.dtype == dtype and y.flags.c_contiguous
        np.testing.assert_allclose(y, windows.reference_conv(x, w, padding=g.padding,
                                                             dilation=(2, 1)), rtol=tol, atol=tol)
        gy = rng.standard_normal(y.shape).astype(dtype)
        gw = windows.conv_weight_grad(np, x, gy, g)
        gx = windows.conv_input_grad(np, gy, w, g)
        assert gw.dtype == dtype and gx.dtype == dtype
        lhs = float(np.sum(y.astype(np.float64) * gy))
        assert lhs == pytest.approx(float(np.sum(w.astype(np.float64) * gw)), rel=tol * 10)
        assert lhs == pytest.approx(float(np.sum(x.astype(np.float64) * gx)), rel=tol * 10)
    windows.release_workspace()


def test_scratch_buffers_never_hand_one_kernel_what_another_left_there():
    """The kernels share reused scratch buffers, but no kernel takes what another left there:
    the weight gradient after a forward, after the input changed in place, or after another conv
    overwrote the buffers always equals a fresh computation."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 10, 10)).astype(np.float32)
    w = rng.standard_normal((4, 8, 3, 3)).astype(np.float32)
    g = window_geometry("test", (10, 10), 3, 1, 1)
    gy = rng.standard_normal((2, 4, 10, 10)).astype(np.float32)
    assert conv_numpy._per_image_pays(x, g)  # the fast paths, which use the scratch buffers

    def fresh(x_):
        windows.release_workspace()
        return windows.conv_weight_grad(np, x_.copy(), gy, g)

    expected = fresh(x)
    windows.conv_forward(np, x, w, g)
    np.testing.assert_allclose(windows.conv_weight_grad(np, x, gy, g), expected, rtol=1e-5,
                               atol=1e-5)
    # modified in place after the forward
    windows.conv_forward(np, x, w, g)
    x[0, 0, 2, 3] += 1.0
    np.testing.assert_allclose(windows.conv_weight_grad(np, x, gy, g), fresh(x), rtol=1e-5,
                               atol=1e-5)
    # another conv in between overwrites the buffers
    windows.conv_forward(np, x, w, g)
    windows.conv_forward(np, rng.standard_normal(x.shape).astype(np.float32), w, g)
    np.testing.assert_allclose(windows.conv_weight_grad(np, x, gy, g), fresh(x), rtol=1e-5,
                               atol=1e-5)
    windows.release_workspace()
    assert windows.workspace_bytes() == 0


def test_release_workspace_frees_the_worker_threads_buffers_too(monkeypatch):
    """The chunks run on pool threads, each with scratch buffers of its own: releasing frees
    theirs as well as the caller's, and the next call works (and allocates) again."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8, 10, 10)).astype(np.float32)
    y = rng.standard_normal((6, 4, 10, 10)).astype(np.float32)
    g = window_geometry("test", (10, 10), 3, 1, 1)
    monkeypatch.setattr(chunks, "worker_count", lambda: 2)
    monkeypatch.setattr(conv_numpy, "_CHUNK_BYTES", 1)             # one image per chunk
    monkeypatch.setattr(chunks, "PARALLEL_BYTES", 0)                 # threads however small
    expected = conv_numpy._conv_weight_grad_per_image(x, y, g)
    holders = [b for b in list(window_arrays._every_thread) if b]
    assert len(holders) >= 2                                       # the caller and a worker
    windows.release_workspace()
    assert windows.workspace_bytes() == 0
    np.testing.assert_array_equal(conv_numpy._conv_weight_grad_per_image(x, y, g), expected)
    assert windows.workspace_bytes() > 0
    windows.release_workspace()


@st.composite
def fast_conv_cases(draw):
    """A random geometry (1-3 spatial axes, stride, dilation, padding) and channel counts on
    both sides of O = C (the input gradient's paths depend on it), with groups."""
    g = draw(geometries())
    groups = draw(st.sampled_from([1, 1, 2]))
    c = groups * draw(st.integers(1, 10))
    o = groups * draw(st.integers(1, 10))
    n = draw(st.integers(1, 3))
    return g, n, c, o, groups, draw(st.integers(0, 2**16))


@given(fast_conv_cases(), st.sampled_from([1, 2048, 1 << 19]), st.sampled_from([1, 2, 3]),
       st.booleans(), st.sampled_from([None, 40, 300]))
def test_numpy_fast_kernels_match_the_generic_path(case, chunk_bytes, workers, channels_last,
                                                   small_product):
    """Each NumPy fast kernel, called directly whatever the dispatch rules would pick, against
    the generic path of the strict backend (float64), with chunks of one image up to the whole
    batch, run by one to three threads: the per-image and grid forwards (any groups), the weight
    gradient (channels-last and channels-first windows), the per-offset input gradient (grid adds
    for stride 1, strided adds otherwise) and the correlation one. `small_product` shrinks the
    small-matrix bound so that the products are cut into (uneven) pieces."""
    import array_api_strict as xs

    g, n, c, o, groups, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + g.in_size)
    w = rng.standard_normal((o, c // groups) + g.kernel)
    y = rng.standard_normal((n, o) + g.out_size)
    back = lambda a: np.asarray(a._array)
    ref_y = back(conv_kernels.conv_forward(xs, xs.asarray(x), xs.asarray(w), g, groups))
    ref_gx = back(conv_kernels.conv_input_grad(xs, xs.asarray(y), xs.asarray(w), g, groups))
    ref_gw = back(conv_kernels.conv_weight_grad(xs, xs.asarray(x), xs.asarray(y), g, groups))
    saved, saved_workers = conv_numpy._CHUNK_BYTES, chunks.worker_count
    saved_layout = conv_numpy._channels_last_rows_pay
    saved_pieces = conv_numpy._SMALL_PRODUCT, conv_numpy._MIN_PIECE
    if small_product is not None:
        conv_numpy._SMALL_PRODUCT, conv_numpy._MIN_PIECE = small_product, 1
    conv_numpy._CHUNK_BYTES = chunk_bytes
    chunks.worker_count = lambda: workers
    conv_numpy._channels_last_rows_pay = lambda channels, geometry: channels_last
    try:
        results = [("forward", conv_numpy._conv_forward_per_image(x, w, g, groups), ref_y)]
        if all(s == 1 for s in g.stride):
            results.append(("correlation", conv_numpy._conv_input_grad_as_correlation(
                y, w, g, groups), ref_gx))
            results.append(("grid forward", conv_numpy._conv_forward_grid(x, w, g, groups),
                            ref_y))
        if groups == 1:
            results += [
                ("weight", conv_numpy._conv_weight_grad_per_image(x, y, g), ref_gw),
                ("offsets", conv_numpy._conv_input_grad_by_offsets(y, w, g), ref_gx),
            ]
    finally:
        conv_numpy._CHUNK_BYTES, chunks.worker_count = saved, saved_workers
        conv_numpy._channels_last_rows_pay = saved_layout
        conv_numpy._SMALL_PRODUCT, conv_numpy._MIN_PIECE = saved_pieces
    for name, got, expected in results:
        assert got.shape == expected.shape and got.flags.c_contiguous, name
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, err_msg=name)


def test_fast_paths_on_the_benchmark_shape_in_float32():
    """The middle benchmark shape (batch cut to 4): the grid forward (16 channels), channels-last
    weight gradient and per-offset input gradient (O = 32 > C = 16) are the ones taken, stay
    float32 and agree with a float64 computation."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 16, 14, 14)).astype(np.float32)
    w = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
    g = window_geometry("test", (14, 14), 3, 1, 1)
    gy = rng.standard_normal((4, 32, 14, 14)).astype(np.float32)
    assert conv_numpy._per_image_pays(x, g)
    assert conv_numpy._input_grad_path(gy, w, g, 1) == "offsets"
    assert conv_numpy._grid_pays(g, x.shape[1])
    x64, w64, gy64 = x.astype(np.float64), w.astype(np.float64), gy.astype(np.float64)
    pairs = [
        (windows.conv_forward(np, x, w, g), conv_kernels._conv_forward_generic(np, x64, w64, g, 1)),
        (windows.conv_weight_grad(np, x, gy, g),
         conv_kernels._conv_weight_grad_generic(np, x64, gy64, g, 1)),
        (windows.conv_input_grad(np, gy, w, g),
         conv_kernels._conv_input_grad_generic(np, gy64, w64, g, 1)),
    ]
    for got, expected in pairs:
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    windows.release_workspace()


def test_dispatch_rules():
    """Few output positions per image: the whole-batch generic matmul; O > C >= 8: per-offset
    input gradient (also strided); O <= C with stride 1: correlation; strided O <= C, small C,
    groups, integers and other namespaces: generic."""
    import array_api_strict as xs

    big, small = window_geometry("t", (16, 16), 3, 1, 1), window_geometry("t", (7, 7), 3, 1, 1)
    strided = window_geometry("t", (16, 16), 3, 2, 1)
    x = np.zeros((2, 16, 16, 16), np.float32)
    assert conv_numpy._per_image_pays(x, big) and not conv_numpy._per_image_pays(x, small)
    assert not conv_numpy._per_image_pays(x.astype(np.int64), big)
    assert not conv_numpy._per_image_pays(xs.asarray(x), big)

    def path(o, c, geometry=big, groups=1, y=None):
        y = np.zeros((1, 1), np.float32) if y is None else y
        return conv_numpy._input_grad_path(y, np.zeros((o, c // groups, 3, 3)), geometry,
                                             groups)

    assert path(32, 16) == path(32, 16, strided) == path(9, 8) == "offsets"
    assert path(16, 16) == path(8, 32) == path(32, 32, groups=2) == "correlation"
    assert path(16, 16, strided) == path(6, 1) == path(8, 4) == path(32, 16, strided, 2) \
        == "generic"
    assert path(32, 16, y=np.zeros((1, 1), np.int64)) == "generic"
    assert path(32, 16, y=xs.asarray(np.zeros((1, 1)))) == "generic"


def test_products_are_cut_into_small_matrix_pieces_only_while_the_pieces_stay_wide():
    """OpenBLAS's small-matrix bound M*N*K <= 10**6: the grid forward's 32x144 @ 144x224 goes in
    two pieces of 112 columns; a product that fits, or one whose pieces would be narrower than
    96 (64x576 @ 576x1024), stays whole; the pieces of an uneven cut cover it all."""
    assert conv_numpy._piece_length(224, 32 * 144) == 112
    assert conv_numpy._piece_length(196, 32 * 144) == 196
    assert conv_numpy._piece_length(1024, 64 * 576) == 1024
    assert conv_numpy._piece_length(448, 32 * 288) == 90      # 5 pieces, the last one 88
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 301, 20)), rng.standard_normal((20, 450))
    assert conv_numpy._piece_length(450, 301 * 20) == 150      # columns: 3 pieces
    assert conv_numpy._piece_length(301, 20 * 450) == 101      # rows: 101, 101 and 99
    for axis in (-1, -2):
        out = np.full((2, 301, 450), np.nan)
        conv_numpy._matmul_in_pieces(a, b, out, axis=axis)
        np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)


def test_chunks_are_equal_and_no_bigger_than_a_cache_full():
    """64 images of 113 KiB in 1 MiB chunks: 8 chunks of 8, not 7 of 9 and 1 of 1 (the thread
    given the big ones would finish last); a chunk never exceeds what fits, nor the batch."""
    image = 196 * 144 * 4
    assert conv_numpy._CHUNK_BYTES // image == 9
    assert conv_numpy._images_per_chunk(64, image) == 8
    assert conv_numpy._images_per_chunk(65, image) == 9        # 8 chunks: 9 x 7 and 2
    assert conv_numpy._images_per_chunk(18, image) == 9
    assert conv_numpy._images_per_chunk(5, image) == 5
    assert conv_numpy._images_per_chunk(3, conv_numpy._CHUNK_BYTES * 2) == 1
    for n in range(1, 200):
        for size in (image, 60_000, 3_000_000):
            step = conv_numpy._images_per_chunk(n, size)
            fit = max(1, conv_numpy._CHUNK_BYTES // size)
            assert 1 <= step <= min(n, fit)
            assert -(-n // step) == -(-n // min(n, fit))       # as few chunks as before
            chunks = -(-n // step)
            assert n - (chunks - 1) * step > step - chunks   # the last one is short by < chunks


def test_grid_forward_only_where_few_columns_are_wasted():
    """Stride 1 and less than 1/8 of the grid's columns past out_w (32 of 34, not 14 of 16);
    with 8 or more channels up to 1/4 (14 of 16, LeNet's 8 of 10, not 4 of 6)."""
    assert conv_numpy._grid_pays(window_geometry("t", (32, 32), 3, 1, 1))
    assert not conv_numpy._grid_pays(window_geometry("t", (14, 14), 3, 1, 1))
    assert not conv_numpy._grid_pays(window_geometry("t", (32, 32), 3, 2, 1))
    assert conv_numpy._grid_pays(window_geometry("t", (40,), 5, 1, 2))  # 1-D: nothing wasted
    assert conv_numpy._grid_pays(window_geometry("t", (14, 14), 3, 1, 1), channels=16)
    assert conv_numpy._grid_pays(window_geometry("t", (8, 8), 3, 1, 1), channels=16)
    assert not conv_numpy._grid_pays(window_geometry("t", (8, 8), 3, 1, 1), channels=1)
    assert not conv_numpy._grid_pays(window_geometry("t", (4, 4), 3, 1, 1), channels=16)


def test_weight_gradient_windows_take_the_layout_with_longer_runs():
    """Channels-last rows are kernel_w * C long, channels-first runs one output row (stride 1)."""
    first_layer = window_geometry("t", (28, 28), 5, 1, 2)
    assert not conv_numpy._channels_last_rows_pay(1, first_layer)   # 5 < 28
    assert conv_numpy._channels_last_rows_pay(16, window_geometry("t", (14, 14), 3, 1, 1))
    assert conv_numpy._channels_last_rows_pay(1, window_geometry("t", (28, 28), 5, 2, 2))
    assert not conv_numpy._channels_last_rows_pay(
        4, window_geometry("t", (28, 28), 3, 1, 2, dilation=2))       # runs of C = 4 < 28


@pytest.mark.parametrize("dtype, size", [(np.float32, 32), (np.float64, 16), (np.float32, 10)])
def test_channels_last_copy_in_blocks_of_channels(dtype, size):
    """Channel planes 2 KiB apart (32x32 float32, 16x16 float64) are moved 16 channels at a
    time; the result is the same plain moveaxis copy, also for a non-contiguous source."""
    rng = np.random.default_rng(0)
    src = rng.standard_normal((2, 37, size, size)).astype(dtype)
    for source in (src, src[:, ::-1], src[..., ::2]):
        dst = np.empty(source.shape[:1] + source.shape[2:] + source.shape[1:2], dtype)
        conv_numpy._copy_channels_last(dst, source)
        np.testing.assert_array_equal(dst, np.moveaxis(source, 1, -1))


def _direct_max_route(gy, x, g):
    """Max pooling's gradient by the definition: each window's gy split among its tied winners."""
    padded = np.pad(x, ((0, 0), (0, 0)) + g.padding, constant_values=-np.inf)
    target = np.zeros_like(padded)
    for o in itertools.product(*(range(v) for v in g.out_size)):
        where = [tuple(oo * s + kk * d for oo, s, kk, d in zip(o, g.stride, k, g.dilation))
                 for k in itertools.product(*(range(v) for v in g.kernel))]
        for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
            values = np.array([padded[(n, c) + p] for p in where])
            winners = [p for p, v in zip(where, values) if v == values.max()]
            for p in winners:
                target[(n, c) + p] += gy[(n, c) + o] / len(winners)
    inner = tuple(slice(lo, lo + size) for (lo, _), size in zip(g.padding, g.in_size))
    return target[(slice(None), slice(None)) + inner]


@given(geometries(nd=2, pool=True), st.integers(0, 2**16))
def test_pooling_kernels_fast_and_general_paths_agree_with_ties(g, seed):
    """NumPy writes (not adds) into strided views when windows do not overlap; the strict
    backend always adds. Values drawn from {0, 1, 2} make ties common: tied winners share."""
    import array_api_strict as xs

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 2) + g.in_size).astype(np.float64)
    out = windows.window_max(np, x, g)
    gy = rng.standard_normal(out.shape)
    z = rng.standard_normal(x.shape)
    back = lambda a: np.asarray(a._array)
    xs_x, xs_out = xs.asarray(x), xs.asarray(out)
    np.testing.assert_array_equal(back(windows.window_max(xs, xs_x, g)), out)
    routed = windows.max_route(np, gy, x, out, g)
    np.testing.assert_allclose(routed, _direct_max_route(gy, x, g), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back(windows.max_route(xs, xs.asarray(gy), xs_x, xs_out, g)),
                               routed, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back(windows.max_gather(xs, xs.asarray(z), xs_x, xs_out, g)),
                               windows.max_gather(np, z, x, out, g), rtol=1e-12, atol=1e-12)
    spread = windows.window_spread(np, gy, g)
    np.testing.assert_allclose(back(windows.window_spread(xs, xs.asarray(gy), g)), spread,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(spread, windows.fold(np, np.broadcast_to(
        gy[(slice(None), slice(None)) + (None,) * len(g.kernel)],
        gy.shape[:2] + g.kernel + g.out_size).copy(), g), rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(1, 3), st.integers(1, 3)), st.tuples(st.integers(1, 4),
       st.integers(1, 4)), st.integers(0, 2**16), st.sampled_from([np.float32, np.float64]))
def test_tiled_pooling_fast_path_matches_the_definition(kernel, windows_per_axis, seed, dtype):
    """MaxPool2d(k) on an image k * n wide takes whole-array passes (rows, then one strided
    column run, np.repeat back): the same maxima and, tie for tie, the same shares as the
    definition; a NaN window routes NaN as the general path does."""
    size = tuple(k * n for k, n in zip(kernel, windows_per_axis))
    g = window_geometry("test", size, kernel, kernel, 0)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 3) + size).astype(dtype)        # {0, 1, 2}: ties are common
    assert pool_kernels._tiles_2d(x, g)
    out = windows.window_max(np, x, g)
    np.testing.assert_array_equal(out, _direct_unfold(x, g).max(axis=(2, 3)).astype(dtype))
    gy = rng.standard_normal(out.shape).astype(dtype)
    routed = windows.max_route(np, gy, x, out, g)
    assert routed.dtype == dtype
    np.testing.assert_allclose(routed, _direct_max_route(gy, x, g), rtol=1e-6, atol=1e-6)
    x[0, 0, 0, 0] = np.nan
    out = windows.window_max(np, x, g)
    assert np.isnan(out[0, 0, 0, 0]) and np.isnan(windows.max_route(np, gy, x, out, g)[0, 0, 0, 0])


def test_non_overlapping_pooling_write_path_with_ties_gaps_and_padding():
    """The write path's three cases: windows that tile exactly (no zeroing), leave gaps (stride
    > kernel) or rows over (floor), and padding; tied winners share the gradient equally."""
    x = np.array([[[[1.0, 1.0, 0.0, 2.0, 5.0], [0.0, 1.0, 2.0, 2.0, 5.0],
                    [3.0, 3.0, 3.0, 3.0, 5.0]]]])
    for args in ((2, 2, 0), (1, 2, 0), ((2, 1), (3, 2), 0), (2, 2, 1)):
        g = window_geometry("test", (3, 5), *args)
        out = windows.window_max(np, x, g)
        gy = np.arange(1.0, out.size + 1).reshape(out.shape)
        np.testing.assert_allclose(windows.max_route(np, gy, x, out, g),
                                   _direct_max_route(gy, x, g), rtol=1e-12, err_msg=str(args))
    g = window_geometry("test", (3, 5), 2, 2, 0)
    routed = windows.max_route(np, np.ones((1, 1, 1, 2)), x, windows.window_max(np, x, g), g)
    np.testing.assert_array_equal(routed[0, 0, :2, :4], [[1 / 3, 1 / 3, 0, 1 / 3],
                                                        [0, 1 / 3, 1 / 3, 1 / 3]])
    assert not routed[0, 0, 2].any() and not routed[0, 0, :, 4].any()  # rows the floor drops


# ----- the primitives: numerical gradients, first and second order ------------------------------
def _draw_linear_window_op(apply, input_shape):
    """A drawer for a linear window primitive: a random 2-D geometry and an input of
    `input_shape(geometry)` (batch 1, 2 channels first)."""
    def draw(data):
        g = data.draw(geometries(nd=2), label="geometry")
        rng = np.random.default_rng(data.draw(st.integers(0, 99)))
        return (lambda t: apply(t, geometry=g)), [rng.standard_normal((1, 2) + input_shape(g))]
    return draw


_draw_unfold = _draw_linear_window_op(W.unfold_with, lambda g: g.in_size)
_draw_fold = _draw_linear_window_op(W.fold_with, lambda g: g.kernel + g.out_size)
_draw_window_sum = _draw_linear_window_op(W.window_sum_with, lambda g: g.in_size)
_draw_window_spread = _draw_linear_window_op(W.window_spread_with, lambda g: g.out_size)


def _tie_free_pooling_input(data, g):
    seed = data.draw(st.integers(0, 99))
    rng = np.random.default_rng(seed)
    count = 2 * int(np.prod(g.in_size))
    return ((rng.permutation(count) + 1.0) * 0.1).reshape((1, 2) + g.in_size)


def _draw_max_window_op(op, takes_output_shape: bool, seed: int):
    """Drawer for max_route (its input has the pooled output's shape) and max_gather (the input
    image's): tie-free x, its window maxima, and the differentiable input to check."""
    def draw(data):
        g = data.draw(geometries(nd=2, pool=True), label="geometry")
        x = _tie_free_pooling_input(data, g)
        out = windows.window_max(np, x, g)
        arg = np.random.default_rng(seed).standard_normal(out.shape if takes_output_shape
                                                          else x.shape)
        return (lambda t: op(t, gg.tensor(x), gg.tensor(out), geometry=g)), [arg]
    return draw


_draw_max_route = _draw_max_window_op(W.max_route, takes_output_shape=True, seed=1)
_draw_max_gather = _draw_max_window_op(W.max_gather, takes_output_shape=False, seed=2)


WINDOW_DRAWS = {
    "unfold": _draw_unfold, "fold": _draw_fold, "window_sum": _draw_window_sum,
    "window_spread": _draw_window_spread, "max_route": _draw_max_route,
    "max_gather": _draw_max_gather,
}


@pytest.mark.parametrize("name", sorted(WINDOW_DRAWS))
@given(data=st.data())
def test_window_primitive_gradients(name, data):
    fn, arrays = WINDOW_DRAWS[name](data)
    gg.gradcheck(fn, arrays)
    gg.gradgradcheck(fn, arrays)


def test_every_window_primitive_is_registered():
    from graphgrad._primitive import PRIMITIVES

    assert set(WINDOW_DRAWS) <= set(PRIMITIVES)


def test_max_route_and_gather_are_adjoint_with_ties():
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, 2.0], [2.0, 2.0, 2.0]]]])
    g = window_geometry("test", (3, 3), 2, 1)
    out = windows.window_max(np, x, g)
    gy = np.arange(1.0, 5.0).reshape(out.shape)
    z = np.arange(9.0).reshape(x.shape)
    routed = windows.max_route(np, gy, x, out, g)
    # window (0,0) has three tied 1s: each gets 1/3 of gy=1
    assert routed[0, 0, 0, 0] == pytest.approx(1 / 3)
    assert np.sum(routed) == pytest.approx(np.sum(gy))
    assert np.sum(routed * z) == pytest.approx(np.sum(gy * windows.max_gather(np, z, x, out, g)))


# ----- public wrappers and geometry errors ------------------------------------------------------
def test_public_unfold_fold_shapes_and_errors():
    x = gg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    cols = W.unfold(x, 2, stride=2)
    assert cols.shape == (1, 1, 2, 2, 2, 2)
    np.testing.assert_array_equal(W.fold(cols, (4, 4), 2, stride=2).numpy(), x.numpy())
    with pytest.raises(ShapeError, match=r"fold: windows of kernel \(2, 2\) .* need shape"):
        W.fold(cols, (6, 6), 2, stride=2)
    with pytest.raises(ShapeError, match=r"unfold: expected a Tensor of shape \(N, C, \*spatial\)"):
        W.unfold(gg.zeros(4, 4), 2)


@pytest.mark.parametrize("args, message", [
    (((5,), 3, 0), r"stride must be positive, got 0"),
    (((5,), 0, 1), r"kernel_size must be positive"),
    (((5, 5), (3, 3, 3), 1), r"kernel_size must be an int or 2 ints"),
    (((2,), 3, 1), r"kernel spans 3 elements but the padded input has only 2"),
    (((7,), 3, 3, 0, 1, True), r"stride 3 cannot tile .* \(7 - 3\) / 3 = 1.333"),
])
def test_geometry_errors_name_the_numbers(args, message):
    with pytest.raises(ShapeError, match=message):
        window_geometry("layer", *args)
