"""Grad of grad through a compiled region runs generated code: the VJP of a compiled call is
itself compiled on demand (traced once, cached), and its second derivatives match eager mode."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from tests.ops.specs import SPECS

from .helpers import _second, assert_close

SMOOTH = sorted(n for n, s in SPECS.items() if s.differentiable and s.smooth)


def _counting(fn):
    calls = []

    def counted(*args):
        calls.append(1)
        return fn(*args)

    return counted, calls


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data())
def test_primitive_second_derivatives_run_compiled_code(name, data):
    """Eager second derivatives (float64) on the trace call and on a call of the generated code
    alone; after the traces the user's function is never called again."""
    fn, arrays = SPECS[name].draw(data)
    counted, calls = _counting(fn)
    compiled = gg.compile(counted)
    eager = _second(fn, arrays, "cpu")
    for _ in range(2):
        for c, e in zip(_second(compiled, arrays, "cpu"), eager):
            assert_close(c, e, f"{name}: second derivative")
    traced = len(calls)
    for c, e in zip(_second(compiled, arrays, "cpu"), eager):
        assert_close(c, e, f"{name}: second derivative, third call")
    assert len(calls) == traced  # no eager re-run of the function, no new trace


def test_vjp_is_a_compiled_node_with_generated_source():
    f = lambda x, y: gg.sin(x) * y * y  # noqa: E731
    compiled = gg.compile(f)
    x = gg.tensor(0.7, dtype="float64", requires_grad=True, name="x")
    y = gg.tensor(-1.3, dtype="float64", requires_grad=True, name="y")
    out = compiled(x, y)
    dx, dy = gg.autograd.grad(out, [x, y], create_graph=True)
    assert dx.op.name.startswith("compiled:fn_vjp") and dy.op.name.startswith("compiled:fn_vjp")
    vjp = compiled._last.vjp_functions[0]
    assert "def fn_vjp_backward0(" in vjp.source and "def fn_vjp_backward1(" in vjp.source
    # by hand: dx = cos(x) y^2, dy = 2 sin(x) y; d(dx)/dx = -sin(x) y^2, d(dy)/dx = 2 cos(x) y
    ddx = gg.autograd.grad(dx, [x, y])
    assert [t.item() for t in ddx] == pytest.approx(
        [-np.sin(0.7) * 1.69, 2 * np.cos(0.7) * -1.3], rel=1e-12)
    ddy = gg.autograd.grad(dy, [x, y])
    assert [t.item() for t in ddy] == pytest.approx([2 * np.cos(0.7) * -1.3, 2 * np.sin(0.7)],
                                                    rel=1e-12)


def test_third_derivative_and_captured_parameter():
    """d3/dx3 of w * exp(2x) * x with w captured: nested compiled VJPs, and w's mixed partials."""
    w = gg.tensor(1.5, dtype="float64", requires_grad=True, name="w")
    compiled = gg.compile(lambda x: w * gg.exp(2.0 * x) * x)
    x0 = 0.3
    for _ in range(2):
        x = gg.tensor(x0, dtype="float64", requires_grad=True)
        (d1,) = gg.autograd.grad(compiled(x), [x], create_graph=True)
        (d2,) = gg.autograd.grad(d1, [x], create_graph=True)
        d3, dw = gg.autograd.grad(d2, [x, w])
        e = np.exp(2 * x0)
        # f = w x e^{2x}: f''' = w e^{2x} (8x + 12); d(f'')/dw = e^{2x} (4x + 4)
        assert d3.item() == pytest.approx(1.5 * e * (8 * x0 + 12), rel=1e-12)
        assert dw.item() == pytest.approx(e * (4 * x0 + 4), rel=1e-12)
        assert w.grad is None
