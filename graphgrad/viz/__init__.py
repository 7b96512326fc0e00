"""graphgrad.viz: Graphviz diagrams with forward values and gradients at every node.

    import graphgrad as gg
    dot = gg.viz.draw(loss, style="circuit", expand=True)   # a graphviz.Digraph
    gg.viz.save(dot, "docs/images/circuit")                  # .svg, .png and .pdf at once

Tensors are first copied into a read-only `GraphView` (`trace`), and every renderer draws from
that, so drawing never changes the graph. Graphviz, networkx and matplotlib are imported only when
a function here needs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .labels import escape, format_number, format_shape
from .view import ClusterView, EdgeView, GraphView, NodeView, ScopeView

if TYPE_CHECKING:  # annotations only: networkx loads on first use, the core stays below viz
    import graphviz
    import networkx as nx

    from .._tensor import Tensor
    from .common import Options
    from .networkx import GraphSummary

# which composites and modules a drawing opens: all (True), none (False), names, or by `depth`
Expand = bool | str | Iterable[str] | None

STYLES = ("graph", "circuit")
AUTO_LR_DEPTH = 8  # rankdir="auto": left to right up to this many nodes deep, else top to bottom


def _longest_path(view: GraphView) -> int:
    longest: dict[str, int] = {}
    for node in view.nodes:  # creation order is a topological order
        producers = view.producers[node.id]
        longest[node.id] = 1 + max((longest.get(e.src, 0) for e in producers), default=0)
    return max(longest.values(), default=0)


def trace(*roots: Any, expand: Expand = None, depth: int | None = 1, grads: bool | str = "auto",
          local: bool = False, check: bool = False,
          heads: Sequence[str] | None = None) -> GraphView:
    """Copy the graph under `roots` into a read-only GraphView (see `viz.tracer.trace`)."""
    from .tracer import trace as _trace

    return _trace(*_flatten(roots), expand=expand, depth=depth, grads=grads, local=local,
                  check=check, heads=heads)


def _flatten(roots) -> tuple:
    if len(roots) == 1 and isinstance(roots[0], (list, tuple)):
        return tuple(roots[0])
    return tuple(roots)


def _show(show) -> tuple[str, ...]:
    if isinstance(show, str):
        show = [item.strip() for item in show.split(",") if item.strip()]
    return tuple(show)


def draw(*roots: Any, style: str = "graph", show: str | Sequence[str] = ("value", "grad"),
         expand: Expand = None, depth: int | None = 1, rankdir: str = "auto",
         precision: int | None = None, grads: bool | str = "auto", check: bool = False,
         gates: bool = False, legend: bool = True, thumbnails: bool = False,
         heads: Sequence[str] | None = None, title: str | None = None,
         vanish_below: float = 1e-6, explode_above: float = 1e3,
         path: str | os.PathLike | None = None, formats: Sequence[str] = ("svg", "png", "pdf"),
         thumbnail_dir: str | None = None, max_nodes: int | None = 300) -> graphviz.Digraph:
    """Draw the graph under `roots` (Tensors, or a GraphView) and return a `graphviz.Digraph`.

    style: "graph" (one box per tensor: name, op, shape, dtype, value, gradient) or "circuit"
        (the lecture style: gates with their symbol, value above and gradient below each wire).
    show: any of "value", "grad", "local" (d out/d in of each edge), "flow" (upstream x local).
    rankdir: "LR", "TB", "RL", "BT" or "auto" (circuits and graphs up to 8 nodes deep left to
        right, deeper graphs top to bottom so a CNN fits a slide).
    expand / depth: which composites and nn modules are opened (see `trace`); by default each
        composite and each top-level module is one node.
    grads: "auto" shows gradients when backward() has run (and "not computed yet" before);
        True computes them now on copies, without touching the graph; False hides them.
    check: colour nodes whose local gradient disagrees with finite differences.
    gates: mark how each gate treats its upstream gradient (add distributes, max routes,
        mul switches).  heads: names of the roots when several loss heads are drawn.
    path: also save the picture there, in every format of `formats` (SVG, PNG, PDF by default).
    max_nodes: past this many nodes a picture is not legible on a slide: the drawing collapses
        composites and modules (expand=None, depth=0) and, if still too large, folds the middle
        of the graph into one "not drawn" node, saying so in a warning and in the picture.
        None draws everything (an SVG to zoom into).
    """
    if style not in STYLES:
        raise ValueError(f"draw(): unknown style {style!r}; valid styles: {STYLES}")
    from dataclasses import replace

    from .common import Options

    show = _show(show)
    roots = _flatten(roots)
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 2):
        raise ValueError(f"draw(): max_nodes= must be None or an int >= 2; got {max_nodes!r}")
    traced = not (len(roots) == 1 and isinstance(roots[0], GraphView))
    if not traced:
        view = roots[0]
    else:
        from .collapse import check_expand

        check_expand(expand, roots)
        view = trace(*roots, expand=expand, depth=depth, grads=grads,
                     local="local" in show or "flow" in show, check=check, heads=heads)
    if max_nodes is not None and len(view.nodes) > max_nodes:
        import warnings

        from .collapse import elide
        from .layout import TooLargeWarning

        total, hint = len(view.nodes), f"pass max_nodes=None (or more than {len(view.nodes):,})"
        if traced and (expand or (depth != 0 and view.clusters)):
            view = trace(*roots, expand=None, depth=0, grads=grads,
                         local="local" in show or "flow" in show, check=check, heads=heads)
            hint += f" to draw all {total:,} nodes of expand={expand!r}, depth={depth!r}"
            if len(view.nodes) <= max_nodes:
                view = replace(view, notes=view.notes + (
                    f"composites and modules collapsed ({total:,} nodes are illegible on a "
                    f"slide): {hint}",))
        view = elide(view, max_nodes, hint + ", or draw a part of the graph")
        warnings.warn(f"draw(): {view.notes[-1]}", TooLargeWarning, stacklevel=2)
    auto = rankdir == "auto"
    if auto:
        rankdir = "LR" if style == "circuit" or _longest_path(view) <= AUTO_LR_DEPTH else "TB"
    options = Options(
        show=show, precision=(2 if style == "circuit" else 3) if precision is None else precision,
        rankdir=rankdir, gates=gates, legend=legend, vanish_below=vanish_below,
        explode_above=explode_above, thumbnails=thumbnails, thumbnail_dir=thumbnail_dir,
        title=title,
    )
    if auto:  # direction and row wrapping measured with dot: the picture fits a 16:9 slide
        from .layout import fit_layout

        dot, _ = fit_layout(view, lambda o: render_view(view, style, o), options, rankdir,
                            turn=style != "circuit")
    else:
        dot = render_view(view, style, options)
    if path is not None:
        from .render import save as _save

        _save(dot, path, formats)
    return dot


def render_view(view: GraphView, style: str, options: Options) -> graphviz.Digraph:
    """GraphView -> Digraph for one style: a pure function, no Tensors involved."""
    if style == "circuit":
        from .circuit import render_circuit

        return render_circuit(view, options)
    if style == "graph":
        from .graph_style import render_graph

        return render_graph(view, options)
    raise ValueError(f"unknown style {style!r}; valid styles: {STYLES}")


def save(diagram: Any, path: str | os.PathLike, formats: Sequence[str] = ("svg", "png", "pdf"),
         **draw_kwargs: Any) -> list[str]:
    """Save a Digraph (or draw Tensors first) as SVG, PNG and PDF together, atomically.

    Without Graphviz's `dot`, a matplotlib + networkx fallback writes the same formats.
    Returns the paths written.
    """
    from .render import save as _save

    if not hasattr(diagram, "source"):
        diagram = draw(diagram, **draw_kwargs)
    return _save(diagram, path, formats)


def to_networkx(*roots: Any, **trace_kwargs: Any) -> nx.DiGraph:
    """A `networkx.DiGraph` of the drawn graph: op, kind, name, shape, dtype, value, grad, flops on
    each node; `trace_kwargs` (expand, depth, grads ...) as for `trace`. Accepts a GraphView."""
    from .networkx import view_to_networkx

    roots = _flatten(roots)
    if len(roots) == 1 and isinstance(roots[0], GraphView):
        view = roots[0]
    else:
        view = trace(*roots, **trace_kwargs)
    return view_to_networkx(view)


def summary(*roots: Any, **trace_kwargs: Any) -> GraphSummary:
    """Node count per op, depth, parameter count, FLOPs (total and per node) of a graph, from
    `to_networkx` (pass Tensors, a GraphView or a networkx graph)."""
    from .networkx import summarize_networkx

    roots = _flatten(roots)
    if len(roots) == 1 and hasattr(roots[0], "nodes") and hasattr(roots[0], "predecessors"):
        return summarize_networkx(roots[0])
    return summarize_networkx(to_networkx(*roots, **trace_kwargs))


def animate_backward(root: Tensor, path: str | os.PathLike, format: str = "gif",
                     **kwargs: Any) -> str:
    """One frame per backward step, the gradient appearing node by node (see viz.animate)."""
    from .animate import animate_backward as _animate

    return _animate(root, path, format=format, **kwargs)


def draw_fallback(*roots: Tensor, path: str | os.PathLike, style: str = "graph",
                  fmt: str | None = None, **draw_kwargs: Any) -> str:
    """Draw with matplotlib + networkx (no Graphviz needed) into `path` (format from its suffix)."""
    from ..atomic import atomic_write_bytes
    from .render import fallback_bytes

    dot = draw(*roots, style=style, **draw_kwargs)
    fmt = fmt or str(path).rsplit(".", 1)[-1]
    atomic_write_bytes(path, fallback_bytes(dot, fmt))
    return str(path)


def _numbers_html(array) -> str:
    """A small HTML table of a 0-2 d array (rows of a larger one are flattened), else its repr."""
    import html

    import numpy as np

    a = np.asarray(array)
    if a.size <= 64 and a.ndim <= 2:
        rows = a.reshape(1, -1) if a.ndim < 2 else a
        cells = "".join("<tr>" + "".join(f"<td>{format_number(v, 4)}</td>" for v in row.tolist())
                        + "</tr>" for row in rows)
        return f"<table>{cells}</table>"
    text = np.array2string(a, precision=4, separator=", ", threshold=64)
    return f"<pre>{html.escape(text)}</pre>"


def tensor_mimebundle(tensor: Tensor, include: Iterable[str] | None = None,
                      exclude: Iterable[str] | None = None) -> dict[str, str]:
    """What a notebook shows for a Tensor: shape, dtype, its numbers, the op that made it and its
    gradient, as a small HTML table and the text repr. It never walks nor draws the graph (a
    6,000-gate tensor shows in milliseconds): `tensor.draw()` or `gg.viz.draw(tensor)` does."""
    import html

    rows = [("shape", format_shape(tensor.shape)), ("dtype", str(tensor.dtype))]
    if tensor.name:
        rows.append(("name", html.escape(str(tensor.name))))
    made = "leaf" if tensor.op is None else html.escape(str(tensor.op.name))
    if tensor.site:
        made += f" at {html.escape(tensor.site)}"
    rows.append(("made by", made))
    rows.append(("values", _numbers_html(tensor.numpy())))
    if tensor.grad is not None:
        rows.append(("grad", _numbers_html(tensor.grad.numpy())))
    elif tensor.requires_grad:
        rows.append(("grad", "none yet (call backward())"))
    body = "".join(f"<tr><th style=\"text-align:left\">{k}</th><td>{v}</td></tr>" for k, v in rows)
    return {"text/plain": repr(tensor), "text/html": f"<table>{body}</table>"}


def _draw_tensor(self: Tensor, **kwargs: Any) -> graphviz.Digraph:
    """The graph that computed this tensor as a `graphviz.Digraph` (a notebook displays it);
    keywords as for `gg.viz.draw` (style="circuit", expand=True, path=...)."""
    return draw(self, **kwargs)


def _install_tensor_display() -> None:
    """`Tensor.draw` and the notebook display come from here: the engine core never imports the
    viewer (the layering contract in pyproject.toml checks it)."""
    from .._tensor import Tensor

    _draw_tensor.__name__ = _draw_tensor.__qualname__ = "draw"
    Tensor.draw = _draw_tensor  # type: ignore[attr-defined]
    Tensor._repr_mimebundle_ = tensor_mimebundle  # type: ignore[attr-defined]


_install_tensor_display()

__all__ = [
    "draw", "save", "trace", "render_view", "to_networkx", "summary", "animate_backward",
    "draw_fallback", "tensor_mimebundle", "escape", "format_number", "GraphView", "NodeView",
    "EdgeView", "ClusterView", "ScopeView", "STYLES",
]
