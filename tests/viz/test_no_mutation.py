"""Drawing never changes the graph: every slot of every node is the same before and after."""

import numpy as np

import graphgrad as gg

from .conftest import neuron, requires_dot


def reachable(roots):
    seen, stack, out = set(), list(roots), []
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        out.append(t)
        stack.extend(t.inputs)
    return out


def snapshot(roots):
    state = {}
    for t in reachable(roots):
        state[id(t)] = (
            t, np.array(t.numpy(), copy=True), t.data.dtype, t.op, tuple(id(i) for i in t.inputs),
            dict(t.params), t.seq, t.name, t.requires_grad, t.scope, t.hooks, t.site,
            t.retains_grad, t.device, t.grad, None if t.grad is None else t.grad.numpy().copy(),
        )
    return state


def assert_same(before, after):
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        assert old[0] is new[0]
        np.testing.assert_array_equal(old[1], new[1])
        for a, b in zip(old[2:], new[2:]):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
            else:
                assert a is b or a == b


def test_every_drawing_option_leaves_the_graph_unchanged(tmp_path):
    f, _ = neuron(composite=True)
    h = gg.sigmoid(gg.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True, name="m")
                   @ f.reshape(1, 1).broadcast_to((2, 2))).sum()
    roots = [f, h]
    before = snapshot(roots)
    for style in ("circuit", "graph"):
        gg.viz.draw(*roots, style=style, expand=True, check=True, gates=True,
                    show="value,grad,local,flow", grads=True, thumbnails=True,
                    thumbnail_dir=str(tmp_path))
    gg.viz.to_networkx(*roots, expand=True)
    gg.viz.summary(h)
    assert_same(before, snapshot(roots))


@requires_dot
def test_animation_and_notebook_display_leave_the_graph_unchanged(tmp_path):
    f, _ = neuron(backward=False)
    before = snapshot([f])
    gg.viz.animate_backward(f, tmp_path / "a.gif", expand=True, dpi=40)
    bundle = f._repr_mimebundle_()
    assert "text/html" in bundle and "image/svg+xml" not in bundle  # values, not a drawing
    assert_same(before, snapshot([f]))
    assert all(t.grad is None for t in reachable([f]))


def test_snapshot_detects_a_change():
    """The checker itself can fail: a changed name, grad or input is seen."""
    f, leaves = neuron()
    before = snapshot([f])
    leaves["w0"].name = "changed"
    try:
        assert_same(before, snapshot([f]))
    except AssertionError:
        return
    raise AssertionError("snapshot comparison missed a renamed tensor")


