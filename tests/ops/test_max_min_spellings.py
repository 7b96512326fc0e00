"""max/min in both spellings, amax/amin: values against NumPy, indices against np.argmax/argmin,
gradients against central differences (float64, random shapes, well-separated values: no ties).

Before: `x.max(1)` gave the values only, so the PyTorch idiom `x.max(1)[1]` (the predicted class)
silently returned the second row's maximum instead of the indices.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.testing import strategies as gst


@st.composite
def case(draw):
    shape = draw(gst.shapes(min_dims=1, max_dims=3))
    x = draw(gst.well_separated(shape))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return x, dim, draw(st.booleans())


@settings(max_examples=25, deadline=None)
@given(case(), st.sampled_from(["max", "min"]))
def test_dim_gives_values_and_indices_with_gradients(c, name):
    x, dim, keep = c
    values, indices = getattr(gg.tensor(x), name)(dim, keepdim=keep)
    reduce, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)
    np.testing.assert_allclose(values.numpy(), reduce(x, axis=dim, keepdims=keep))
    expected_indices = arg(x, axis=dim)
    assert indices.numpy().tolist() == (np.expand_dims(expected_indices, dim) if keep
                                        else expected_indices).tolist()
    gg.gradcheck(lambda t: getattr(t, name)(dim=dim, keepdim=keep).values, [x])


@settings(max_examples=25, deadline=None)
@given(case(), st.sampled_from(["amax", "amin", "max", "min"]))
def test_numpy_spelling_and_amax_give_values_with_gradients(c, name):
    x, dim, keep = c
    axes = tuple(sorted({dim % x.ndim, 0}))
    reduce = np.max if name in ("amax", "max") else np.min
    fn = ((lambda t: getattr(t, name)(dim=axes, keepdim=keep)) if name.startswith("a")
          else (lambda t: getattr(t, name)(axis=axes, keepdims=keep)))
    np.testing.assert_allclose(fn(gg.tensor(x)).numpy(), reduce(x, axis=axes, keepdims=keep))
    gg.gradcheck(fn, [x])
    gg.gradgradcheck(fn, [x])


def test_a_tensor_argument_is_the_elementwise_extreme():
    a, b = np.array([1.0, 5.0, -2.0]), np.array([3.0, 4.0, -1.0])
    np.testing.assert_allclose(gg.max(gg.tensor(a), gg.tensor(b)).numpy(), np.maximum(a, b))
    np.testing.assert_allclose(gg.min(gg.tensor(a), gg.tensor(b)).numpy(), np.minimum(a, b))


def test_both_spellings_at_once_are_refused():
    with pytest.raises(gg.ArgumentError, match="max: got both dim=1 and axis=0"):
        gg.tensor(np.ones((2, 2))).max(1, axis=0)
    with pytest.raises(gg.ArgumentError, match="max: dim must be an int"):
        gg.tensor(np.ones((2, 2))).max(dim=(0, 1))
