"""Tensors -> GraphView: iterative walk, stable ids, multiplicity, gradients, heads, scopes."""

import sys

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn

from .conftest import neuron


def test_deep_chain_needs_no_recursion():
    x = gg.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0
    view = gg.viz.trace(y, grads=True)
    assert len([n for n in view.nodes if n.op == "mul"]) == 3 * sys.getrecursionlimit()
    assert view.node(f"n{x.seq:d}").grad == 1.0


def test_ids_follow_creation_order_and_keep_multiplicity():
    a = gg.tensor(3.0, requires_grad=True, name="a")
    b = a * a
    view = gg.viz.trace(b, grads=True)
    assert [n.id for n in view.nodes] == [f"n{a.seq}", f"n{b.seq}"]
    (edge,) = view.edges
    assert edge.count == 2  # a*a: two wires merged into one drawn edge
    assert view.node(f"n{a.seq}").grad == pytest.approx(6.0)
    assert edge.flow == pytest.approx(6.0)


def test_gradients_auto_follow_backward_and_explicit_map():
    f, leaves = neuron(backward=False)
    assert not gg.viz.trace(f).grads_computed
    grads = gg.backward([f], retain_graph=True, return_all=True)
    view = gg.viz.trace(f)
    assert view.grads_computed
    assert view.node(f"n{leaves['x1'].seq}").grad == pytest.approx(-0.5898, abs=1e-4)
    exp_node = f.inputs[0].inputs[0]  # 1/x <- (+1) <- exp
    marked = {key: g * 10.0 for key, g in grads.items()}  # distinguishable from the replay
    shown = gg.viz.trace(f, grads=marked).node(f"n{exp_node.seq}").grad
    assert shown == pytest.approx(10 * grads[id(exp_node)].item())


def test_plain_backward_keeps_the_whole_graph_for_drawing():
    """After backward() without retain_graph the picture is the whole graph with the gradients
    that backward computed (it used to be the root alone and a 'freed' note)."""
    f, leaves = neuron(backward=False)
    f.backward()
    view = gg.viz.trace(f)
    assert not view.freed and not view.notes and view.grads_computed
    kept, _ = neuron(backward=True)  # retain_graph=True
    assert [n.op for n in view.nodes] == [n.op for n in gg.viz.trace(kept).nodes]
    assert len(view.nodes) == 14  # 5 inputs, 2 mul, 2 add, neg, exp, the constant 1, +, 1/x
    assert view.node(f"n{leaves['x1'].seq}").grad == pytest.approx(-0.5898, abs=1e-4)


def test_a_graph_released_by_another_roots_backward_is_reported():
    x = gg.tensor(2.0, requires_grad=True, name="x")
    shared = gg.exp(x)
    first, second = shared * 3.0, shared * 5.0
    first.backward()  # releases `shared` too
    view = gg.viz.trace(second, grads=True)
    assert view.freed and "retain_graph=True" in view.notes[0]


def test_several_heads_share_a_node():
    rng = np.random.default_rng(1)
    w = gg.tensor(rng.standard_normal(3), requires_grad=True, name="w")
    h = (w * 2.0).exp()
    la, lb = h.sum(), (h * 3.0).sum()
    view = gg.viz.trace(la, lb, grads=True, heads=["a", "b"])
    assert view.head_names == ("a", "b")
    node = view.node(f"n{h.seq}")
    assert node.heads == (0, 1)
    # independently: d la/dh = 1, d lb/dh = 3, so shares are 1/4 and 3/4
    assert node.head_shares == pytest.approx((0.25, 0.75))
    only_b = view.node(f"n{lb.seq}")
    assert only_b.heads == (1,)
    np.testing.assert_allclose(view.node(f"n{w.seq}").grad, 4.0 * 2.0 * np.exp(2.0 * w.numpy()))


def test_modules_collapse_by_depth_and_expand_by_name():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=0))
    x = gg.tensor(np.ones((2, 3)), dtype=model.parameters()[0].dtype, name="x")
    out = model(x).sum()
    top = gg.viz.trace(out, depth=0)
    assert [n.kind for n in top.nodes].count("module") == 1
    layers = gg.viz.trace(out)  # depth=1: the Sequential open, its layers one node each
    modules = [n for n in layers.nodes if n.kind == "module"]
    assert len(modules) == 3
    assert [c.kind for c in layers.clusters] == ["module"]
    assert modules[0].param_count == 3 * 4 + 4 and modules[2].param_count == 4 * 2 + 2
    assert any("weight" in name for name, _ in modules[0].absorbed)
    full = gg.viz.trace(out, depth=None)
    assert not [n for n in full.nodes if n.kind == "module"]
    assert {"matmul", "add"} <= {n.op for n in full.nodes}


def test_expand_argument_is_validated():
    f, _ = neuron()
    with pytest.raises(TypeError, match="expand="):
        gg.viz.trace(f, expand=3)
    with pytest.raises(ValueError, match="grads="):
        gg.viz.trace(f, grads="sometimes")
    with pytest.raises(ValueError, match="at least one"):
        gg.viz.trace()
