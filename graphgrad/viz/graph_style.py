"""The tensor-node style: one box per tensor with name, op, shape, dtype, value and gradient.

Scalars and small tensors show their numbers (an HTML table for a small matrix); larger ones show
statistics (mean, std, min, max, norm); `thumbnails=True` adds heatmaps of feature maps, kernels
and gradients. Collapsed nn modules and composites are one box listing what they fold in.
"""

from __future__ import annotations

import numpy as np

from .common import (
    CHECK_FAIL_FILL,
    CHECK_FAIL_LINE,
    GATE_NOTES,
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
from .labels import dot_string, escape, format_number, format_shape
from .layout import add_wrap, order_inputs, rows
from .view import GraphView, NodeView

TABLE_BESIDE_THUMBNAIL = 64  # with thumbnails=True a larger tensor shows its heatmap, not tables
HIDDEN = "#ffffff00"  # fully transparent: keeps the text's room (animation frames stay aligned)


def shows_numbers(shape: tuple[int, ...], options: Options) -> bool:
    """Whether a tensor of rank >= 2 prints its numbers: every channel (the last two axes) at
    most `max_table` x `max_table`, at most `max_channels` channels (the product of the
    leading axes) and at most `max_numbers` numbers. The defaults (8 x 8, 12, 160) cover the
    lecture volumes: seed 002's 3x7x7 padded input, its 2x3x3x3 filters, its 2x3x3 output;
    a batch of four 8x8 images (256 numbers) prints statistics: on a slide it would be noise."""
    if len(shape) < 2 or shape[-2] > options.max_table or shape[-1] > options.max_table:
        return False
    return int(np.prod(shape[:-2], dtype=np.int64)) <= options.max_channels and \
        int(np.prod(shape, dtype=np.int64)) <= options.max_numbers


def _grid_columns(shape: tuple[int, ...]) -> int:
    return 1 if len(shape) == 2 else shape[-3]


def table_numbers(a: np.ndarray, precision: int) -> list:
    """Texts of a table's numbers: whole numbers print without decimals when every entry is one
    (the lecture's conv volumes read `-1 0 1`, not `-1.000 0.000 1.000`)."""
    flat = np.asarray(a, dtype=np.float64).ravel()
    if flat.size and np.all(np.isfinite(flat)) and np.all(flat == np.round(flat)) and \
            np.all(np.abs(flat) < 1e6):
        return [str(int(v)) for v in flat]
    return [format_number(v, precision) for v in flat]


def _matrix(m: np.ndarray, precision: int) -> str:
    texts = table_numbers(m, precision)
    width = m.shape[1]
    rows = "".join(
        "<TR>" + "".join(f"<TD ALIGN=\"RIGHT\">{escape(t)}</TD>" for t in texts[i:i + width])
        + "</TR>"
        for i in range(0, len(texts), width)
    )
    return (f"<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">"
            f"{rows}</TABLE>")


def _channel_grid(a: np.ndarray, color: str, precision: int) -> str:
    """Table rows: one matrix per channel, channels of one sample side by side (the
    second-to-last leading axis), samples (and any further leading axes) below each other, each
    matrix captioned with its index ([1, 2] = sample 1, channel 2). A matrix is one table."""
    if a.ndim == 2:
        return f"<TR><TD>{_matrix(a, precision)}</TD></TR>"
    lead = a.shape[:-3]
    out = []
    for outer in np.ndindex(*lead) if lead else [()]:
        cells = []
        for c in range(a.shape[-3]):
            index = outer + (c,)
            label = "[" + ", ".join(str(i) for i in index) + "]"
            cells.append(f"<TD VALIGN=\"TOP\" CELLPADDING=\"3\"><TABLE BORDER=\"1\" "
                         f"COLOR=\"#e0e0e0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"0\">"
                         f"<TR><TD><FONT "
                         f"POINT-SIZE=\"8\" COLOR=\"{MUTED}\">{escape(label)}</FONT></TD></TR>"
                         f"<TR><TD>{_matrix(a[index], precision)}</TD></TR></TABLE></TD>")
        out.append("<TR>" + "".join(cells) + "</TR>")
    return "".join(out)


def _numbers(array: np.ndarray | None, color: str, options: Options, caption: str = "",
             summary=None) -> str:
    """Numbers of an array as label HTML; `caption` (already HTML) goes before them, or in the
    first row of the table for a small matrix (a Graphviz cell holds text or a table, not both).
    `array` None: only its statistics `summary` are known (a large array released by backward)."""
    p = options.precision
    small = f"<FONT POINT-SIZE=\"9\" COLOR=\"{color}\">{caption}</FONT>" if caption else ""
    a = None if array is None else np.asarray(array)
    if a is not None and a.size == 1:
        number = escape(format_number(a.reshape(()).item(), p))
        return small + f"<FONT COLOR=\"{color}\"><B>{number}</B></FONT>"
    if a is not None and a.ndim == 1 and a.size <= options.max_table:
        text = ", ".join(table_numbers(a, p))
        return small + f"<FONT COLOR=\"{color}\">[{escape(text)}]</FONT>"
    if a is not None and shows_numbers(a.shape, options) and not (
            options.thumbnails and a.size > TABLE_BESIDE_THUMBNAIL):
        grid = _channel_grid(a, color, p)
        if caption:
            grid = f"<TR><TD COLSPAN=\"{_grid_columns(a.shape)}\">{small}</TD></TR>" + grid
        return (f"<FONT COLOR=\"{color}\" POINT-SIZE=\"10\"><TABLE BORDER=\"0\" CELLBORDER=\"0\" "
                f"CELLSPACING=\"0\" CELLPADDING=\"1\">{grid}</TABLE></FONT>")
    from .labels import stats

    if summary is None:
        if a is None:
            raise ValueError("_numbers: needs the array or its statistics (summary=)")
        summary = stats(a)
    s = summary

    def f(v) -> str:
        return escape(format_number(v, p))

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
        title = (f"<B>{escape(node.name or '?')}</B> "
                 f"<FONT COLOR=\"{MUTED}\">{escape(node.op or 'module')}</FONT>")
    elif node.kind == "composite":
        title = f"<B>{escape(node.name or node.symbol)}</B>"
        if (node.op or "") != (node.name or node.symbol):
            title += f" <FONT COLOR=\"{MUTED}\">{escape(node.op or '')}</FONT>"
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
    if "value" in options.show and node.value_stats is not None:
        rows.append(_numbers(node.value, VALUE_COLOR, options, summary=node.value_stats))
    if "grad" in options.show:
        if node.grad_stats is not None:
            color = GRAD_COLOR if _grad_visible(node, options) else HIDDEN
            rows.append(_numbers(node.grad, color, options, caption="grad ",
                                 summary=node.grad_stats))
        elif not view.grads_computed and (node.requires_grad or node.op is not None):
            rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"{MUTED}\">"
                        "<I>grad: not computed yet</I></FONT>")
    share = share_text(node, view)
    if share:
        rows.append(f"<FONT POINT-SIZE=\"9\">{escape(share)}</FONT>")
    if options.gates and node.gate_role:
        rows.append("<FONT POINT-SIZE=\"9\" COLOR=\"#616161\">"
                    f"<I>{GATE_NOTES[node.gate_role]}</I></FONT>")
    if node.check is not None and not node.check.ok:
        rows.append(f"<FONT POINT-SIZE=\"9\" COLOR=\"{CHECK_FAIL_LINE}\">"
                    "<B>gradient check failed</B></FONT>")
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
        graph.node(node.id, node_label(node, view, options),
                   tooltip=dot_string(tooltip(node, view)), id=node.id)

    add_clusters(dot, view, emit)
    reveal = getattr(options, "reveal", None)
    row = rows(view, options.wrap)
    for edge in view.edges:
        attrs = edge_attrs(edge, view, options)
        if row and row[edge.src] != row[edge.dst]:
            attrs["constraint"] = "false"
        parts = []
        if "local" in options.show and edge.local is not None:
            local = escape(value_text(edge.local, options.precision))
            parts.append(f"<FONT COLOR=\"{LOCAL_COLOR}\">local {local}</FONT>")
        if "flow" in options.show and edge.flow is not None:
            color = GRAD_COLOR if reveal is None or edge.dst in reveal else HIDDEN
            flow = escape(value_text(edge.flow, options.precision))
            parts.append(f"<FONT COLOR=\"{color}\">← {flow}</FONT>")
        if edge.count > 1:
            parts.append(f"×{edge.count}")
        if parts:
            attrs["label"] = "<<FONT POINT-SIZE=\"9\">" + "<BR/>".join(parts) + "</FONT>>"
        if options.gates and view.node(edge.dst).gate_role == "routes" and edge.flow is not None \
                and not np.any(np.asarray(edge.flow)):
            attrs.update(style="dashed", color=MUTED)
        dot.edge(edge.src, edge.dst, **attrs)
    add_wrap(dot, view, options.wrap)
    order_inputs(dot, view, options.wrap)
    return dot


__all__ = ["render_graph", "node_label"]
