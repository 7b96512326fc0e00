"""NaN in gives NaN out: the guards that give std, norm and the floored log of
binary_cross_entropy their gradient 0 (at zero, at the floor) must not catch NaN, which fails
every comparison (they returned 0.0, 0.0 and a finite loss of 100)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg

REDUCTIONS = {
    "std": (lambda x, axis: gg.std(x, axis=axis), lambda a, axis: np.std(a, axis=axis)),
    "norm2": (lambda x, axis: gg.norm(x, axis=axis),
              lambda a, axis: np.sqrt(np.sum(a * a, axis=axis))),
    "norm3": (lambda x, axis: gg.norm(x, p=3, axis=axis),
              lambda a, axis: np.sum(np.abs(a) ** 3, axis=axis) ** (1 / 3)),
}


@pytest.mark.parametrize("device_name", ["cpu", "strict"])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_a_nan_makes_its_row_nan_and_no_other(device_name, name, data):
    device = gg.get_device(device_name)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    values = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    if data.draw(st.booleans()):  # zeros: the gradient-0 branch must still hold beside NaN
        values[..., 0] = 0.0
    values.flat[data.draw(st.integers(0, values.size - 1))] = np.nan
    axis = data.draw(st.one_of(st.none(), st.integers(0, len(shape) - 1)))
    ours, reference = REDUCTIONS[name]
    x = gg.tensor(values, device=device, requires_grad=True)
    out = ours(x, axis)
    expected = reference(values, axis)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(out.numpy()).any()
    out.sum().backward()
    assert np.isnan(x.grad.numpy()).any()  # the gradient shows it too


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_the_zero_vector_keeps_gradient_zero_and_second_order(device, name):
    x = gg.tensor(np.zeros(3), device=device)
    first = gg.grad(lambda t: REDUCTIONS[name][0](t, None))
    assert np.array_equal(first(x).numpy(), np.zeros(3))
    second = gg.grad(lambda t: first(t).sum())(x).numpy()
    assert np.isfinite(second).all()


def test_binary_cross_entropy_of_nan_probabilities_is_nan(device):
    probs = gg.tensor([0.25, np.nan, 0.0, 1.0], device=device, requires_grad=True)
    targets = gg.tensor([1.0, 0.0, 1.0, 0.0], device=device)
    losses = gg.binary_cross_entropy(probs, targets, reduction="none").numpy()
    np.testing.assert_allclose(losses, [-np.log(0.25), np.nan, 100.0, 100.0], equal_nan=True)
    assert np.isnan(gg.binary_cross_entropy(probs, targets).item())
    gg.binary_cross_entropy(probs, targets, reduction="sum").backward()
    grad = probs.grad.numpy()
    assert np.isnan(grad[1]) and np.isfinite(grad[[0, 2, 3]]).all()
    assert grad[2] == 0.0 and grad[3] == 0.0  # the floor's gradient 0 is kept
