"""Iterative graph walks. Nothing in graphgrad walks the graph recursively.

Deterministic: inputs are tuples, ties are broken by creation number, so the same program gives
the same order (and the same diagram) on every run.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from .tensor import Tensor


def backward_order(roots: Iterable[Tensor], stop: frozenset[int] = frozenset()) -> list[Tensor]:
    """Nodes that need a gradient, each after every node that consumes it (Kahn's algorithm).

    Only nodes with `requires_grad` are visited. A node whose id is in `stop` is treated as a leaf
    (its inputs are not visited): `gg.grad` stops at the arguments it differentiates for.
    A node comes out when all its consumers are done, so its gradient is final there.
    """
    roots = [r for r in dict.fromkeys(roots) if r.requires_grad]
    pending: dict[int, int] = {}
    stack = list(roots)
    seen = {id(r) for r in roots}
    while stack:
        node = stack.pop()
        if id(node) in stop:
            continue
        for parent in node.inputs:
            if not parent.requires_grad:
                continue
            key = id(parent)
            pending[key] = pending.get(key, 0) + 1
            if key not in seen:
                seen.add(key)
                stack.append(parent)
    order = []
    ready = sorted((r for r in roots if pending.get(id(r), 0) == 0), key=lambda t: t.seq)
    while ready:
        node = ready.pop()
        order.append(node)
        if id(node) in stop:
            continue
        for parent in node.inputs:
            if not parent.requires_grad:
                continue
            key = id(parent)
            pending[key] -= 1
            if pending[key] == 0:
                ready.append(parent)
    return order


def ancestors(roots: Iterable[Tensor]) -> list[Tensor]:
    """Every node reachable from `roots` through inputs (constants included), sorted by creation."""
    stack = list(dict.fromkeys(roots))
    seen = {id(r): r for r in stack}
    while stack:
        for parent in stack.pop().inputs:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=lambda t: t.seq)


def iter_edges(nodes: Iterable[Tensor]) -> Iterator[tuple[Tensor, Tensor, int]]:
    """(input, consumer, argument position) for each edge into `nodes`, multiplicity kept."""
    for node in nodes:
        for position, parent in enumerate(node.inputs):
            yield parent, node, position
