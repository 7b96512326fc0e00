"""Issue #12, "one backward": a picture's gradients come from the engine's sweep for the drawn
roots, never from a stale `.grad` and never from a replay of the viewer's own. Expected numbers
are worked by hand in each test."""

import math

import numpy as np
import pytest

import graphgrad as gg


def node_of(view, tensor):
    return view.node(f"n{tensor.seq}")


def test_gradient_graph_shows_d_root_d_x_not_the_stale_grad():
    """f = x sin x at x = 1: x.grad = sin 1 + cos 1 = 1.382 is a graph; drawing it, x's gradient
    is d(x.grad)/dx = 2 cos 1 - sin 1 = 0.239 (the issue saw the stale 1.382)."""
    x = gg.tensor(1.0, dtype="float64", requires_grad=True, name="x")
    f = x * gg.sin(x)
    f.backward(create_graph=True)
    assert x.grad.item() == pytest.approx(math.sin(1) + math.cos(1))
    for grads in (True, "auto"):
        view = gg.viz.trace(x.grad, grads=grads)
        assert node_of(view, x).grad == pytest.approx(2 * math.cos(1) - math.sin(1))
        wires = sorted(float(e.flow) for e in view.edges if e.src == f"n{x.seq}")
        assert sum(wires) == pytest.approx(2 * math.cos(1) - math.sin(1))
    assert x.grad.item() == pytest.approx(math.sin(1) + math.cos(1))  # .grad untouched
    seed = [n for n in view.nodes if n.name == "seed"]
    assert len(seed) == 1 and seed[0].op is None and float(seed[0].value) == 1.0


@pytest.mark.parametrize("retain", [True, False])
def test_two_backward_calls_sharing_a_bias(retain):
    """l1 = (w x + b)^2, l2 = (w y + b)^2 at w = 2, x = 3, y = -1, b = 1: b.grad sums 14 and -2,
    but drawing l2 shows b's gradient in l2, -2 = 2 (w y + b), which is also its only wire."""
    w = gg.tensor(2.0, dtype="float64", requires_grad=True, name="w")
    b = gg.tensor(1.0, dtype="float64", requires_grad=True, name="b")
    l1 = (w * 3.0 + b) ** 2
    l2 = (w * -1.0 + b) ** 2
    l1.backward(retain_graph=retain)
    l2.backward(retain_graph=retain)
    assert b.grad.item() == pytest.approx(12.0)
    view = gg.viz.trace(l2)
    assert node_of(view, b).grad == pytest.approx(-2.0)
    (wire,) = [e for e in view.edges if e.src == f"n{b.seq}"]
    assert float(wire.flow) == pytest.approx(-2.0)
    if retain:  # still whole: each drawing sweeps its own root
        assert node_of(gg.viz.trace(l1), b).grad == pytest.approx(14.0)
    else:  # b's last recorded gradient is l2's: l1's picture does not borrow it
        assert node_of(gg.viz.trace(l1), b).grad is None


def test_grads_true_before_backward_leaves_grad_alone():
    x = gg.tensor(3.0, requires_grad=True, name="x")
    f = x * x
    view = gg.viz.trace(f, grads=True)
    assert node_of(view, x).grad == pytest.approx(6.0)
    assert x.grad is None and f._backward is None
    f.backward()  # the graph was not released by the drawing
    assert x.grad.item() == pytest.approx(6.0)


def test_fan_out_node_gradient_is_the_sum_of_its_wires_after_plain_backward():
    x = gg.tensor(2.0, dtype="float64", requires_grad=True, name="x")
    f = x * x + gg.exp(x)  # df/dx = 2x + e^x
    f.backward()
    view = gg.viz.trace(f)
    flows = [float(e.flow) for e in view.edges if e.src == f"n{x.seq}"]
    assert node_of(view, x).grad == pytest.approx(4 + math.exp(2))
    assert sum(flows) == pytest.approx(4 + math.exp(2)) and len(flows) == 2


def test_large_released_nodes_show_statistics():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((80, 80))
    w = gg.tensor(data, requires_grad=True, name="w")
    loss = (gg.exp(w) * 0.5).sum()
    loss.backward()
    view = gg.viz.trace(loss)
    (big,) = [n for n in view.nodes if n.op == "exp"]
    assert big.value is None and big.shape == (80, 80)
    assert big.value_stats.mean == pytest.approx(np.exp(data).mean())
    assert big.grad_stats.min == big.grad_stats.max == pytest.approx(0.5)
    assert "exp" in gg.viz.draw(loss).source


def test_notebook_display_shows_values_without_drawing(monkeypatch):
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    y = (x * 2.0).sum()
    y.backward()

    def refuse(*args, **kwargs):
        raise AssertionError("display must not draw the graph")

    monkeypatch.setattr(gg.viz, "draw", refuse)
    monkeypatch.setattr(gg.viz, "trace", refuse)
    bundle = x._repr_mimebundle_()
    html = bundle["text/html"]
    assert "(2, 2)" in html and str(x.dtype) in html and "4.0000" in html and "2.0000" in html
    assert "image/svg+xml" not in bundle and bundle["text/plain"] == repr(x)
    assert "sum" in y._repr_mimebundle_()["text/html"]


def test_tensor_draw_returns_the_digraph():
    x = gg.tensor(2.0, requires_grad=True, name="x")
    f = x * 3.0
    dot = f.draw(style="circuit", grads=True)
    assert hasattr(dot, "source") and "<B>x</B>" in dot.source
