"""Registry loop: every primitive's gradient against central differences, in float64.

First derivatives for all, second derivatives for the smooth ones, over random shapes with
broadcasting (the specs decide domains). A primitive without a spec fails here.
"""

import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad._primitive import PRIMITIVES

from .specs import SPECS

DIFFERENTIABLE = sorted(name for name, spec in SPECS.items() if spec.differentiable)
SMOOTH = sorted(name for name, spec in SPECS.items() if spec.differentiable and spec.smooth)


def test_every_primitive_has_a_spec():
    assert set(PRIMITIVES) == set(SPECS), (
        f"missing specs: {set(PRIMITIVES) - set(SPECS)}; "
        f"specs without primitive: {set(SPECS) - set(PRIMITIVES)}"
    )


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@given(data=st.data())
def test_vjp_matches_central_differences(name, data):
    spec = SPECS[name]
    fn, arrays = spec.draw(data)
    gg.gradcheck(fn, arrays, eps=spec.eps)


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data())
def test_second_derivatives_match_central_differences(name, data):
    fn, arrays = SPECS[name].draw(data)
    gg.gradgradcheck(fn, arrays)


@pytest.mark.parametrize("name", sorted(n for n, s in SPECS.items() if not s.differentiable))
@given(data=st.data())
def test_non_differentiable_ops_carry_no_gradient(name, data):
    fn, arrays = SPECS[name].draw(data)
    inputs = [gg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    assert not out.requires_grad and out.op is None
