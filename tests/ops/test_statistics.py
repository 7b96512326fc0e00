"""var and std: built from the gates (mean, mul, pow, where), checked like the primitives."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.testing import strategies as gst


def _draw_reduction(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    return data.draw(gst.arrays(shape), label="x"), axis, keepdims


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data())
def test_values_are_numpys_and_gradients_match_central_differences(name, data):
    """Equal values along the axis included: std's gradient there is 0, and so is the central
    difference of the symmetric kink |e| that std makes there."""
    x, axis, keepdims = _draw_reduction(data)
    spread = np.std(x, axis=axis)
    assume(np.all((spread == 0) | (spread > 1e-3)))  # no kink within eps of the values
    fn = getattr(gg, name)
    out = fn(gg.tensor(x), axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    gg.gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data())
def test_second_derivatives_match_central_differences(name, data):
    x, axis, keepdims = _draw_reduction(data)
    assume(np.all(np.var(x, axis=axis) > 1e-2))  # std is smooth only where the values spread
    gg.gradgradcheck(lambda t: getattr(gg, name)(t, axis=axis, keepdims=keepdims), [x])


def test_std_of_equal_values_has_zero_gradient_not_nan():
    """PyTorch's answer; sqrt's slope at 0 times the zero upstream gave 0 * inf = nan."""
    x = gg.tensor(np.array([[2.0, 1.0], [2.0, 3.0], [2.0, 5.0]]), requires_grad=True)
    s = gg.std(x, axis=0)
    s.sum().backward()
    np.testing.assert_allclose(s.numpy(), [0.0, np.sqrt(8 / 3)])
    # d std / d x_i = (x_i - mean) / (n std) in the second column
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, -2 / (3 * np.sqrt(8 / 3))], [0.0, 0.0],
                                                [0.0, 2 / (3 * np.sqrt(8 / 3))]])
