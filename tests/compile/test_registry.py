"""Every primitive and composite compiled against eager (values, first and second derivatives),
on NumPy and on the strict array-API backend, driven by the spec registries."""

import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from tests.composites.composite_specs import COMPOSITE_SPECS, SMOOTH as COMPOSITE_SMOOTH
from tests.ops.specs import SPECS

from .helpers import check_against_eager

PRIMS = sorted(SPECS)
COMPOSITES = sorted(COMPOSITE_SPECS)


@pytest.mark.parametrize("name", PRIMS)
@given(data=st.data())
def test_primitive_compiled_matches_eager(name, data):
    spec = SPECS[name]
    fn, arrays = spec.draw(data)
    check_against_eager(fn, arrays, differentiable=spec.differentiable,
                        second_order=spec.differentiable and spec.smooth)


@pytest.mark.parametrize("name", COMPOSITES)
@given(data=st.data())
def test_composite_compiled_matches_eager(name, data):
    fn, arrays = COMPOSITE_SPECS[name](data)
    check_against_eager(fn, arrays, second_order=name in COMPOSITE_SMOOTH)


@pytest.mark.parametrize("name", ["add", "mul", "exp", "log", "pow", "maximum", "sum", "max",
                                  "matmul", "transpose", "reshape", "greater"])
@given(data=st.data())
def test_primitive_compiled_on_strict_backend(name, data):
    spec = SPECS[name]
    fn, arrays = spec.draw(data)
    check_against_eager(fn, arrays, device="strict", differentiable=spec.differentiable)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy"])
@given(data=st.data())
def test_composite_compiled_on_strict_backend(name, data):
    fn, arrays = COMPOSITE_SPECS[name](data)
    check_against_eager(fn, arrays, device="strict")


@given(data=st.data())
def test_compiled_gradient_matches_central_differences(data):
    """The compiled region as an op of its own: gradcheck and gradgradcheck (float64)."""
    fn, arrays = SPECS["mul"].draw(data)
    compiled = gg.compile(lambda x, y: gg.sigmoid(fn(x, y)) * gg.exp(-x))
    gg.gradcheck(compiled, arrays)
    gg.gradgradcheck(compiled, arrays)
