"""Iterative graph walks. Nothing in graphgrad walks the graph recursively.

Deterministic: inputs are tuples and nodes are ordered by creation number, so the same program
gives the same order (and the same diagram) on every run. The backward sweep itself orders nodes
by creation number on a heap (graphgrad/autodiff.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from ._tensor import Tensor


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
