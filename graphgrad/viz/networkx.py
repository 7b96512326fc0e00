"""GraphView -> networkx.DiGraph, and the summaries computed from it (node count per op, depth,
parameter count, FLOPs per node)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .view import GraphView


def view_to_networkx(view: GraphView):
    import networkx as nx

    graph = nx.DiGraph(roots=list(view.roots), heads=list(view.head_names),
                       grads_computed=view.grads_computed)
    for node in view.nodes:
        graph.add_node(
            node.id, op=node.op, kind=node.kind, name=node.name, symbol=node.symbol,
            shape=node.shape, dtype=node.dtype, value=node.value, grad=node.grad,
            members=node.members, param_count=node.param_count, flops=node.flops,
            scope=tuple(f"{s.kind}:{s.name}" for s in node.scope), heads=node.heads,
            check_ok=None if node.check is None else node.check.ok,
        )
    for edge in view.edges:
        graph.add_edge(edge.src, edge.dst, slot=edge.slot, count=edge.count, flow=edge.flow,
                       local=edge.local)
    return graph


@dataclass(frozen=True)
class GraphSummary:
    nodes: int
    edges: int
    ops: dict[str, int]  # node count per op ("leaf" for inputs and parameters)
    depth: int  # nodes on the longest path from a leaf to a root
    parameters: int  # trainable elements (parameter leaves plus those folded into modules)
    flops: int
    flops_per_node: dict[str, int]

    def __str__(self) -> str:
        by_count = sorted(self.ops.items(), key=lambda kv: (-kv[1], kv[0]))
        ops = ", ".join(f"{op} {n}" for op, n in by_count)
        return (f"{self.nodes} nodes, {self.edges} edges, depth {self.depth}, "
                f"{self.parameters:,} parameters, {self.flops:,} FLOPs\nops: {ops}")


def summarize_networkx(graph) -> GraphSummary:
    import networkx as nx

    ops: Counter[str] = Counter()
    parameters = 0
    flops = {}
    for node_id, data in graph.nodes(data=True):
        ops[data.get("op") or "leaf"] += 1
        if data.get("kind") == "param":
            value = data.get("value")
            parameters += int(value.size) if value is not None else 0
        parameters += int(data.get("param_count") or 0)
        flops[node_id] = int(data.get("flops") or 0)
    depth = 0
    if graph.number_of_nodes():
        longest: dict[str, int] = {}
        for node_id in nx.topological_sort(graph):
            longest[node_id] = 1 + max((longest[p] for p in graph.predecessors(node_id)), default=0)
        depth = max(longest.values())
    return GraphSummary(
        nodes=graph.number_of_nodes(), edges=graph.number_of_edges(), ops=dict(ops), depth=depth,
        parameters=parameters, flops=sum(flops.values()), flops_per_node=flops,
    )
