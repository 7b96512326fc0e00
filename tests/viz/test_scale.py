"""A LeNet-sized training step: readable collapsed by default, gate by gate on request."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn

def lenet_loss(expanded_build: bool = False, image_grad: bool = False):
    model = nn.LeNet(rng=0).eval()  # eval: dropout is the identity, the structure deterministic
    rng = np.random.default_rng(0)
    images = gg.tensor(rng.standard_normal((2, 1, 8, 8)), dtype=model.parameters()[0].dtype,
                       name="images", requires_grad=image_grad)
    labels = gg.tensor(np.array([3, 7]), name="labels")
    if expanded_build:
        with gg.expand_composites():
            loss = gg.cross_entropy(model(images), labels)
    else:
        loss = gg.cross_entropy(model(images), labels)
    loss.backward(retain_graph=True)
    return loss, model


def count_graph_nodes(root):
    """Tensors reachable from root, counted without graphgrad.viz."""
    seen, stack = set(), [root]
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            stack.extend(t.inputs)
    return len(seen)


def test_collapsed_by_default_one_node_per_layer():
    loss, model = lenet_loss()
    view = gg.viz.trace(loss)
    graph = gg.viz.to_networkx(loss)
    assert graph.number_of_nodes() == len(view.nodes)
    modules = [n.name for n in view.nodes if n.kind == "module"]
    # every layer of the model that computes something is one node (eval: dropout builds none)
    active = [name for name, layer in model.named_children() if type(layer).__name__ != "Dropout"]
    assert sorted(modules) == sorted(active)
    assert len(view.nodes) == len(active) + 2  # + the images, + the cross-entropy loss
    assert [c.name for c in view.clusters] == ["LeNet"]
    summary = gg.viz.summary(loss)
    assert summary.parameters == model.num_parameters()
    classes = [type(layer).__name__ for name, layer in model.named_children() if name in active]
    # collapsed nodes show the class
    assert sum(summary.ops[c] for c in set(classes)) == len(active)
    source = gg.viz.draw(loss).source
    assert all(f"{c}</FONT>" in source for c in classes)


def test_expanded_on_request_matches_an_expanded_build():
    """On-demand expansion records every gate, also those fed only by data (so the images stay
    connected); a build under expand_composites() with images requiring grad has the same."""
    loss, _ = lenet_loss(image_grad=True)
    expanded = gg.viz.trace(loss, expand=True)
    graph = gg.viz.to_networkx(loss, expand=True)
    assert graph.number_of_nodes() == len(expanded.nodes)
    assert {n.kind for n in expanded.nodes} <= {"op", "input", "param", "const"}
    ops = {n.op for n in expanded.nodes}
    assert "conv" not in ops and "matmul" in ops
    # the same network built gate by gate has as many nodes, and one more: cross_entropy's
    # one-hot gate stays linked to `labels` there (in the eager graph its result is a constant)
    built, _ = lenet_loss(expanded_build=True, image_grad=True)
    assert len(expanded.nodes) + 1 == count_graph_nodes(built)
    collapsed = gg.viz.to_networkx(loss)
    assert graph.number_of_nodes() > 3 * collapsed.number_of_nodes()


def test_expanded_values_and_gradients_match_the_fused_graph():
    loss, model = lenet_loss()
    view = gg.viz.trace(loss, expand=True)
    for p in model.parameters():
        node = next(n for n in view.nodes if n.name == p.name)
        np.testing.assert_allclose(node.grad, p.grad.numpy(), rtol=1e-4, atol=1e-6)
    root = view.node(view.roots[0])
    assert root.value == pytest.approx(loss.item())
