"""conv1d/conv2d/conv_transpose2d/local/tiled conv: against direct loops, numerical gradients,
and their own gate expansion (values, first and second derivatives)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import graphgrad as gg
from graphgrad.backend.windows import reference_conv
from graphgrad.composites.conv import (conv1d, conv2d, conv_output_shape, conv_transpose2d,
                                       local_conv2d, tiled_conv2d)
from graphgrad.errors import ShapeError

from .helpers import assert_fused_matches_expansion, op_names


@st.composite
def conv_cases(draw, nd=2):
    """Random small geometry: batch, channels, groups, sizes, stride, padding, dilation."""
    groups = draw(st.integers(1, 2), label="groups")
    c = groups * draw(st.integers(1, 2), label="C/groups")
    o = groups * draw(st.integers(1, 2), label="O/groups")
    n = draw(st.integers(1, 2), label="N")
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 3))
                 for k, d, p in zip(kernel, dilation, padding))
    seed = draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + size)
    w = rng.standard_normal((o, c // groups) + kernel)
    b = rng.standard_normal(o)
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@given(conv_cases())
def test_conv2d_matches_direct_loop(case):
    x, w, b, geo = case
    y = conv2d(gg.tensor(x), gg.tensor(w), gg.tensor(b), **geo)
    np.testing.assert_allclose(y.numpy(), reference_conv(x, w, b, **geo), rtol=1e-10, atol=1e-10)


@given(conv_cases(nd=1))
def test_conv1d_matches_direct_loop(case):
    x, w, b, geo = case
    y = conv1d(gg.tensor(x), gg.tensor(w), gg.tensor(b), **geo)
    np.testing.assert_allclose(y.numpy(), reference_conv(x, w, b, **geo), rtol=1e-10, atol=1e-10)


@given(conv_cases())
def test_conv2d_gradients_match_central_differences(case):
    x, w, b, geo = case
    fn = lambda x_, w_, b_: conv2d(x_, w_, b_, **geo)
    gg.gradcheck(fn, [x, w, b])
    gg.gradgradcheck(fn, [x, w, b])  # linear in each input: the mixed x-w terms are what is checked


@given(conv_cases())
def test_conv2d_fused_matches_gate_expansion(case):
    x, w, b, geo = case
    assert_fused_matches_expansion(lambda x_, w_, b_: conv2d(x_, w_, b_, **geo), [x, w, b])


def test_expansion_is_built_from_gates():
    """Fused: one conv node (its gradients conv_transpose / conv_weight_grad nodes); expanded:
    the unfold, reshape and matmul gates, which is what a lecture diagram draws."""
    x = gg.tensor(np.ones((1, 2, 4, 4)), requires_grad=True)
    w = gg.tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    fused = conv2d(x, w, padding=1)
    assert fused.op.name == "conv" and fused.op.composite.name == "conv"
    with gg.expand_composites():
        gates = conv2d(x, w, padding=1)
    assert {"unfold", "matmul", "reshape"} <= op_names(gates) and "conv" not in op_names(gates)
    assert all(s.kind == "composite" and s.name == "conv" for s in gates.scope)
    gx, gw = gg.grad(lambda a, b: (conv2d(a, b, padding=1) ** 2).sum(), (0, 1))(x, w)
    assert gx.shape == x.shape and gw.shape == w.shape


@given(conv_cases())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>, and the output size formula gives x's."""
    x, w, _, geo = case
    y_shape = reference_conv(x, w, None, **geo).shape
    y = np.random.default_rng(1).standard_normal(y_shape)
    stride, padding, dilation = geo["stride"], geo["padding"], geo["dilation"]
    # output_padding recovers the rows the floor convention dropped
    extra = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s
        for n, p, d, k, s in zip(x.shape[2:], padding, dilation, w.shape[2:], stride))
    assume(all(e < max(s, d) for e, s, d in zip(extra, stride, dilation)))  # PyTorch's rule
    back = conv_transpose2d(gg.tensor(y), gg.tensor(w), stride=stride, padding=padding,
                            output_padding=extra, groups=geo["groups"], dilation=dilation)
    assert back.shape == x.shape
    lhs = float(np.sum(reference_conv(x, w, None, **geo) * y))
    assert lhs == pytest.approx(float(np.sum(x * back.numpy())), rel=1e-9, abs=1e-9)


@given(conv_cases())
def test_conv_transpose2d_gradients_and_expansion(case):
    x, w, _, geo = case
    y = reference_conv(x, w, None, **geo)
    extra = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s for n, p, d, k, s in
        zip(x.shape[2:], geo["padding"], geo["dilation"], w.shape[2:], geo["stride"]))
    assume(all(e < max(s, d) for e, s, d in zip(extra, geo["stride"], geo["dilation"])))
    fn = lambda y_, w_: conv_transpose2d(y_, w_, output_padding=extra, **geo)
    gg.gradcheck(fn, [y, w])
    gg.gradgradcheck(fn, [y, w])
    assert_fused_matches_expansion(fn, [y, w])


def test_conv_transpose2d_direct_loop():
    """Each input pixel stamps the kernel, scaled, at stride-spaced positions (then cropped)."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 3, 2)), rng.standard_normal((2, 3, 3, 2))
    stride, pad = 2, 1
    full = np.zeros((1, 3, (3 - 1) * 2 + 3, (2 - 1) * 2 + 2))
    for c in range(2):
        for i in range(3):
            for j in range(2):
                full[0, :, i * stride:i * stride + 3, j * stride:j * stride + 2] += (
                    x[0, c, i, j] * w[c]
                )
    expected = full[:, :, pad:-pad, pad:-pad]
    got = conv_transpose2d(gg.tensor(x), gg.tensor(w), stride=stride, padding=pad).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ----- the worked example of seeds/002 (the CS231n demo) ----------------------------------------
_X = [  # x[:, :, d] of the notes: the 5x5x3 input, already padded by 1 to 7x7
    ["0000000", "0111220", "0202110", "0122210", "0102110", "0011200", "0000000"],
    ["0000000", "0202200", "0001220", "0102210", "0002020", "0022220", "0000000"],
    ["0000000", "0120020", "0200100", "0100220", "0211000", "0211020", "0000000"],
]
_W0 = [[[-1, 0, 1], [1, 1, 1], [0, -1, 0]], [[1, 1, 0], [0, -1, -1], [-1, -1, -1]],
       [[0, 0, 0], [-1, 1, 1], [-1, -1, -1]]]
_W1 = [[[-1, 0, -1], [1, -1, 1], [-1, 1, -1]], [[1, 0, 1], [1, 1, -1], [-1, 1, 0]],
       [[-1, 0, 0], [1, 1, 0], [-1, 0, -1]]]
_PRINTED = [[[0, -7, 1], [0, 1, 3], [3, 3, 5]], [[5, 5, 3], [3, 5, 10], [1, 3, 4]]]


def test_worked_example_of_the_notes():
    """7x7x3 padded input, two 3x3x3 filters, biases 1 and 0, stride 2 -> 3x3x2.

    The expected volume comes from a direct loop over the printed inputs. Of the printed output,
    rows 1 and 2 of both slices agree with it; row 3 does not (printed [3 3 5] and [1 3 4], the
    direct loop gives [3 4 4] and [1 4 7]): the slide text was transcribed lossily.
    """
    x = np.array([[[int(v) for v in row] for row in plane] for plane in _X], float)[None]
    w = np.array([_W0, _W1], float)
    b = np.array([1.0, 0.0])
    expected = np.zeros((1, 2, 3, 3))
    for o in range(2):
        for i in range(3):
            for j in range(3):
                expected[0, o, i, j] = (
                    np.sum(x[0, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * w[o]) + b[o]
                )
    y = conv2d(gg.tensor(x), gg.tensor(w), gg.tensor(b), stride=2).numpy()
    np.testing.assert_array_equal(y, expected)
    # the same with the notes' unpadded 5x5 input and padding=1
    y_pad = conv2d(gg.tensor(x[:, :, 1:-1, 1:-1]), gg.tensor(w), gg.tensor(b), stride=2, padding=1)
    np.testing.assert_array_equal(y_pad.numpy(), expected)
    printed = np.array(_PRINTED, float)
    np.testing.assert_array_equal(y[0, :, :2], printed[:, :2])
    assert not np.array_equal(y[0, :, 2], printed[:, 2])
    np.testing.assert_array_equal(y[0, :, 2], [[3, 4, 4], [1, 4, 7]])


# ----- properties of the notes --------------------------------------------------------------------
@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 3))
def test_conv_is_equivariant_to_translation_away_from_borders(seed, dy, dx):
    """conv(shift(x)) = shift(conv(x)) wherever neither window touches the border."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 12, 12))
    w = rng.standard_normal((3, 2, 3, 3))
    shifted = np.roll(x, (dy, dx), axis=(2, 3))
    y = conv2d(gg.tensor(x), gg.tensor(w)).numpy()
    y_shifted = conv2d(gg.tensor(shifted), gg.tensor(w)).numpy()
    np.testing.assert_allclose(y_shifted[:, :, dy + 2:, dx + 2:], y[:, :, 2:-dy, 2:-dx],
                               rtol=1e-10, atol=1e-12)


def test_flip_gives_true_convolution():
    """flip=True computes s(i) = sum_m x(m) w(i - m) of the notes (the kernel reversed)."""
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    w = np.array([[[1.0, 0.0, -1.0]]])
    corr = conv1d(gg.tensor(x), gg.tensor(w)).numpy()
    true = conv1d(gg.tensor(x), gg.tensor(w), flip=True).numpy()
    np.testing.assert_array_equal(corr, [[[-2.0, -2.0, -2.0]]])
    np.testing.assert_array_equal(true, [[np.convolve(x[0, 0], w[0, 0], mode="valid")]])
    np.testing.assert_array_equal(true, [[[2.0, 2.0, 2.0]]])
    gg.gradcheck(lambda a, b: conv1d(a, b, flip=True, padding=1), [x, w])


def test_padding_same_and_valid():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 5, 6))
    for k, d in ((3, 1), (4, 1), (2, 2), (3, 2)):
        w = rng.standard_normal((2, 1, k, k))
        y = conv2d(gg.tensor(x), gg.tensor(w), padding="same", dilation=d)
        assert y.shape == (1, 2, 5, 6)
        total = d * (k - 1)  # the odd pixel goes after, as in PyTorch
        pads = ((total // 2, total - total // 2),) * 2
        np.testing.assert_allclose(y.numpy(), reference_conv(x, w, padding=pads, dilation=d))
    w = rng.standard_normal((2, 1, 3, 3))
    assert conv2d(gg.tensor(x), gg.tensor(w), padding="valid").shape == (1, 2, 3, 4)
    with pytest.raises(ShapeError, match="same.*stride 1"):
        conv2d(gg.tensor(x), gg.tensor(w), padding="same", stride=2)


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = gg.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    y = conv2d(x, w, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    expected = reference_conv(x.numpy(), w.numpy(), padding=1)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_gradients_nobody_asked_for_are_skipped_and_the_rest_unchanged():
    """The conv VJPs build only the wanted terms (a conv on the data input needs no input
    gradient); the kernel gradient is the same either way, through double backward too."""
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w_np = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    grads = []
    for x_wants in (True, False):
        x = gg.tensor(x_np, requires_grad=x_wants)
        w = gg.tensor(w_np, requires_grad=True)
        y = conv2d(x, w, padding=1)
        y.backward(gg.tensor(np.ones(y.shape, np.float32)))
        assert (x.grad is not None) == x_wants
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    x = gg.tensor(x_np[:1, :, :4, :4].astype(np.float64))  # a constant: no input gradient
    fn = lambda w_: conv2d(x, w_, padding=1)
    gg.gradcheck(fn, [w_np[:2].astype(np.float64)])
    gg.gradgradcheck(fn, [w_np[:2].astype(np.float64)])


def test_conv_runs_on_the_strict_backend():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 2, 3, 2))
    xs = gg.tensor(x, device="strict", requires_grad=True)
    ws = gg.tensor(w, device="strict", requires_grad=True)
    y = conv2d(xs, ws, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    np.testing.assert_allclose(gg.backend.to_numpy(y.data),
                               reference_conv(x, w, None, (2, 1), 1, (1, 2), 2),
                               rtol=1e-12, atol=1e-12)
    (y * y).sum().backward()
    xn, wn = gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)
    yn = conv2d(xn, wn, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    (yn * yn).sum().backward()
    np.testing.assert_allclose(gg.backend.to_numpy(xs.grad.data), xn.grad.numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gg.backend.to_numpy(ws.grad.data), wn.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


# ----- unshared and tiled convolution ----------------------------------------------------------
def _local_reference(x, w, stride, padding):
    n, _c, _h, _wd = x.shape
    o, oh, ow, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w[:, i, j])
    return y


@given(st.integers(0, 2**16), st.integers(1, 2), st.integers(0, 1))
def test_local_conv2d_matches_direct_loop_and_gradients(seed, stride, padding):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 5, 4))
    oh, ow = (5 + 2 * padding - 2) // stride + 1, (4 + 2 * padding - 2) // stride + 1
    w = rng.standard_normal((3, oh, ow, 2, 2, 2))
    b = rng.standard_normal((3, oh, ow))
    y = local_conv2d(gg.tensor(x), gg.tensor(w), gg.tensor(b), stride=stride, padding=padding)
    np.testing.assert_allclose(y.numpy(), _local_reference(x, w, stride, padding) + b[None])
    gg.gradcheck(lambda a, c, d: local_conv2d(a, c, d, stride=stride, padding=padding), [x, w, b])


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 2))
def test_tiled_conv2d_cycles_its_kernels(seed, th, tw):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 6, 5))
    w = rng.standard_normal((th, tw, 3, 2, 2, 2))
    y = tiled_conv2d(gg.tensor(x), gg.tensor(w)).numpy()
    oh, ow = 5, 4
    local = np.empty((3, oh, ow, 2, 2, 2))
    for i in range(oh):
        for j in range(ow):
            local[:, i, j] = w[i % th, j % tw]
    np.testing.assert_allclose(y, _local_reference(x, local, 1, 0))
    gg.gradcheck(lambda a, c: tiled_conv2d(a, c), [x, w])


def test_tiled_with_one_tile_is_conv_and_parameter_counts():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((1, 1, 3, 2, 3, 3))
    np.testing.assert_allclose(tiled_conv2d(gg.tensor(x), gg.tensor(w)).numpy(),
                               reference_conv(x, w[0, 0]))
    # the notes' question "what is the number of parameters?" for 5 kernels, 1 channel, 3 taps
    assert np.prod((5, 1, 1, 1, 1, 3)) == 15


# ----- geometry ---------------------------------------------------------------------------------
def test_conv_output_shape_floor_and_strict():
    """The notes: 7x7 input, 3x3 kernel: stride 1 -> 5x5, stride 2 -> 3x3, stride 3 "cannot"."""
    assert conv_output_shape((7, 7), 3).out_size == (5, 5)
    g2 = conv_output_shape((7, 7), 3, stride=2, strict=True)
    assert g2.out_size == (3, 3) and g2.exact == (True, True)
    g3 = conv_output_shape((7, 7), 3, stride=3)
    assert g3.out_size == (2, 2) and g3.exact == (False, False)  # floor convention
    with pytest.raises(ShapeError, match=r"stride 3 cannot tile.*7.*1 element"):
        conv_output_shape((7, 7), 3, stride=3, strict=True)
    assert conv_output_shape(32, 5, padding=2).out_size == (32,)
    # the worked example
    assert conv_output_shape((5, 5), 3, padding=1, stride=2).out_size == (3, 3)
    x, w = gg.zeros(1, 1, 7, 7), gg.zeros(1, 1, 3, 3)
    with pytest.raises(ShapeError, match="conv2d: stride 3 cannot tile"):
        conv2d(x, w, stride=3, strict=True)
    assert conv2d(x, w, stride=3).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("kwargs, x_shape, w_shape, message", [
    (dict(), (1, 1, 2, 2), (1, 1, 3, 3), r"conv2d: kernel spans 3 .* padded input has only 2"),
    (dict(dilation=2), (1, 1, 4, 4), (1, 1, 3, 3),
     r"kernel spans 5 elements \(kernel 3 with dilation 2\)"),
    (dict(stride=0), (1, 1, 4, 4), (1, 1, 3, 3), r"conv2d: stride must be positive, got 0"),
    (dict(dilation=(1, -1)), (1, 1, 4, 4), (1, 1, 3, 3), r"conv2d: dilation must be positive"),
    (dict(), (1, 3, 4, 4), (2, 2, 3, 3),
     r"conv2d: the input has 3 channels but the kernel .* expects 2"),
    (dict(groups=2), (1, 3, 4, 4), (2, 1, 3, 3), r"groups=2 does not divide the 3 input channels"),
    (dict(groups=2), (1, 4, 4, 4), (3, 2, 3, 3), r"groups=2 does not divide the 3 output channels"),
    (dict(padding=-1), (1, 1, 4, 4), (1, 1, 3, 3), r"padding must be non-negative"),
    (dict(padding="full"), (1, 1, 4, 4), (1, 1, 3, 3), r"'same' or 'valid'"),
    (dict(), (1, 4, 4), (1, 1, 3, 3), r"conv2d: x must have 4 axes"),
])
def test_bad_geometry_raises_a_clear_error(kwargs, x_shape, w_shape, message):
    with pytest.raises(ShapeError, match=message):
        conv2d(gg.zeros(*x_shape), gg.zeros(*w_shape), **kwargs)


def test_bad_bias_and_local_shapes():
    with pytest.raises(ShapeError, match=r"bias must have shape \(2,\)"):
        conv2d(gg.zeros(1, 1, 4, 4), gg.zeros(2, 1, 3, 3), gg.zeros(3))
    with pytest.raises(ShapeError,
                       match=r"local_conv2d: this geometry gives an output of \(2, 2\)"):
        local_conv2d(gg.zeros(1, 1, 4, 4), gg.zeros(2, 3, 3, 1, 3, 3))


def test_conv_transpose2d_output_padding_up_to_the_dilation():
    """PyTorch allows output_padding < max(stride, dilation); stride 1, dilation 2,
    output_padding 1 used to fail an internal assertion. The extra row and column are zeros."""
    rng = np.random.default_rng(0)
    y, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 3, 3, 3))
    out = conv_transpose2d(gg.tensor(y), gg.tensor(w), dilation=2, output_padding=1)
    assert out.shape == (1, 3, 9, 9)  # (4 - 1) + 2 * (3 - 1) + 1 + 1
    plain = conv_transpose2d(gg.tensor(y), gg.tensor(w), dilation=2).numpy()
    np.testing.assert_allclose(out.numpy()[:, :, :8, :8], plain)
    assert not out.numpy()[:, :, 8, :].any() and not out.numpy()[:, :, :, 8].any()
    gg.gradcheck(lambda a, b: conv_transpose2d(a, b, dilation=2, output_padding=1),
                 [y[:, :, :2, :2], w])
