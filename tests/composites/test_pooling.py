"""Max, average and Lp pooling, channel pooling and maxout: direct loops, numerical gradients,
gate expansions, the tie rule, and the notes' claim of invariance to small shifts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad.composites.pooling import (
    avg_pool2d,
    lp_pool2d,
    lp_pool_channels,
    max_pool2d,
    max_pool_channels,
    maxout,
)
from graphgrad.errors import ArgumentError, ShapeError

from .helpers import assert_fused_matches_expansion, op_names


def _reference_pool(x, reduce, k, s, p, d=(1, 1), fill=0.0):
    """Pool by the definition: one window at a time, padding filled with `fill`."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0],
                        j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]]
            out[:, :, i, j] = reduce(window.reshape(n, c, -1))
    return out


@st.composite
def pool_cases(draw, dilation=True):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    size = tuple(max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 3))
                 for kk, dd, pp in zip(k, d, p))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    # distinct values 0.05 apart and away from 0: no ties, no kinks under finite differences
    count = n * c * size[0] * size[1]
    values = (rng.permutation(count) + 1.0) * 0.05 * rng.choice([-1.0, 1.0], count)
    return values.reshape((n, c) + size), k, s, p, d


# The expansion pads with -inf; products of -inf padding with zero cotangents in the second-order
# graph may make NaNs on padding positions, which the pad gate's VJP crops away.
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@given(pool_cases())
def test_max_pool2d_direct_loop_gradients_and_expansion(case):
    x, k, s, p, d = case
    fn = lambda t: max_pool2d(t, k, s, p, d)
    np.testing.assert_array_equal(fn(gg.tensor(x)).numpy(),
                                  _reference_pool(x, lambda w: w.max(-1), k, s, p, d, -np.inf))
    gg.gradcheck(fn, [x])
    gg.gradgradcheck(fn, [x])
    assert_fused_matches_expansion(fn, [x])


@given(pool_cases(dilation=False))
def test_avg_pool2d_direct_loop_gradients_and_expansion(case):
    x, k, s, p, _ = case
    fn = lambda t: avg_pool2d(t, k, s, p)
    np.testing.assert_allclose(fn(gg.tensor(x)).numpy(),
                               _reference_pool(x, lambda w: w.mean(-1), k, s, p), rtol=1e-12,
                               atol=1e-14)  # a window summing to ~0 differs only in rounding
    gg.gradcheck(fn, [x])
    gg.gradgradcheck(fn, [x])
    assert_fused_matches_expansion(fn, [x])


# In the gate expansion, zero padding meets |x|^p, whose higher derivatives are infinite at 0 for
# p < 2; those terms land on padding positions, which fold crops away, so results stay finite.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@given(pool_cases(dilation=False), st.sampled_from([1.0, 1.5, 2.0, 3.0, 4.5]))
def test_lp_pool2d_direct_loop_gradients_and_expansion(case, power):
    x, k, s, p, _ = case
    fn = lambda t: lp_pool2d(t, power, k, s, p)
    expected = _reference_pool(x, lambda w: (np.abs(w) ** power).sum(-1) ** (1 / power), k, s, p)
    np.testing.assert_allclose(fn(gg.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-12)
    gg.gradcheck(fn, [x])
    if power > 1.0:  # |x| has a kink at 0 for p = 1; values stay 0.05 away from it anyway
        gg.gradgradcheck(fn, [x])
    assert_fused_matches_expansion(fn, [x], rtol=1e-8)


def test_l2_pooling_is_the_notes_formula_and_zero_windows_have_zero_gradient():
    x = np.array([[[[3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    t = gg.tensor(x, requires_grad=True)
    y = lp_pool2d(t, 2, 2)
    np.testing.assert_allclose(y.numpy(), [[[[5.0, 0.0]]]])
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [[[[0.6, 0.8, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool_tie_rule_shares_the_gradient():
    """Tied winners share a window's gradient equally, like the engine's max gate; the
    expansion (unfold + max reduction) agrees exactly."""
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [0.0, 1.0, 2.0, 2.0]]]])
    for expand in (False, True):
        t = gg.tensor(x, requires_grad=True)
        with gg.expand_composites(expand):
            max_pool2d(t, 2).sum().backward()
        np.testing.assert_array_equal(
            t.grad.numpy(), [[[[1 / 3, 1 / 3, 0.0, 1 / 3], [0.0, 1 / 3, 1 / 3, 1 / 3]]]])


def test_max_pool_routes_to_the_winner_and_returns_switches():
    """The notes' example: 4x4 input, 2x2 max pool, stride 2 -> [[6, 8], [3, 4]]."""
    x = np.array([[[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]], float)
    t = gg.tensor(x, requires_grad=True)
    y, switches = max_pool2d(t, 2, stride=2, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), [[[[6, 8], [3, 4]]]])
    np.testing.assert_array_equal(switches.numpy(), [[[[5, 7], [8, 15]]]])
    assert not switches.requires_grad
    (y * gg.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))).sum().backward()
    expected = np.zeros((4, 4))
    expected.flat[[5, 7, 8, 15]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(t.grad.numpy()[0, 0], expected)


@given(st.integers(0, 2**16), st.integers(0, 3), st.integers(0, 3))
def test_max_pool_is_invariant_to_small_shifts_inside_a_window(seed, i, j):
    """Moving each window's maximum to another place inside the same window leaves the pooled
    output unchanged: pooling forgets where, inside the window, the feature was."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (1, 2, 8, 8))
    moved = x.copy()
    for c in range(2):
        for bi in range(2):
            for bj in range(2):
                block = moved[0, c, 4 * bi:4 * bi + 4, 4 * bj:4 * bj + 4]
                r, q = np.unravel_index(np.argmax(block), block.shape)
                block[r, q], block[i, j] = block[i, j], block[r, q]
    np.testing.assert_array_equal(max_pool2d(gg.tensor(x), 4).numpy(),
                                  max_pool2d(gg.tensor(moved), 4).numpy())


def test_max_pool_of_a_shifted_feature():
    """A single bright pixel shifted by one inside a 2x2 window gives the same output."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = 1.0
    shifted = np.roll(x, 1, axis=3)
    np.testing.assert_array_equal(max_pool2d(gg.tensor(x), 2).numpy(),
                                  max_pool2d(gg.tensor(shifted), 2).numpy())


@given(st.integers(0, 2**16), st.integers(1, 3), st.sampled_from([None, 1]),
       st.sampled_from([2.0, 3.0]))
def test_lp_pool_channels_pools_over_features(seed, size, stride, power):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 1.0, (2, 6, 3, 2)) * rng.choice([-1.0, 1.0], (2, 6, 3, 2))
    step = size if stride is None else stride
    starts = range(0, 6 - size + 1, step)
    expected = np.stack([(np.abs(x[:, s:s + size]) ** power).sum(1) ** (1 / power)
                         for s in starts], axis=1)
    fn = lambda t: lp_pool_channels(t, power, size=size, stride=stride)
    np.testing.assert_allclose(fn(gg.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-12)
    gg.gradcheck(fn, [x])
    gg.gradgradcheck(fn, [x])


def test_channel_pooling_on_another_axis_and_max():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    y = lp_pool_channels(gg.tensor(x), 2, size=2, axis=-1).numpy()
    np.testing.assert_allclose(y, np.sqrt(x[..., 0::2] ** 2 + x[..., 1::2] ** 2))
    m = max_pool_channels(gg.tensor(x), size=2, axis=2).numpy()
    np.testing.assert_array_equal(m, np.maximum(x[..., 0::2], x[..., 1::2]))


@given(st.integers(0, 2**16), st.sampled_from([1, 2, 3]), st.sampled_from([0, 1, -1]))
def test_maxout(seed, pieces, axis):
    rng = np.random.default_rng(seed)
    shape = [2, 3, 3]
    shape[axis] = 6
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1
    moved = np.moveaxis(x, axis, 0)
    expected = np.stack([moved[j * pieces:(j + 1) * pieces].max(0) for j in range(6 // pieces)])
    y = maxout(gg.tensor(x), pieces, axis=axis)
    np.testing.assert_array_equal(y.numpy(), np.moveaxis(expected, 0, axis))
    gg.gradcheck(lambda t: maxout(t, pieces, axis=axis), [x])


def test_pooling_expansions_are_gates():
    x = gg.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    with gg.expand_composites():
        assert {"unfold", "max"} <= op_names(max_pool2d(x, 2))
        assert {"pad", "unfold", "max"} <= op_names(max_pool2d(x, 3, 2, 1))
        assert {"unfold", "sum"} <= op_names(avg_pool2d(x, 2))
        assert {"unfold", "pow", "sum"} <= op_names(lp_pool2d(x, 3, 2))
    assert max_pool2d(x, 2).op.name == "max_pool"


def test_pooling_on_the_strict_backend_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 5, 6))
    for fn in (lambda t: max_pool2d(t, 3, 2, 1), lambda t: avg_pool2d(t, 2, 1, 1),
               lambda t: lp_pool2d(t, 2, 2)):
        results = []
        for device in ("cpu", "strict"):
            t = gg.tensor(x, device=device, requires_grad=True)
            y = fn(t)
            (y * y).sum().backward()
            results.append((gg.backend.to_numpy(y.data), gg.backend.to_numpy(t.grad.data)))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda x: max_pool2d(x, 5), r"max_pool2d: kernel spans 5 .* only 4"),
    (lambda x: max_pool2d(x, 2, padding=2), r"padding 2 must be at most half the kernel"),
    (lambda x: max_pool2d(x, 2, stride=0), r"max_pool2d: stride must be positive"),
    (lambda x: max_pool2d(x, 3, stride=2, strict=True), r"stride 2 cannot tile"),
    (lambda x: lp_pool2d(x, 0.5, 2), r"lp_pool2d: p must be a finite number >= 1"),
    (lambda x: maxout(x, 4),
     r"maxout: 3 channels along axis 1 do not split into groups of pieces=4"),
    (lambda x: max_pool2d(x.reshape(3, 4, 4), 2),
     r"max_pool2d: expected x of shape \(N, C, H, W\)"),
])
def test_bad_pooling_arguments_raise_clear_errors(call, message):
    with pytest.raises(ShapeError, match=message):
        call(gg.zeros(1, 3, 4, 4))


@pytest.mark.parametrize("call, message", [
    (lambda x: avg_pool2d(x, 2, padding="same"), r"avg_pool2d: padding must be an int or a tuple"),
    (lambda x: max_pool2d(x, 2.5), r"max_pool2d: kernel_size must be an int or a tuple"),
    (lambda x: maxout(x, 1.0), r"maxout: pieces must be an int"),
    (lambda x: lp_pool2d(x, True, 2), r"lp_pool2d: p must be a number"),
    (lambda x: max_pool2d(x.numpy(), 2), r"max_pool2d: x must be a Tensor"),
])
def test_pooling_arguments_of_the_wrong_kind_are_argument_errors(call, message):
    """The declarations check kinds from the annotations: 'same' is not a pooling padding."""
    with pytest.raises(ArgumentError, match=message):
        call(gg.zeros(1, 3, 4, 4))
