"""Iterative graph walks. Nothing in graphgrad walks the graph recursively.

Deterministic: inputs are tuples, ties are broken by creation number, so the same program gives
the same order (and the same diagram) on every run.
"""

from __future__ import annotations

from typing import Iterable

from .tensor import Tensor


def backward_order(roots: Iterable[Tensor], stop: frozenset[int] = frozenset()) -> list[Tensor]:
    """Nodes that need a gradient, each after every node that consumes it.

    A node's inputs always exist before it, so creation numbers (`seq`) increase along every
    edge: decreasing `seq` is a reverse topological order (Chainer's rank idea, for free).
    Only nodes with `requires_grad` are visited; a node whose id is in `stop` is treated as a
    leaf (`gg.grad` stops at the arguments it differentiates for).
    """
    stack = [r for r in dict.fromkeys(roots) if r.requires_grad]
    seen = {id(r) for r in stack}
    found = list(stack)
    while stack:
        node = stack.pop()
        if id(node) in stop:
            continue
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
                found.append(parent)
    found.sort(key=_seq_of, reverse=True)
    return found


def _seq_of(t: Tensor) -> int:
    return t.seq


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
