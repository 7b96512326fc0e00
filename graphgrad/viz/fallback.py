"""Drawing without Graphviz: matplotlib + networkx, same nodes, edges, values and gradients.

Layout: nodes in columns by longest path from the inputs (networkx's topological generations and
multipartite layout), so the picture reads left to right like the Graphviz one.
"""

from __future__ import annotations

import io

from .common import GRAD_COLOR, KIND_FILL, MUTED, VALUE_COLOR, Options, value_text
from .view import GraphView


def layout(view: GraphView, skip: frozenset = frozenset()) -> dict[str, tuple[float, float]]:
    """Columns by longest path (networkx topological generations), inputs placed just before
    their first consumer, rows ordered by the mean row of each node's predecessors."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in view.nodes if n.id not in skip)
    graph.add_edges_from((e.src, e.dst) for e in view.edges if e.src not in skip)
    if not graph.number_of_nodes():
        return {}
    layer = {}
    for depth, names in enumerate(nx.topological_generations(graph)):
        for name in names:
            layer[name] = depth
    for name in graph.nodes:  # pull sources next to their first consumer
        if graph.in_degree(name) == 0 and graph.out_degree(name):
            layer[name] = min(layer[c] for c in graph.successors(name)) - 1
    columns: dict[int, list[str]] = {}
    for name in graph.nodes:  # graph.nodes keeps creation order: deterministic
        columns.setdefault(layer[name], []).append(name)
    rows: dict[str, float] = {}
    for depth in sorted(columns):
        original = {name: i for i, name in enumerate(columns[depth])}

        def key(name, original=original):  # bound: sorted() calls it in this iteration
            preds = [rows[p] for p in graph.predecessors(name) if p in rows]
            succ = [original[name] - (len(original) - 1) / 2]
            return (sum(preds) / len(preds) if preds else succ[0], original[name])

        names = sorted(columns[depth], key=key)
        for i, name in enumerate(names):
            rows[name] = i - (len(names) - 1) / 2
    return {name: (float(layer[name]), -rows[name]) for name in graph.nodes}


def draw_matplotlib(view: GraphView, options: Options | None = None, *, fmt: str = "png",
                    style: str = "graph", dpi: int = 150) -> bytes:
    """Bytes of a picture of `view` in `fmt` (any format matplotlib writes: png, svg, pdf)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    options = options or Options()
    folded: dict[str, str] = {}
    if style == "circuit":
        from .circuit import folded_constants, gate_symbol

        folded = folded_constants(view)
    pos = layout(view, frozenset(folded))
    columns = {x for x, _ in pos.values()}
    per_column = max((sum(1 for x2, _ in pos.values() if x2 == x) for x in columns), default=1)
    fig = Figure(figsize=(max(4.0, 1.9 * (len(columns) + 1)), max(2.5, 1.1 * per_column + 1.2)))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_axis_off()
    p = options.precision
    for edge in view.edges:
        if edge.src in folded:
            continue
        (x0, y0), (x1, y1) = pos[edge.src], pos[edge.dst]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#424242", lw=1.0,
                                    shrinkA=16, shrinkB=16))
        if style == "circuit":
            mx, my = x0 + 0.55 * (x1 - x0), y0 + 0.55 * (y1 - y0)
            src = view.node(edge.src)
            ax.text(mx, my + 0.03, value_text(src.value, p), color=VALUE_COLOR, fontsize=9,
                    ha="center", va="bottom")
            known = view.grads_computed and edge.flow is not None
            ax.text(mx, my - 0.03, value_text(edge.flow, p) if known else "?",
                    color=GRAD_COLOR if known else MUTED, fontsize=9, ha="center", va="top")
    for node in view.nodes:
        if node.id in folded:
            continue
        x, y = pos[node.id]
        if style == "circuit":
            title = node.name or value_text(node.value, p) if node.op is None else (
                gate_symbol(node, view, folded, p) if node.kind == "op" else node.symbol)
            lines = [title]
        else:
            title = node.name or node.symbol or node.kind
            if node.op and node.name:
                title += f" ({node.op})"
            lines = [title, value_text(node.value, p)]
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=10,
                bbox=dict(boxstyle="round,pad=0.35" if node.op is None else "circle,pad=0.3",
                          fc=KIND_FILL.get(node.kind, "#ffffff"), ec="#616161"))
        if style != "circuit":
            grad = value_text(node.grad, p) if node.grad is not None else (
                "grad: not computed yet" if not view.grads_computed else "")
            ax.text(x, y - 0.22, grad, ha="center", va="top", fontsize=9,
                    color=GRAD_COLOR if node.grad is not None else MUTED)
    for root in view.roots:  # the output wire, as in the Graphviz circuit
        node = view.node(root)
        if root not in pos:
            continue
        x, y = pos[root]
        ax.annotate("", xy=(x + 0.8, y), xytext=(x, y),
                    arrowprops=dict(arrowstyle="-|>", color="#424242", lw=1.0, shrinkA=16))
        ax.text(x + 0.45, y + 0.03, value_text(node.value, p), color=VALUE_COLOR, fontsize=9,
                ha="center", va="bottom")
        grad = value_text(node.grad, p) if node.grad is not None else "?"
        ax.text(x + 0.45, y - 0.03, grad, color=GRAD_COLOR if node.grad is not None else MUTED,
                fontsize=9, ha="center", va="top")
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    if options.title:
        ax.set_title(options.title)
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text (searchable)
        fig.savefig(buffer, format=fmt, dpi=dpi, facecolor="white")
    return buffer.getvalue()


__all__ = ["draw_matplotlib", "layout"]
