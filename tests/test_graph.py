"""Graph walks: no recursion limit, determinism, no reference cycles, flat memory."""

import gc
import tracemalloc
import weakref

import numpy as np

import graphgrad as gg
from graphgrad.graph import ancestors


def test_million_node_chain_backward():
    x = gg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = -y
    y.backward()
    assert x.grad.item() == 1.0  # an even number of negations


def _model(x, w):
    return gg.sigmoid(x @ w).sum() + (w * w).sum()


def test_backward_order_is_deterministic_and_topological():
    """The sweep visits each node once, after all its consumers, in the same order every run."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def trace():
        loss = _model(gg.tensor(x), gg.tensor(w, requires_grad=True))
        nodes = [n for n in ancestors([loss]) if n.requires_grad]
        edges = [(id(parent), id(consumer)) for consumer in nodes for parent in consumer.inputs
                 if parent.requires_grad]
        visited = []
        for node in nodes:
            node.register_hook(lambda g, node=node: visited.append(node))
        loss.backward()
        position = {id(n): i for i, n in enumerate(visited)}
        assert len(visited) == len(nodes) == len(position)
        for parent, consumer in edges:  # every node comes after each of its consumers
            assert position[consumer] < position[parent]
        offset = nodes[0].seq
        return [(n.op.name if n.op else "leaf", n.seq - offset) for n in visited]

    assert trace() == trace()


def test_inputs_keep_order_and_multiplicity():
    a = gg.tensor(2.0, requires_grad=True)
    b = a * a
    assert len(b.inputs) == 2 and b.inputs[0] is a and b.inputs[1] is a


def test_graph_freed_by_reference_counting_alone():
    """No reference cycles: intermediates die as soon as the loss is dropped, GC disabled."""
    gc.disable()
    try:
        w = gg.tensor(np.ones((4, 4)), requires_grad=True)
        hidden = gg.tanh(w @ w)
        loss = (hidden * hidden).sum()
        probe = weakref.ref(hidden)
        del hidden
        loss.backward()
        del loss
        assert probe() is None
    finally:
        gc.enable()


def test_training_loop_memory_stays_flat():
    rng = np.random.default_rng(0)
    w = gg.tensor(rng.standard_normal((64, 64)) * 0.1, requires_grad=True)
    x = gg.tensor(rng.standard_normal((32, 64)))
    peaks = []
    tracemalloc.start()
    for _ in range(8):
        tracemalloc.reset_peak()
        loss = (gg.tanh(x @ w) @ w).sum()
        loss.backward()
        with gg.no_grad():
            w.data -= 0.01 * w.grad.data
        w.zero_grad()
        del loss
        peaks.append(tracemalloc.get_traced_memory()[1])
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert max(peaks[2:]) <= 1.2 * peaks[1], peaks
    assert current < 2 * peaks[1]
