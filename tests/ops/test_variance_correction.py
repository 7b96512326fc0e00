"""var/std with a correction (torch's `correction=`/`unbiased=`, NumPy's `ddof=`): values against
NumPy, gradients against central differences in float64, first and second order."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.testing import strategies as gst


@settings(max_examples=25, deadline=None)
@given(st.data(), st.sampled_from(["var", "std"]), st.integers(0, 2))
def test_corrected_values_and_gradients(data, name, ddof):
    shape = data.draw(gst.shapes(min_dims=1, max_dims=3, min_side=3))
    x = data.draw(gst.arrays(shape))
    axis = data.draw(st.integers(0, len(shape) - 1))
    fn = lambda t: getattr(t, name)(dim=axis, correction=ddof)  # noqa: E731
    reference = getattr(np, name)(x, axis=axis, ddof=ddof)
    np.testing.assert_allclose(fn(gg.tensor(x)).numpy(), reference, rtol=1e-10, atol=1e-12)
    if name == "var" or np.all(reference > 1e-3):  # std's root has no derivative at 0
        gg.gradcheck(fn, [x])
        gg.gradgradcheck(fn, [x])


def test_spellings_agree_and_conflicts_are_refused():
    x = gg.tensor(np.array([1.0, 2.0, 4.0]))
    assert x.var(unbiased=True).item() == pytest.approx(np.var([1, 2, 4], ddof=1))
    assert x.var(ddof=1).item() == x.var(correction=1).item()
    assert x.var(unbiased=False).item() == pytest.approx(np.var([1, 2, 4]))
    with pytest.raises(gg.ArgumentError, match="var: got correction and ddof"):
        x.var(correction=1, ddof=1)
    with pytest.raises(gg.ShapeError, match="std: 1 value.*correction=1 divide by 0"):
        gg.tensor(np.ones(1)).std(correction=1)
