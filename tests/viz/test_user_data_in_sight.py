"""The user's own data is drawn as a node of its own, never folded into the first layer's box.

Before: `gg.randn(...)` fed to a Conv2d showed only as "const (4, 1, 8, 8)" inside the Conv2d box
(noted in the closing note of issue 12), so the picture of a training step had no input at all.
Constants the library makes (the 0.5 of `x * 0.5`, inside a module) still fold into their box.
"""

import numpy as np

import graphgrad as gg
from graphgrad import nn


class Half(nn.Module):
    def forward(self, x):
        return x * 0.5


def kinds_and_shapes(root):
    return [(n.kind, n.shape) for n in gg.viz.trace(root).nodes]


def test_an_unnamed_input_batch_is_its_own_node():
    conv = nn.Conv2d(1, 2, 3, rng=0)
    model = nn.Sequential(conv)  # the outer module is open (a cluster), its layers closed boxes
    images = gg.tensor(np.ones((4, 1, 5, 5)), dtype=conv.weight.dtype)  # unnamed, no grad
    loss = model(images).sum()
    loss.backward()
    view = gg.viz.trace(loss)
    inputs = [n for n in view.nodes if n.kind == "input"]
    assert [n.shape for n in inputs] == [(4, 1, 5, 5)]
    conv_box = next(n for n in view.nodes if n.kind == "module")
    assert all(shape != (4, 1, 5, 5) for _, shape in conv_box.absorbed)
    assert any(e.src == inputs[0].id and e.dst == conv_box.id for e in view.edges)


def test_a_constant_the_module_makes_stays_in_its_box():
    x = gg.tensor(np.ones(3), requires_grad=True, name="x")
    y = nn.Sequential(Half())(x).sum()
    view = gg.viz.trace(y)
    assert [(n.kind, n.name) for n in view.nodes if n.op is None] == [("param", "x")]
    box = next(n for n in view.nodes if n.kind == "module")
    assert box.absorbed == (("const", ()),)


def test_batch_norm_running_statistics_stay_in_its_box_in_eval():
    model = nn.Sequential(nn.BatchNorm1d(3)).eval()
    x = gg.tensor(np.arange(6.0).reshape(2, 3), dtype=model[0].weight.dtype, requires_grad=True)
    loss = model(x).sum()
    view = gg.viz.trace(loss)
    assert [n.shape for n in view.nodes if n.op is None] == [(2, 3)]  # x, outside the box
    box = next(n for n in view.nodes if n.kind == "module")
    assert len(box.absorbed) == 4  # weight, bias, running mean, running variance
    assert (2, 3) not in {shape for _, shape in box.absorbed}


def test_a_mask_made_inside_a_forward_stays_in_its_box():
    model = nn.Sequential(nn.Dropout2d(0.5, rng=0))  # its mask is a Tensor made in forward
    x = gg.tensor(np.ones((2, 3, 2, 2)), requires_grad=True, name="x")
    view = gg.viz.trace(model(x).sum())
    assert [n.name for n in view.nodes if n.op is None] == ["x"]
    box = next(n for n in view.nodes if n.kind == "module")
    assert [shape for _, shape in box.absorbed] == [(2, 3, 1, 1)]
