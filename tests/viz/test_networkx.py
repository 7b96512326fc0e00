"""to_networkx and the summaries computed from it."""

import numpy as np

import graphgrad as gg

from .conftest import neuron


def test_nodes_carry_op_shape_value_grad():
    f, leaves = neuron()
    graph = gg.viz.to_networkx(f)
    assert graph.number_of_nodes() == 14 and graph.number_of_edges() == 13
    w0 = graph.nodes[f"n{leaves['w0'].seq}"]
    assert w0["op"] is None and w0["kind"] == "param" and w0["shape"] == ()
    assert float(w0["value"]) == 2.0 and abs(float(w0["grad"]) + 0.1966) < 1e-4
    root = graph.nodes[f"n{f.seq}"]
    assert root["op"] == "reciprocal" and abs(float(root["value"]) - 0.7311) < 1e-4
    assert graph.graph["roots"] == [f"n{f.seq}"]


def test_summary_counts_ops_depth_parameters_flops():
    f, _ = neuron()
    s = gg.viz.summary(f)
    assert s.ops == {"leaf": 6, "mul": 2, "add": 3, "neg": 1, "exp": 1, "reciprocal": 1}
    assert s.depth == 8  # w0 -> * -> + -> + -> *-1 -> exp -> +1 -> 1/x
    assert s.parameters == 5
    assert s.flops == 8 and all(v in (0, 1) for v in s.flops_per_node.values())
    assert "8 FLOPs" in str(s)


def test_matmul_flops_and_summary_of_a_networkx_graph():
    a = gg.tensor(np.ones((4, 3)), requires_grad=True, name="a")
    b = gg.tensor(np.ones((3, 5)), requires_grad=True, name="b")
    graph = gg.viz.to_networkx(a @ b)
    s = gg.viz.summary(graph)
    assert s.flops == 2 * 4 * 5 * 3 and s.parameters == 12 + 15 and s.depth == 2
