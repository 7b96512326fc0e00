"""What both Graphviz styles share: palette, options, tooltips, clusters, flow highlighting,
and the legend. Pure functions of a GraphView."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .labels import escape, format_number, format_shape, stats
from .view import EdgeView, GraphView, NodeView

FONT = "Helvetica"
VALUE_COLOR = "#2e7d32"  # forward values: green, above the wire (as in the lecture notes)
GRAD_COLOR = "#c62828"  # gradients: red, below the wire
LOCAL_COLOR = "#6a1b9a"  # local gradient d out / d in
MUTED = "#9e9e9e"
VANISH_COLOR = "#1565c0"
EXPLODE_COLOR = "#d50000"
CHECK_FAIL_FILL = "#ffcdd2"
CHECK_FAIL_LINE = "#b71c1c"
HEAD_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
KIND_FILL = {
    "input": "#e3f2fd",
    "param": "#fff3e0",
    "const": "#f5f5f5",
    "op": "#ffffff",
    "composite": "#ede7f6",
    "module": "#e8f5e9",
}
CLUSTER_FILL = {"module": "#f1f8e9", "composite": "#f3e5f5"}
SHOW_ITEMS = ("value", "grad", "local", "flow")
GATE_NOTES = {"distributes": "add: distributes", "routes": "max: routes",
              "switches": "mul: switches"}
GATE_RULES = {
    "distributes": "add passes its gradient to every input unchanged",
    "routes": "max sends it all to the larger input (dashed: gets exactly 0)",
    "switches": "mul scales it by the other input's value",
}


@dataclass(frozen=True)
class Options:
    show: tuple[str, ...] = ("value", "grad")
    precision: int = 2
    rankdir: str = "LR"
    gates: bool = False  # mark how each gate treats its upstream gradient
    legend: bool = True
    vanish_below: float = 1e-6  # RMS of an edge's gradient below this: "vanishing"
    explode_above: float = 1e3  # RMS above this: "exploding"
    thumbnails: bool = False
    thumbnail_dir: str | None = None
    title: str | None = None
    max_table: int = 8  # channels up to max_table x max_table print their numbers as tables
    max_channels: int = 12  # ... when there are at most this many (see graph_style.shows_numbers)
    max_numbers: int = 160  # ... and at most this many numbers in all
    reveal: frozenset | None = None  # animation: ids whose gradient is shown (None: all)
    current: str | None = None  # animation: the node backward is processing
    wrap: int = 0  # rows (LR) or columns (TB) a long chain wraps into (see viz.layout)

    def __post_init__(self):
        bad = [item for item in self.show if item not in SHOW_ITEMS]
        if bad:
            raise ValueError(f"show= got {bad}; valid items: {SHOW_ITEMS}")
        if self.rankdir not in ("LR", "RL", "TB", "BT"):
            raise ValueError(f"rankdir= must be one of LR, RL, TB, BT; got {self.rankdir!r}")
        if not isinstance(self.precision, int) or not 0 <= self.precision <= 12:
            raise ValueError(f"precision= must be an int between 0 and 12; got {self.precision!r}")


def rms(array: np.ndarray | None) -> float | None:
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    return float(np.sqrt(np.mean(np.square(a)))) if a.size else 0.0


def flow_state(edge: EdgeView, options: Options, view: GraphView | None = None) -> str | None:
    """"vanishing", "exploding" or None for an edge's gradient (non-finite counts as exploding).

    The exact 0 a routing gate (max) sends to its losing input is not "vanishing": it is the
    rule, and drawn as such (dashed grey with `gates=True`)."""
    if edge.flow is None:
        return None
    if view is not None and view.node(edge.dst).gate_role == "routes" and \
            not np.any(np.asarray(edge.flow)):
        return None
    r = rms(edge.flow)
    if r is None:
        return None
    if not np.isfinite(r) or r > options.explode_above:
        return "exploding"
    if r < options.vanish_below:
        return "vanishing"
    return None


def value_text(array: np.ndarray | None, precision: int) -> str:
    """One-line text of an array: its number if scalar, else shape statistics."""
    if array is None:
        return "?"
    a = np.asarray(array)
    if a.size == 1:
        return format_number(a.reshape(()).item(), precision)
    s = stats(a)
    return f"{format_shape(a.shape)} μ {format_number(s.mean, precision)}"


def tooltip(node: NodeView, view: GraphView) -> str:
    """Plain text (escaped later) with the full statistics of a node: SVG shows it on hover."""
    lines = [f"{node.label_name}  [{node.kind}{' ' + node.op if node.op else ''}]",
             f"id {node.id}  shape {format_shape(node.shape)}  dtype {node.dtype}"]
    if node.value_stats is not None:
        lines.append(f"value: {format_number(node.value.reshape(-1)[0], 6)}"
                     if node.size == 1 and node.value is not None
                     else f"value: {node.value_stats.describe(4)}")
    if node.grad is not None:
        grad_stats = node.grad_stats
        lines.append(f"grad: {format_number(node.grad.reshape(-1)[0], 6)}"
                     if node.grad.size == 1 or grad_stats is None
                     else f"grad: {grad_stats.describe(4)}")
    elif not view.grads_computed:
        lines.append("grad: not computed yet (call backward())")
    if node.members > 1:
        lines.append(f"{node.members} nodes folded in; {node.param_count} parameters")
    for name, shape in node.absorbed:
        lines.append(f"  {name} {format_shape(shape)}")
    for key, val in node.params:
        lines.append(f"{key} = {val}")
    if node.flops:
        lines.append(f"FLOPs {node.flops:,}")
    if len(node.heads) > 1:
        lines.append("gradient share: " + ", ".join(
            f"{view.head_names[h]} {share:.0%}" for h, share in zip(node.heads, node.head_shares)))
    if node.check is not None:
        lines.append(("gradient check OK: " if node.check.ok else "GRADIENT CHECK FAILED: ")
                     + node.check.message)
    if node.site:
        lines.append(f"created at {node.site}")
    return "\n".join(lines)


def head_color(view: GraphView, heads: tuple[int, ...]) -> str | None:
    if len(view.head_names) < 2 or not heads:
        return None
    if len(heads) == 1:
        return HEAD_COLORS[heads[0] % len(HEAD_COLORS)]
    return ":".join(HEAD_COLORS[h % len(HEAD_COLORS)] for h in heads)


def share_text(node: NodeView, view: GraphView) -> str | None:
    if len(view.head_names) < 2 or len(node.heads) < 2:
        return None
    return " · ".join(f"{view.head_names[h]} {share:.0%}"
                      for h, share in zip(node.heads, node.head_shares))


def edge_attrs(edge: EdgeView, view: GraphView, options: Options) -> dict[str, str]:
    attrs: dict[str, str] = {}
    color = head_color(view, edge.heads)
    if color:
        attrs["color"] = color
    state = flow_state(edge, options, view) if view.grads_computed else None
    if state == "vanishing":
        attrs.update(color=VANISH_COLOR, style="dashed", penwidth="2")
    elif state == "exploding":
        attrs.update(color=EXPLODE_COLOR, penwidth="3")
    return attrs


def add_clusters(dot, view: GraphView, emit_node) -> None:
    """Emit nodes, nested inside `subgraph cluster_*` blocks for open scopes."""
    import graphviz

    in_cluster = {m for c in view.clusters for m in c.members}
    for node in view.nodes:
        if node.id not in in_cluster:
            emit_node(dot, node)
    subs = {}
    for cluster in view.clusters:
        sub = graphviz.Digraph(name=cluster.id)
        fill = CLUSTER_FILL.get(cluster.kind, "#fafafa")
        kind = "module" if cluster.kind == "module" else "composite"
        sub.attr(label=f"<<I>{escape(cluster.name)}</I> <FONT COLOR=\"{MUTED}\">({kind})</FONT>>",
                 style="rounded,filled", fillcolor=fill, color="#bdbdbd", fontname=FONT,
                 fontsize="11", labeljust="l")
        for member in cluster.members:
            emit_node(sub, view.node(member))
        subs[cluster.id] = sub
    for cluster in reversed(view.clusters):  # children were created after their parents
        target = subs[cluster.parent] if cluster.parent else dot
        target.subgraph(subs[cluster.id])


def legend_html(view: GraphView, options: Options, circuit: bool) -> str:
    """The legend, as the graph's label: colours and what the edge labels mean."""
    rows = []

    def row(swatch: str, text: str):
        rows.append(f"<TR><TD ALIGN=\"LEFT\">{swatch}  {text}</TD></TR>")

    where_value = "above the wire" if circuit else "in the node"
    if "value" in options.show:
        row(f"<FONT COLOR=\"{VALUE_COLOR}\"><B>1.23</B></FONT>", f"forward value ({where_value})")
    if "grad" in options.show:
        where = ("below the wire: gradient flowing back along it" if circuit
                 else "gradient d root / d node")
        if view.grads_computed:
            row(f"<FONT COLOR=\"{GRAD_COLOR}\"><B>-0.45</B></FONT>", where)
        else:
            row(f"<FONT COLOR=\"{MUTED}\"><B>?</B></FONT>",
                "gradient not computed yet (call backward())")
    if "local" in options.show:
        row(f"<FONT COLOR=\"{LOCAL_COLOR}\">local 0.50</FONT>",
            "local gradient d out / d in of the wire")
    if "flow" in options.show:
        row(f"<FONT COLOR=\"{GRAD_COLOR}\">1.00 × 0.50</FONT>",
            "upstream gradient × local gradient = what flows back")
    if options.gates:  # only the rules of the gates this picture holds
        roles = {n.gate_role for n in view.nodes if n.gate_role}
        for role, text in GATE_RULES.items():
            if role in roles:
                row(f"<I>{GATE_NOTES[role]}</I>", text)
    if circuit and view.grads_computed and "grad" in options.show and any(
            e.flow is None for e in view.edges if not view.node(e.src).is_scalar_const):
        row(f"<FONT COLOR=\"{GRAD_COLOR}\"><B>·</B></FONT>",
            "no gradient: the input does not require grad")
    states = {flow_state(e, options, view) for e in view.edges} if view.grads_computed else set()
    if "vanishing" in states:
        row(f"<FONT COLOR=\"{VANISH_COLOR}\">- - -</FONT>",
            f"vanishing gradient (RMS &lt; {options.vanish_below:g})")
    if "exploding" in states:
        row(f"<FONT COLOR=\"{EXPLODE_COLOR}\"><B>━━</B></FONT>",
            f"exploding gradient (RMS &gt; {options.explode_above:g})")
    if any(n.check is not None for n in view.nodes):
        row(f"<FONT COLOR=\"{CHECK_FAIL_LINE}\"><B>■</B></FONT>",
            "local gradient disagrees with finite differences (hover for the error)")
    for h, name in enumerate(view.head_names):
        row(f"<FONT COLOR=\"{HEAD_COLORS[h % len(HEAD_COLORS)]}\"><B>━━</B></FONT>",
            f"branch of loss head {escape(name)}")
    for note in view.notes:
        row("<B>!</B>", escape(note))
    title = ""
    if options.title:
        title = (f"<TR><TD ALIGN=\"LEFT\"><FONT POINT-SIZE=\"14\"><B>{escape(options.title)}"
                 "</B></FONT></TD></TR>")
    gap = "<TR><TD HEIGHT=\"10\"></TD></TR>"  # keeps the legend off the nodes
    return (f"<<FONT FACE=\"{FONT}\"><TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" "
            f"CELLPADDING=\"1\">{title}{''.join(rows)}{gap}</TABLE></FONT>>")


def new_digraph(view: GraphView, options: Options, name: str):
    from .render import VizDigraph

    dot = VizDigraph(name=name, view_data=view, options=options)
    # newrank: one global ranking, also through clusters; it makes dot about 9x faster on a
    # 5,000-node graph (benchmarks/bench_viz.py) and lines clusters up with their neighbours
    dot.attr(rankdir=options.rankdir, fontname=FONT, bgcolor="white", charset="UTF-8",
             labelloc="t", labeljust="l", fontsize="10", newrank="true")
    dot.attr("node", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.6", color="#424242")
    if options.legend or view.notes or options.title:
        dot.attr(label=legend_html(view, options, circuit=name == "circuit"))
    return dot
