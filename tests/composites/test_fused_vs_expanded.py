"""Registry loop: every composite's fused node and its gate expansion agree.

Values, first derivatives and (where smooth) second derivatives must match, and the fused path
must itself pass gradcheck. A composite without a spec fails here.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad.composites import COMPOSITES

from .composite_specs import COMPOSITE_SPECS, SMOOTH

NAMES = sorted(COMPOSITE_SPECS)


def test_every_composite_has_a_spec():
    missing = set(COMPOSITES) - set(COMPOSITE_SPECS)
    assert not missing, f"composites without a spec in composite_specs.py: {sorted(missing)}"


def _value_and_grads(fn, arrays, expand):
    tensors = [gg.tensor(a, requires_grad=True) for a in arrays]
    with gg.expand_composites(expand):
        out = fn(*tensors)
        projection = np.random.default_rng(1).standard_normal(out.shape)
        (out * gg.tensor(projection)).sum().backward()
    return out.numpy(), [t.grad.numpy() if t.grad is not None else np.zeros_like(a)
                         for t, a in zip(tensors, arrays)]


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_fused_and_expanded_agree(name, data):
    fn, arrays = COMPOSITE_SPECS[name](data)
    fused_value, fused_grads = _value_and_grads(fn, arrays, expand=False)
    expanded_value, expanded_grads = _value_and_grads(fn, arrays, expand=True)
    np.testing.assert_allclose(fused_value, expanded_value, rtol=1e-9, atol=1e-12)
    for a, b in zip(fused_grads, expanded_grads):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_fused_gradient_matches_central_differences(name, data):
    fn, arrays = COMPOSITE_SPECS[name](data)
    gg.gradcheck(fn, arrays)


@pytest.mark.parametrize("name", sorted(SMOOTH & set(NAMES)))
@given(data=st.data())
def test_second_derivatives_fused_and_expanded(name, data):
    fn, arrays = COMPOSITE_SPECS[name](data)
    gg.gradgradcheck(fn, arrays)
    with gg.expand_composites():
        gg.gradgradcheck(fn, arrays)


def test_expansion_nodes_carry_the_composite_scope():
    x = gg.tensor(0.5, requires_grad=True)
    with gg.expand_composites():
        y = gg.sigmoid(x)
    assert y.op.name == "reciprocal"
    assert y.scope and y.scope[-1].kind == "composite" and y.scope[-1].name == "sigmoid"
    fused = gg.sigmoid(x)
    assert fused.op.composite is COMPOSITES["sigmoid"]
