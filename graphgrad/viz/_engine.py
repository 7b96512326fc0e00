"""The few engine entry points the visualizer uses, in one place (the engine contract of
docs/design.md). Gradients come from the engine's own sweep (`autodiff.sweep`, `edge_vjps`),
never from a copy of it; nothing here writes `.grad` or releases a graph."""

from __future__ import annotations

import contextlib

import numpy as np

from graphgrad.errors import GraphFreedError  # noqa: F401  (the tracer catches it)


def is_tensor(obj: object) -> bool:
    from graphgrad._tensor import Tensor

    return isinstance(obj, Tensor)


def to_numpy(array) -> np.ndarray:
    """A private, read-only NumPy copy of a backend array (or of a Tensor's data)."""
    if is_tensor(array):
        array = array.data
    try:
        from graphgrad.backend import to_numpy as backend_to_numpy

        out = np.array(backend_to_numpy(array), copy=True)
    except (ImportError, TypeError, AttributeError):
        out = np.array(array, copy=True)
    out.setflags(write=False)
    return out


def fresh(array: np.ndarray, requires_grad: bool = False):
    """A new leaf Tensor holding a copy of `array`: the tracer computes on these, never on the
    user's tensors."""
    from graphgrad._tensor import tensor

    array = np.array(array, copy=True)
    return tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")


def building_expansion():
    """Composites build their gate expansion, with graph recording on (we walk the result)."""
    from graphgrad import config

    stack = contextlib.ExitStack()
    stack.enter_context(config.expand_composites())
    stack.enter_context(config.enable_grad())
    return stack


def sweep(roots: list, flows: dict | None, seeds: list | None = None, stop=()) -> dict:
    """The engine's own backward (`autodiff.sweep`) from `roots`, for a drawing: unit seeds
    (or `seeds`), the gradient of every node, the graph kept, `.grad` untouched."""
    from graphgrad._tensor import Tensor
    from graphgrad.autodiff import sweep as engine_sweep

    if seeds is None:
        seeds = [Tensor._leaf(root.device.xp.ones_like(root.data), root.device) for root in roots]
    return engine_sweep(roots, seeds, retain_graph=True, accumulate=False, collect_all=True,
                        stop=frozenset(stop), flows=flows)


def leaf_like(array, tensor):
    """A gradient array (as backward recorded it) as a leaf Tensor on `tensor`'s device."""
    from graphgrad._tensor import Tensor

    return Tensor._leaf(array, tensor.device)


def vjp_step(node, upstream=None) -> list:
    """What `node` sends back along each input edge (the engine's VJP step) for the backend
    array `upstream`; a ones seed (None) gives the local gradients d node / d input."""
    from graphgrad._tensor import Tensor
    from graphgrad.autodiff import edge_vjps

    if upstream is None:
        dtype = np.result_type(node.data.dtype, np.float32)
        upstream = node.device.xp.ones(node.data.shape, dtype=dtype)
    return edge_vjps(node, Tensor._leaf(upstream, node.device))


def is_summary(value) -> bool:
    from graphgrad.summary import ArraySummary

    return isinstance(value, ArraySummary)


def value_of(array):
    """A read-only NumPy copy, or the ArraySummary that backward kept of a large array."""
    return array if is_summary(array) else to_numpy(array)


def summaries_as_stats(view):
    """Nodes whose value or gradient backward kept only as statistics: value/grad None, the
    statistics in `value_summary`/`grad_summary` (renderers then show the statistics)."""
    import dataclasses

    from .labels import Stats

    def as_stats(s):
        return Stats(s.size, s.mean, s.std, s.min, s.max, s.norm, s.nonfinite)

    nodes = []
    changed = False
    for node in view.nodes:
        updates = {}
        if is_summary(node.value):
            updates.update(value=None, value_summary=as_stats(node.value))
        if is_summary(node.grad):
            updates.update(grad=None, grad_summary=as_stats(node.grad))
        if updates:
            changed = True
            node = dataclasses.replace(node, **updates)
        nodes.append(node)
    return dataclasses.replace(view, nodes=tuple(nodes)) if changed else view


