"""Ops built from the gates rather than declared as primitives (sub, div, abs, sqrt, minimum,
min, mean, var, std and the shape helpers): values against NumPy, first and second derivatives
against central differences, as test_all_primitives does for the primitives."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.testing import strategies as gst


def _binary(gg_fn, np_fn, nonzero_y=False, tie_free=False):
    def draw(data):
        shape_x, shape_y = data.draw(gst.broadcastable_shapes(2), label="shapes")
        if tie_free:
            arrays = list(data.draw(gst.tie_free_pair(shape_x, shape_y), label="x, y"))
        else:
            arrays = [data.draw(gst.arrays(shape_x), label="x"),
                      data.draw(gst.arrays(shape_y, away_from_zero=0.2 if nonzero_y else 0.0),
                                label="y")]
        return gg_fn, np_fn, arrays
    return draw


def _unary(gg_fn, np_fn, **domain):
    def draw(data):
        shape = data.draw(gst.shapes(), label="shape")
        return gg_fn, np_fn, [data.draw(gst.arrays(shape, **domain), label="x")]
    return draw


def _reduction(name, separated=False, min_spread=None):
    """`min_spread`: std has a kink where the values are equal; keep them equal (the gradient
    is 0 there, and so is the central difference of the symmetric kink) or that far apart."""
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
        keepdims = data.draw(st.booleans(), label="keepdims")
        x = data.draw(gst.well_separated(shape) if separated else gst.arrays(shape), label="x")
        if min_spread is not None:
            spread = np.std(x, axis=axis)
            assume(np.all((spread == 0) | (spread > min_spread)))
        return (lambda t: getattr(gg, name)(t, axis=axis, keepdims=keepdims),
                lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims), [x])
    return draw


def _reshaping(data):
    """flatten, expand_dims and swapaxes in one chain: (n, ...) -> (rest, n, 1)."""
    x = data.draw(gst.arrays(data.draw(gst.shapes(min_dims=2), label="shape")), label="x")
    return (lambda t: gg.swapaxes(gg.expand_dims(gg.flatten(t, 1), 0), 0, 2),
            lambda a: np.swapaxes(a.reshape(1, a.shape[0], -1), 0, 2), [x])


def _stacking(data):
    """stack, then squeeze an added axis again."""
    shape = data.draw(gst.shapes(), label="shape")
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    x, y = (data.draw(gst.arrays(shape), label=name) for name in "xy")
    return (lambda a, b: gg.squeeze(gg.expand_dims(gg.stack([a, b, a], axis=axis), 0), axis=0),
            lambda a, b: np.stack([a, b, a], axis=axis), [x, y])


def _clipping(data):
    """Bounds drawn apart, values kept off them (the kinks)."""
    shape = data.draw(gst.shapes(), label="shape")
    low = data.draw(st.sampled_from([None, -1.0, 0.25]), label="min")
    high = data.draw(st.sampled_from([None, 1.5] if low is not None else [1.5]), label="max")
    x = data.draw(gst.arrays(shape), label="x")
    for bound in (low, high):
        if bound is not None:
            x = np.where(np.abs(x - bound) < 0.05, bound + 0.1, x)
    return (lambda t: gg.clip(t, low, high)), (lambda a: np.clip(a, low, high)), [x]


def _norm(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    p = data.draw(st.sampled_from([1, 2, 3.5]), label="p")
    x = data.draw(gst.arrays(shape, away_from_zero=0.05 if p == 1 else 0.0), label="x")
    assume(np.all(np.abs(x).sum(axis=axis) > 1e-2))  # the zero vector is a kink (tested below)
    return (lambda t: gg.norm(t, p=p, axis=axis, keepdims=keepdims),
            lambda a: (np.abs(a) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p), [x])


def _logsumexp(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = data.draw(gst.arrays(shape), label="x") * 30  # large enough that exp alone would lose
    return (lambda t: gg.logsumexp(t, axis=axis, keepdims=keepdims),
            lambda a: np.log(np.exp(a - a.max()).sum(axis=axis, keepdims=keepdims)) + a.max(),
            [x])


DERIVED = {
    "sub": _binary(gg.sub, np.subtract),
    "div": _binary(gg.div, np.divide, nonzero_y=True),
    "minimum": _binary(gg.minimum, np.minimum, tie_free=True),
    "abs": _unary(gg.abs, np.abs, away_from_zero=0.05),
    "sqrt": _unary(gg.sqrt, np.sqrt, domain="positive"),
    "mean": _reduction("mean"),
    "min": _reduction("min", separated=True),
    "var": _reduction("var"),
    "std": _reduction("std", min_spread=1e-3),
    "flatten, expand_dims, swapaxes": _reshaping,
    "stack, squeeze": _stacking,
    "clip": _clipping,
    "norm": _norm,
    "logsumexp": _logsumexp,
}
# second derivatives 0: nothing for gradgradcheck
PIECEWISE_LINEAR = {"minimum", "abs", "min", "clip"}


@pytest.mark.parametrize("name", sorted(DERIVED))
@given(data=st.data())
def test_values_are_numpys_and_gradients_match_central_differences(name, data):
    gg_fn, np_fn, arrays = DERIVED[name](data)
    out = gg_fn(*[gg.tensor(a) for a in arrays])
    expected = np_fn(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    gg.gradcheck(gg_fn, arrays)


@pytest.mark.parametrize("name", sorted(set(DERIVED) - PIECEWISE_LINEAR))
@given(data=st.data())
def test_second_derivatives_match_central_differences(name, data):
    gg_fn, _, arrays = DERIVED[name](data)
    if name == "std":  # smooth only where the values spread
        assume(np.all(gg_fn(gg.tensor(arrays[0])).numpy() > 1e-2))
    if name == "norm":  # at an element 0 the slope |x|^(p-2) of a non-integer p is not smooth:
        # a central difference of step e reads e^(p-2) / norm^(p-1) there, large for a small
        # norm (0.0002 for [0, 1/64], p = 3.5, where the exact value is 0)
        assume(np.all(gg_fn(gg.tensor(arrays[0])).numpy() > 0.5))
    gg.gradgradcheck(gg_fn, arrays)


def test_std_of_equal_values_has_zero_gradient_not_nan():
    """PyTorch's answer; sqrt's slope at 0 times the zero upstream gave 0 * inf = nan."""
    x = gg.tensor(np.array([[2.0, 1.0], [2.0, 3.0], [2.0, 5.0]]), requires_grad=True)
    s = gg.std(x, axis=0)
    s.sum().backward()
    np.testing.assert_allclose(s.numpy(), [0.0, np.sqrt(8 / 3)])
    # d std / d x_i = (x_i - mean) / (n std) in the second column
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, -2 / (3 * np.sqrt(8 / 3))], [0.0, 0.0],
                                                [0.0, 2 / (3 * np.sqrt(8 / 3))]])


@pytest.mark.parametrize("name", ["any", "all", "argmin", "argmax"])
@given(data=st.data())
def test_truth_and_index_reductions_are_numpys(name, data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    x = data.draw(gst.arrays(shape), label="x")
    x = np.where(np.abs(x) < 1, 0.0, x)
    out = getattr(gg, name)(gg.tensor(x), axis=axis)
    expected = getattr(np, name)(x, axis=axis)
    assert out.shape == np.shape(expected) and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), expected)


def test_norm_and_logsumexp_at_their_edges():
    """The zero vector's norm has gradient 0 (PyTorch's), not nan; a row of -inf has logsumexp
    -inf, not nan; bad arguments say what is valid."""
    x = gg.tensor(np.array([[0.0, 0.0], [3.0, -4.0]]), requires_grad=True)
    norms = gg.norm(x, axis=1)
    np.testing.assert_allclose(norms.numpy(), [0.0, 5.0])
    norms.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [0.6, -0.8]])
    with np.errstate(divide="ignore"):
        rows = gg.logsumexp(gg.tensor(np.array([[-np.inf, -np.inf], [0.0, np.log(3.0)]])), axis=1)
    np.testing.assert_allclose(rows.numpy(), [-np.inf, np.log(4.0)])
    with pytest.raises(ValueError, match="norm: p must be a finite number >= 1"):
        gg.norm(x, p=0.5)
    with pytest.raises(ValueError, match="clip: min 2 is above max 1"):
        gg.clip(x, 2, 1)
    with pytest.raises(ValueError, match="clip: give min, max or both"):
        x.clamp()
    with pytest.raises(ValueError, match=r"ambiguous; use .any\(\) or .all\(\)"):
        bool(x > 0)
    assert bool((x > 0).any()) and not bool((x > 0).all())
