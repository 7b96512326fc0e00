"""The lecture's circuit style: small gates labelled with their symbol, named inputs, and on every
wire the forward value above it (green) and the gradient flowing back below it (red).

Each wire is drawn as two segments meeting at a small label node whose two rows straddle the line,
so the value sits above the wire and the gradient below it whatever the layout. Scalar constants
fold into their gate (`x + 1` draws a "+1" gate, `-x` a "*-1" gate), as on the slides.
"""

from __future__ import annotations

import numpy as np

from .common import (
    CHECK_FAIL_FILL,
    CHECK_FAIL_LINE,
    GRAD_COLOR,
    KIND_FILL,
    LOCAL_COLOR,
    MUTED,
    VALUE_COLOR,
    Options,
    add_clusters,
    edge_attrs,
    head_color,
    new_digraph,
    share_text,
    tooltip,
    value_text,
)
from .graph_style import HIDDEN
from .labels import dot_string, escape, format_constant, reciprocal_of
from .layout import add_wrap, order_inputs, rows
from .view import EdgeView, GraphView, NodeView

FOLD_SYMBOLS = {"add": "+", "mul": "*", "sub": "-", "div": "/", "pow": "^", "maximum": "max ",
                "minimum": "min "}


def folded_constants(view: GraphView) -> dict[str, str]:
    """{const node id: gate id} for scalar constants used by exactly one gate (drawn inside it)."""
    out = {}
    for node in view.nodes:
        if node.is_scalar_const and node.id not in view.roots:
            uses = view.consumers[node.id]
            if len(uses) == 1 and view.node(uses[0].dst).kind == "op":
                out[node.id] = uses[0].dst
    return out


NOOP_MUL = "×1 (no-op)"  # a multiply by the constant 1, e.g. the unit seed of a gradient graph
MINUS = "−"  # U+2212: "−0.1" reads as subtraction, not as a hyphen


def gate_symbol(node: NodeView, view: GraphView, folded: dict[str, str], precision: int) -> str:
    """The gate's label with its folded constant printed exactly (see `labels.format_constant`):
    `*0.5`, `+0.25`, `−0.1` (an add of a negative constant), `/3` (a multiply by exactly 1/3)."""
    consts = [e for e in view.producers[node.id] if e.src in folded]
    if not consts:
        return node.symbol
    value = view.node(consts[0].src).value
    c = format_constant(value)
    base = FOLD_SYMBOLS.get(node.op or "", node.symbol)
    binary = len(view.producers[node.id]) == 2
    if binary and consts[0].slot == 0 and node.op in ("sub", "div", "pow"):
        return f"{c}{base}x"  # the constant on the left: "1/x", "2-x"
    if node.op == "add" and c.startswith("-"):
        return MINUS + c[1:]
    if node.op == "sub" and c.startswith("-"):
        return "+" + c[1:]
    if node.op == "mul":
        if c == "1":
            return NOOP_MUL
        n = reciprocal_of(value)
        if n is not None:
            return f"/{n}" if n > 0 else f"/({MINUS}{-n})"
    return f"{base}{c}"


def _wire_label(value: str, grad: str, extras: list[str], grad_known, options: Options,
                wire_color: str = "#424242") -> str:
    """The label a wire passes through: a table whose horizontal rule is the wire itself, with the
    value above it and the gradient (plus the optional local-gradient rows) below it. Blank rows
    on top mirror the extra rows below, so the rule sits at the node's centre, where the two wire
    segments attach (ports w and e)."""
    cell = "<TR><TD CELLPADDING=\"2\">{}</TD></TR>"
    small = "<FONT POINT-SIZE=\"9\">{}</FONT>"
    color = {True: GRAD_COLOR, False: MUTED, None: HIDDEN}[grad_known]
    rows = [cell.format(small.format(" ")) for _ in extras]
    shown_value = escape(value) if "value" in options.show else " "
    rows.append(cell.format(f"<FONT COLOR=\"{VALUE_COLOR}\">{shown_value}</FONT>"))
    rows.append("<HR/>")
    shown_grad = escape(grad) if "grad" in options.show else " "
    rows.append(cell.format(f"<FONT COLOR=\"{color}\">{shown_grad}</FONT>"))
    for text in extras:
        if grad_known is None:
            text = text.replace(f"COLOR=\"{GRAD_COLOR}\"", f"COLOR=\"{HIDDEN}\"").replace(
                f"COLOR=\"{LOCAL_COLOR}\"", f"COLOR=\"{HIDDEN}\"")
        rows.append(cell.format(small.format(text)))
    return (f"<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" COLOR=\"{wire_color}\">"
            + "".join(rows) + "</TABLE>>")


def _extras(edge: EdgeView, dst: NodeView, options: Options) -> list[str]:
    """Local gradient and the upstream x local product, as label rows (already escaped)."""
    out = []
    p = options.precision
    local = escape(value_text(edge.local, p)) if edge.local is not None else ""
    if "local" in options.show and edge.local is not None:
        out.append(f"<FONT COLOR=\"{LOCAL_COLOR}\">local {local}</FONT>")
    if "flow" in options.show and edge.local is not None and edge.flow is not None \
            and dst.grad is not None and np.asarray(dst.grad).size == 1 and edge.local.size == 1:
        up = escape(value_text(dst.grad, p))
        out.append(f"<FONT COLOR=\"{GRAD_COLOR}\">{up} × {local}</FONT>")
    return out


def _edge_texts(edge: EdgeView, src: NodeView, view: GraphView, options: Options):
    value = value_text(src.value, options.precision)
    if not view.grads_computed:
        return value, "?", False
    if edge.flow is None:
        return value, "·", True
    return value, value_text(edge.flow, options.precision), True


def render_circuit(view: GraphView, options: Options):
    dot = new_digraph(view, options, "circuit")
    dot.attr(nodesep="0.15", ranksep="0.12", splines="true")
    dot.attr("edge", arrowhead="none", penwidth="1.3")
    folded = folded_constants(view)

    def emit(graph, node: NodeView):
        if node.id in folded:
            return
        attrs = {"tooltip": dot_string(tooltip(node, view)), "id": node.id}
        if node.kind in ("input", "param", "const"):
            text = node.name or value_text(node.value, options.precision)
            label = f"<<B>{escape(text)}</B>>"
            attrs.update(shape="plaintext", fontsize="16", margin="0.02")
        else:
            symbol = (gate_symbol(node, view, folded, options.precision) if node.kind == "op"
                      else node.symbol)
            size = 14 if len(symbol) <= 2 else 12
            label = f"<FONT POINT-SIZE=\"{size}\">{escape(symbol)}</FONT>"
            wires = [e for e in view.producers[node.id] if e.src not in folded]
            if options.gates and node.gate_role and len(wires) >= 2:
                label += (f"<BR/><FONT POINT-SIZE=\"8\" COLOR=\"#616161\"><I>"
                          f"{escape(node.gate_role)}</I></FONT>")
            label = f"<{label}>"
            shape = "circle" if node.kind == "op" else "box"
            attrs.update(shape=shape, style="filled" + (",rounded" if shape == "box" else ""),
                         fillcolor=KIND_FILL[node.kind], color="#424242", margin="0.02",
                         width="0.45", height="0.45", fixedsize="false", penwidth="1.3")
            notes = []
            share = share_text(node, view)
            if share:
                notes.append(share)
            if notes:
                attrs["xlabel"] = ("<<FONT POINT-SIZE=\"9\" COLOR=\"#616161\"><I>"
                                   + "<BR/>".join(escape(n) for n in notes) + "</I></FONT>>")
        color = head_color(view, node.heads)
        if color and node.kind not in ("input", "param", "const"):
            attrs.update(color=color.split(":")[0], penwidth="2")
            if ":" in color:
                attrs.update(style="filled,striped" if node.kind != "op" else "filled,wedged",
                             fillcolor=(color.replace(":", ";0.5:", 1) if color.count(":") == 1
                                        else color))
        if node.check is not None and not node.check.ok:
            attrs.update(style="filled", fillcolor=CHECK_FAIL_FILL, color=CHECK_FAIL_LINE,
                         penwidth="2.5")
        if options.current == node.id:
            attrs.update(color="#ff6f00", penwidth="3")
        graph.node(node.id, label, **attrs)

    add_clusters(dot, view, emit)

    row = rows(view, options.wrap)
    for edge in view.edges:
        if edge.src in folded:
            continue
        src = view.node(edge.src)
        value, grad, known = _edge_texts(edge, src, view, options)
        if edge.count > 1:
            value += f" (×{edge.count})"
        mid = f"w_{edge.src}_{edge.dst}"
        shown = known or "local" in options.show
        extras = _extras(edge, view.node(edge.dst), options) if shown else []
        if options.reveal is not None and edge.dst not in options.reveal:
            known = None  # animation: not reached yet; same text, transparent
        attrs = edge_attrs(edge, view, options)
        dst = view.node(edge.dst)
        if options.gates and dst.gate_role == "routes" and edge.flow is not None and \
                not np.any(np.asarray(edge.flow)):
            attrs = dict(attrs, style="dashed", color=MUTED)
        wire = attrs.get("color", "#424242").split(":")[0]
        dot.node(mid, _wire_label(value, grad, extras, known, options, wire), shape="plain", id=mid)
        across = {"constraint": "false"} if row and row[edge.src] != row[edge.dst] else {}
        dot.edge(edge.src, f"{mid}:w", **attrs, **across)
        dot.edge(f"{mid}:e", edge.dst, arrowhead="normal", **attrs)

    for root in view.roots:  # the output wire: the root's value and its seed gradient
        node = view.node(root)
        known = node.grad is not None
        grad = value_text(node.grad, options.precision) if known else "?"
        if options.reveal is not None and root not in options.reveal:
            known = None
        mid, end = f"w_{root}_out", f"{root}_out"
        label = _wire_label(value_text(node.value, options.precision), grad, [], known, options)
        dot.node(mid, label, shape="plain", id=mid)
        dot.node(end, "", shape="point", width="0.01", style="invis")
        dot.edge(root, f"{mid}:w")
        dot.edge(f"{mid}:e", end, arrowhead="normal")
    add_wrap(dot, view, options.wrap, rank_step=2, skip=frozenset(folded))
    order_inputs(dot, view, options.wrap, skip=frozenset(folded), first_column=True)
    return dot


__all__ = ["render_circuit", "folded_constants", "gate_symbol"]
