"""The tensor-node style: one box per tensor with name, op, shape, dtype, value and gradient.

Scalars and small tensors show their numbers (an HTML table for a small matrix); larger ones show
statistics (mean, std, min, max, norm); `thumbnails=True` adds heatmaps of feature maps, kernels
and gradients. Collapsed nn modules and composites are one box listing what they fold in.
"""

from __future__ import annotations

import numpy as np

from .common import (
    CHECK_FAIL_FILL, CHECK_FAIL_LINE, GATE_NOTES, GRAD_COLOR, KIND_FILL, LOCAL_COLOR, MUTED,
    VALUE_COLOR, Options, add_clusters, edge_attrs, head_color, new_digraph, share_text, tooltip,
    value_text,
)
from .labels import dot_string, escape, format_number, format_shape
from .view import GraphView, NodeView

HIDDEN = "#ffffff00"  # fully transparent: keeps the text's room (animation frames stay aligned)


def _numbers(array: np.ndarray, color: str, options: Options, caption: str = "",
             summary=None) -> str:
    """Numbers of an array as label HTML; `caption` (already HTML) goes before them, or in the
    first row of the table for a small matrix (a Graphviz cell holds text or a table, not both)."""
    p = options.precision
    small = f"<FONT POINT-SIZE=\"9\" COLOR=\"{color}\">{caption}</FONT>" if caption else ""
    a = np.asarray(array)
    if a.size == 1:
        return small + f"<FONT COLOR=\"{color}\"><B>{escape(format_number(a.reshape(()).item(), p))}</B></FONT>"
    if a.ndim == 1 and a.size <= options.max_table:
        text = ", ".join(format_number(v, p) for v in a.tolist())
        return small + f"<FONT COLOR=\"{color}\">[{escape(text)}]</FONT>"
    if a.ndim == 2 and a.shape[0] <= options.max_table and a.shape[1] <= options.max_table:
        rows = "".join(
            "<TR>" + "".join(f"<TD ALIGN=\"RIGHT\">{escape(format_number(v, p))}</TD>" for v in row)
            + "</TR>"
            for row in a.tolist()
        )
        if caption:
            rows = f"<TR><TD COLSPAN=\"{a.shape[1]}\">{small}</TD></TR>" + rows
        return (f"<FONT COLOR=\"{color}\" POINT-SIZE=\"10\"><TABLE BORDER=\"0\" CELLBORDER=\"0\" "
                f"CELLSPACING=\"0\" CELLPADDING=\"1\">{rows}</TABLE></FONT>")
    from .labels import stats

    s = summary if summary is not None else stats(a)
    f = lambda v: escape(format_number(v, p))
    first = f"μ {f(s.mean)}  σ {f(s.std)}"
    second = f"[{f(s.min)}, {f(s.max)}]  ‖·‖ {f(s.norm)}"
    if s.nonfinite:
        second += f"  <B>{s.nonfinite} non-finite</B>"
    return small + f"<FONT COLOR=\"{color}\" POINT-SIZE=\"10\">{first}<BR/>{second}</FONT>"


def _thumb_row(node: NodeView, options: Options, which: str) -> str:
    array = node.value if which == "value" else node.grad
    if array is None or np.asarray(array).size < 16:
        return ""
    from .thumbnails import thumbnail

    path = thumbnail(array, which, node.kind == "param", options.thumbnail_dir)
    if path is None:
        return ""
    return f"<TR><TD><IMG SRC=\"{escape(path)}\"/></TD></TR>"


def _grad_visible(node: NodeView, options) -> bool:
    reveal = getattr(options, "reveal", None)
    return reveal is None or node.id in reveal


def node_label(node: NodeView, view: GraphView, options: Options) -> str:
    fill = KIND_FILL.get(node.kind, "#ffffff")
    border = "#616161"
    color = head_color(view, node.heads)
    if color:
        border = color.split(":")[0]
    if node.check is not None and not node.check.ok:
        fill, border = CHECK_FAIL_FILL, CHECK_FAIL_LINE
    rows = []
    if node.kind == "module":
        title = f"<B>{escape(node.name or '?')}</B> <FONT COLOR=\"{MUTED}\">{escape(node.op or 'module')}</FONT>"
    elif node.kind == "composite":
        title = f"<B>{escape(node.name or node.symbol)}</B> <FONT COLOR=\"{MUTED}\">{escape(node.op or '')}</FONT>"
    elif node.op is not None:
        title = f"<B>{escape(node.symbol)}</B>"
        if node.symbol != node.op:
            title += f" <FONT COLOR=\"{MUTED}\">{escape(node.op)}</FONT>"
        if node.name:
            title = f"<B>{escape(node.name)}</B> <FONT COLOR=\"{MUTED}\">{escape(node.op)}</FONT>"
    else:
        title = f"<B>{escape(node.name or node.kind)}</B>"
        if node.name:
            title += f" <FONT COLOR=\"{MUTED}\">{node.kind}</FONT>"
    rows.append(title)
    meta = f"{format_shape(node.shape)} {node.dtype}"
    if node.members > 1:
        meta += f" · {node.members} nodes"
    if node.param_count:
        meta += f" · {node.param_count:,} params"
    rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"{MUTED}\">{escape(meta)}</FONT>")
    if node.absorbed and node.kind == "module":
        inner = ", ".join(f"{name.rsplit('.', 1)[-1]} {format_shape(shape)}"
                          for name, shape in node.absorbed[:4])
        if len(node.absorbed) > 4:
            inner += ", ..."
        rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"{MUTED}\">{escape(inner)}</FONT>")
    if "value" in options.show and node.value is not None:
        rows.append(_numbers(node.value, VALUE_COLOR, options, summary=node.value_stats))
    if "grad" in options.show:
        if node.grad is not None:
            color = GRAD_COLOR if _grad_visible(node, options) else HIDDEN
            rows.append(_numbers(node.grad, color, options, caption="grad ",
                                 summary=node.grad_stats))
        elif not view.grads_computed and (node.requires_grad or node.op is not None):
            rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"{MUTED}\"><I>grad: not computed yet</I></FONT>")
    share = share_text(node, view)
    if share:
        rows.append(f"<FONT POINT-SIZE=\"9\">{escape(share)}</FONT>")
    if options.gates and node.gate_role:
        rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"#616161\"><I>{GATE_NOTES[node.gate_role]}</I></FONT>")
    if node.check is not None and not node.check.ok:
        rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"{CHECK_FAIL_LINE}\"><B>gradient check failed</B></FONT>")
    body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    if options.thumbnails:
        body += _thumb_row(node, options, "value")
        if node.grad is not None and _grad_visible(node, options):
            body += _thumb_row(node, options, "grad")
    current = getattr(options, "current", None) == node.id
    width = "3" if current else "1"
    if current:
        border = "#ff6f00"
    return (f"<<TABLE BORDER=\"{width}\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"2\" "
            f"BGCOLOR=\"{fill}\" COLOR=\"{border}\" STYLE=\"ROUNDED\">{body}</TABLE>>")


def render_graph(view: GraphView, options: Options):
    dot = new_digraph(view, options, "graph")
    dot.attr(nodesep="0.25", ranksep="0.35")
    dot.attr("node", shape="plain")

    def emit(graph, node: NodeView):
        if node.kind == "const" and node.size <= options.max_table:
            text = value_text(node.value, options.precision) if node.size == 1 else \
                np.array2string(np.asarray(node.value), precision=options.precision, separator=", ")
            graph.node(node.id, f"<<FONT COLOR=\"{MUTED}\">{escape(text)}</FONT>>",
                       shape="plaintext", tooltip=dot_string(tooltip(node, view)), id=node.id)
            return
        graph.node(node.id, node_label(node, view, options), tooltip=dot_string(tooltip(node, view)),
                   id=node.id)

    add_clusters(dot, view, emit)
    reveal = getattr(options, "reveal", None)
    for edge in view.edges:
        attrs = edge_attrs(edge, view, options)
        parts = []
        if "local" in options.show and edge.local is not None:
            parts.append(f"<FONT COLOR=\"{LOCAL_COLOR}\">local {escape(value_text(edge.local, options.precision))}</FONT>")
        if "flow" in options.show and edge.flow is not None:
            color = GRAD_COLOR if reveal is None or edge.dst in reveal else HIDDEN
            parts.append(f"<FONT COLOR=\"{color}\">← {escape(value_text(edge.flow, options.precision))}</FONT>")
        if edge.count > 1:
            parts.append(f"×{edge.count}")
        if parts:
            attrs["label"] = "<<FONT POINT-SIZE=\"9\">" + "<BR/>".join(parts) + "</FONT>>"
        if options.gates and view.node(edge.dst).gate_role == "routes" and edge.flow is not None \
                and not np.any(np.asarray(edge.flow)):
            attrs.update(style="dashed", color=MUTED)
        dot.edge(edge.src, edge.dst, **attrs)
    return dot


__all__ = ["render_graph", "node_label"]
