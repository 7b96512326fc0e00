"""Gradient-flow patterns: local gradients, upstream x local, gate marks, vanishing/exploding."""

import re

import numpy as np

import graphgrad as gg
from graphgrad.viz.common import EXPLODE_COLOR, MUTED, VANISH_COLOR

from .conftest import neuron


def test_local_gradient_and_product_on_every_wire():
    f, _ = neuron()
    view = gg.viz.trace(f, local=True)
    wires = [e for e in view.edges if view.node(e.src).kind != "const"]
    assert len(wires) == 12
    for edge in wires:
        dst = view.node(edge.dst)
        # what flows back = upstream gradient x local gradient (scalars here)
        np.testing.assert_allclose(edge.flow, dst.grad * edge.local, rtol=1e-6)
    source = gg.viz.draw(f, style="circuit", show="value,grad,local,flow").source
    assert "local 0.37" in source  # d exp(x)/dx = exp(-1) at the exp gate
    assert "-0.53 × 0.37" in source  # upstream -0.53 times local 0.37 gives the -0.20 below
    assert "local 2.00" in source and "local -2.00" in source  # mul switches: the other input


def test_gate_marks():
    a = gg.tensor(3.0, requires_grad=True, name="a")
    b = gg.tensor(1.0, requires_grad=True, name="b")
    c = gg.tensor(-2.0, requires_grad=True, name="c")
    out = gg.maximum(a, b) * c + a
    out.backward(retain_graph=True)
    circuit = gg.viz.draw(out, style="circuit", gates=True).source
    for role in ("distributes", "routes", "switches"):
        assert role in circuit
    # max routes: the losing input b gets nothing, its wire is drawn dashed and muted
    b_wire = [line for line in circuit.splitlines() if line.strip().startswith(f"w_n{b.seq}_")]
    assert any('style=dashed' in line and MUTED in line for line in b_wire)
    graph = gg.viz.draw(out, gates=True).source
    assert "max: routes" in graph and "mul: switches" in graph and "add: distributes" in graph


def test_vanishing_and_exploding_paths_are_highlighted():
    x = gg.tensor(0.5, requires_grad=True, name="x")
    tiny = x * 1e-9
    huge = x * 1e6
    out = tiny + huge  # x gets 1e-9 along one path, 1e6 along the other
    out.backward(retain_graph=True)
    source = gg.viz.draw(out).source
    edges = {m.group(1): m.group(2) for m in re.finditer(r"(n\d+ -> n\d+) \[([^\]]*)\]", source)}
    vanishing = [k for k, v in edges.items() if VANISH_COLOR in v]
    exploding = [k for k, v in edges.items() if EXPLODE_COLOR in v]
    assert vanishing == [f"n{x.seq} -> n{tiny.seq}"]
    assert exploding == [f"n{x.seq} -> n{huge.seq}"]
    quiet = gg.viz.draw(out, vanish_below=1e-12, explode_above=1e9).source
    assert not re.search(rf"-> n\d+ \[[^\]]*({VANISH_COLOR}|{EXPLODE_COLOR})", quiet)
