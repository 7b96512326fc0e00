"""Fitting a picture to a 16:9 slide: direction, wrapping long chains into rows, and the point
past which no layout is legible.

Why: a training step is a long chain. Drawn top to bottom it is a 1:4.5 strip, left to right a
4.5:1 one; neither fits a slide. `fit_layout` lays the picture out with `dot` (the `plain`
output: sizes only, no drawing) in both directions and, when both are too elongated, wraps the
chain into rows (left to right) or columns (top to bottom): every node is pinned to the rank of
its position modulo the row length (`rank=same` with an invisible spine), and the edges that
cross from one row to the next stop constraining the ranking. Without `dot` the depth decides,
as before.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from .view import GraphView


class TooLargeWarning(UserWarning):
    """A graph too large to be legible was drawn collapsed or in part (the message says how to
    draw it all)."""


MAX_ASPECT = 2.5  # beyond this (either way) a picture does not fit a 16:9 slide legibly
SLIDE = (13.33, 7.5)  # inches of a 16:9 slide
BASE_FONT = 10.0  # the smallest text a picture prints at full size (captions), in points
LEGIBLE_AS_IS = 0.75  # a picture whose text stays above this share of its size on a slide fits


def ranks(view: GraphView) -> dict[str, int]:
    """Longest-path depth of every node from the graph's inputs (creation order is topological);
    an input sits just before its first consumer, not in the first column (a bias added late
    would otherwise pull a long edge across every row)."""
    out: dict[str, int] = {}
    for node in view.nodes:
        out[node.id] = 1 + max((out.get(e.src, -1) for e in view.producers[node.id]), default=-1)
    for node in view.nodes:
        uses = view.consumers[node.id]
        if not view.producers[node.id] and uses:
            out[node.id] = max(0, min(out[e.dst] for e in uses) - 1)
    return out


def segment_length(view: GraphView, wrap: int) -> int:
    depth = max(ranks(view).values(), default=0) + 1
    return max(1, math.ceil(depth / max(wrap, 1)))


def rows(view: GraphView, wrap: int) -> dict[str, int] | None:
    """Row of every node when the chain wraps into `wrap` rows (None: no wrapping). An edge
    between two rows must not constrain the ranking (`constraint=false`)."""
    if wrap <= 1:
        return None
    r, length = ranks(view), segment_length(view, wrap)
    return {node_id: depth // length for node_id, depth in r.items()}


def add_wrap(dot, view: GraphView, wrap: int, rank_step: int = 1, skip=frozenset()) -> None:
    """Pin every node to rank (depth mod row length) of an invisible spine: the chain wraps into
    `wrap` rows, kept in order by a flat invisible edge from row to row in every rank (nested
    clusters can still overrule it). `rank_step`: DOT ranks per graph edge (2 in circuits,
    whose wires have a label node in the middle); `skip`: ids not drawn (folded constants)."""
    if wrap <= 1:
        return
    r, length = ranks(view), segment_length(view, wrap)
    spine = [f"wrap_{i}" for i in range(length)]
    for name in spine:
        dot.node(name, "", style="invis", width="0", height="0", fixedsize="true")
    for a, b in zip(spine, spine[1:]):
        dot.edge(a, b, style="invis", minlen=str(rank_step))
    groups: dict[int, list[str]] = {}
    for node_id, depth in r.items():
        if node_id not in skip:
            groups.setdefault(depth % length, []).append(node_id)
    for index, members in sorted(groups.items()):
        dot.body.append("\t{rank=same; " + "; ".join([spine[index], *members]) + "}\n")
        firsts: dict[int, str] = {}
        for node_id in members:
            firsts.setdefault(r[node_id] // length, node_id)
        ordered = [firsts[row] for row in sorted(firsts)]
        for a, b in zip(ordered, ordered[1:]):
            dot.edge(a, b, style="invis")


SMALL = 40  # circuits up to this many nodes have every input in the first column ...
SHALLOW = 8  # ... and so do graphs up to this deep (a deeper graph's late inputs would pull
# long edges across it)


def order_inputs(dot, view: GraphView, wrap: int, skip=frozenset(),
                 first_column: bool = False) -> None:
    """Inputs in the order the user created them (x above y above z; w0, x0, w1, ...), not in
    Graphviz's crossing-minimising order: inputs sharing a rank go in one `rank=same` group in
    creation order, chained by invisible edges (which is what orders a rank). In a small picture
    (any small circuit with `first_column`, a small and shallow graph otherwise) every input is
    in the first rank, as on the lecture's slides. Constants keep their place by their gate."""
    if wrap > 1:
        return  # wrapped rows pin ranks already
    leaves = [n for n in view.nodes
              if n.op is None and n.kind in ("input", "param") and n.id not in skip]
    if len(leaves) < 2:
        return
    first_column = len(view.nodes) <= SMALL and (
        first_column or max(ranks(view).values(), default=0) < SHALLOW)
    groups: dict[int, list] = {}
    r = {} if first_column else ranks(view)
    for leaf in leaves:
        groups.setdefault(r.get(leaf.id, 0), []).append(leaf)
    for members in groups.values():
        if len(members) < 2:
            continue
        ids = [m.id for m in sorted(members, key=lambda m: m.seq)]
        dot.body.append("\t{rank=" + ("min" if first_column else "same") + "; "
                        + "; ".join(ids) + "}\n")
        for a, b in zip(ids, ids[1:]):
            dot.edge(a, b, style="invis")


def measure(dot) -> tuple[float, float] | None:
    """(width, height) in inches of `dot`'s layout, or None without Graphviz's `dot`."""
    from .render import dot_available

    if not dot_available():
        return None
    first = dot.pipe(format="plain").decode("utf-8", "replace").split("\n", 1)[0].split()
    return float(first[2]), float(first[3])


def aspect(size: tuple[float, float]) -> float:
    w, h = size
    return max(w, h) / max(min(w, h), 1e-9)


def font_on_slide(size: tuple[float, float]) -> float:
    """Points the smallest text shrinks to when the picture is scaled onto a 16:9 slide."""
    w, h = size
    return BASE_FONT * min(1.0, SLIDE[0] / max(w, 1e-9), SLIDE[1] / max(h, 1e-9))


def wraps_to_try(rankdir: str, size: tuple[float, float]) -> list[int]:
    """Row (LR) or column (TB) counts that bring an unwrapped layout of `size` near 16:9:
    k rows make an LR picture k times taller and k times narrower (k columns: the reverse)."""
    w, h = size
    slide = SLIDE[0] / SLIDE[1]
    ratio = w / max(h, 1e-9) / slide if rankdir == "LR" else slide * h / max(w, 1e-9)
    k = max(2, round(math.sqrt(max(ratio, 1.0))))
    return [k, k + 1, k - 1] if k > 2 else [2, 3]


def fits(size: tuple[float, float]) -> bool:
    """Within MAX_ASPECT, or small enough to sit on a slide nearly at full size whatever its
    shape (a short circuit 2.7 times wider than high reads well as it is)."""
    return aspect(size) <= MAX_ASPECT or font_on_slide(size) >= LEGIBLE_AS_IS * BASE_FONT


def fit_layout(view: GraphView, render, options, prefer: str, turn: bool = True):
    """Render with the direction and wrapping that come closest to a 16:9 slide.

    `render(options)` draws; `prefer` is the direction tried first, then (when `turn`; circuits
    stay left to right, their wire labels are written for horizontal wires) the other one, then
    each wrapped into the number of rows (columns) its unwrapped size asks for. Returns
    (digraph, size in inches); size is None without `dot`, which leaves `prefer` unwrapped."""
    best: tuple[Any, tuple[float, float]] | None = None  # (digraph, size) closest to a slide

    def attempt(rankdir: str, wrap: int):
        nonlocal best
        dot = render(replace(options, rankdir=rankdir, wrap=wrap))
        size = measure(dot)
        if size is not None and (best is None or aspect(size) < aspect(best[1])):
            best = (dot, size)
        return dot, size

    first, size = attempt(prefer, 0)
    if size is None:
        return first, None
    sizes = {prefer: size}
    if fits(size):
        return first, size
    if turn:
        other = "TB" if prefer == "LR" else "LR"
        dot, sizes[other] = attempt(other, 0)
        if fits(sizes[other]):
            return dot, sizes[other]
    depth = max(ranks(view).values(), default=0) + 1
    assert best is not None  # the first attempt measured a size
    for rankdir in sorted(sizes, key=lambda d: aspect(sizes[d])):
        if aspect(best[1]) <= MAX_ASPECT:
            break
        for k in wraps_to_try(rankdir, sizes[rankdir]):
            if 2 <= k <= depth // 2:
                attempt(rankdir, k)
                if aspect(best[1]) <= MAX_ASPECT:
                    break
    return best


__all__ = ["TooLargeWarning", "MAX_ASPECT", "SLIDE", "ranks", "add_wrap", "rows", "measure",
           "aspect", "fit_layout", "font_on_slide", "wraps_to_try", "order_inputs", "fits"]
