"""Reverse-mode differentiation over any DAG: backward(), grad(), value_and_grad().

The sweep runs each node's VJP in Kahn order, sums cotangents to input shapes, accumulates where a
node fans out, runs hooks, and returns the gradient of every node it passed (the visualizer draws
those). With `create_graph=False` the VJPs run under `no_grad()`: one rule, both costs.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import config
from ._tensor import Tensor
from .errors import BackwardError, DeviceError, DtypeError, GraphFreedError, ShapeError
from .ops.structural import sum_to
from .summary import KEEP_ELEMENTS, ArraySummary

_stamps = itertools.count(1)  # one number per releasing backward: a node's gradient says which
# While gg.detect_anomaly() is on, graphgrad.anomaly sets its checker here (and in _primitive): the
# sweep checks each VJP's result, and suspends the forward checks of the gates inside the VJPs.
_anomaly: Any = None


def _as_list(values) -> list:
    if values is None:
        return []
    if isinstance(values, Tensor) or not isinstance(values, (list, tuple)):
        return [values]
    return list(values)


def _root_gradient(root: Tensor, gradient) -> Tensor:
    if gradient is None:
        data = root.data
        if isinstance(data, np.generic):  # a NumPy scalar: its own type makes the cheapest one
            return Tensor._leaf(data.dtype.type(1), root.device)
        if root.size != 1:
            raise BackwardError(
                f"backward: the root has shape {root.shape}, not a scalar; pass a gradient of that "
                f"shape (e.g. gg.backward([y], [gg.ones_like(y)])) or reduce it first (y.sum())"
            )
        return Tensor._leaf(root.device.xp.ones_like(data), root.device)
    if not isinstance(gradient, Tensor):  # numbers and arrays take the root's dtype and device
        gradient = Tensor._leaf(root.device.asarray(gradient, dtype=root.dtype), root.device)
    if gradient.shape != root.shape:
        raise ShapeError(
            f"backward: gradient of shape {gradient.shape} given for a root of shape {root.shape}"
        )
    if gradient.device is not root.device:
        raise DeviceError(f"backward: gradient on {gradient.device} given for a root on "
                          f"{root.device}; move it with .to(...)")
    if gradient.dtype != root.dtype:
        raise DtypeError(f"backward: gradient of dtype {gradient.dtype} given for a root of dtype "
                         f"{root.dtype}; convert it with .astype(...)")
    return gradient


def sweep(roots: Tensor | Sequence[Tensor], grads: Tensor | Sequence | None = None, *,
          retain_graph: bool = False, create_graph: bool = False, accumulate: bool = True,
          stop: frozenset[int] = frozenset(), collect_all: bool = False,
          flows: dict | None = None) -> dict[int, Tensor]:
    """Backpropagate from `roots`; return {id(node): gradient} for the leaves and `stop` nodes.

    `accumulate=True` adds into `.grad` of leaves (and of tensors that `retain_grad()`);
    `stop` holds ids of nodes treated as leaves (used by `grad`); `collect_all=True` also keeps
    the gradient of every intermediate node (more memory: only for inspection and drawing);
    `flows`, a dict, receives {(id(node), input slot): gradient sent along that edge}.

    Without `retain_graph` the graph is released, not cut: every visited node keeps its links,
    op and parameters, and records `(stamp, gradient)` in `_backward` (the gradient in full
    when small, an `ArraySummary` when large), so a drawing after backward shows it all. Large
    intermediate values are replaced in the links by husks holding only their summary (see
    `_release_large`); a second backward through a released node raises GraphFreedError.
    """
    roots = _as_list(roots)
    grads = _as_list(grads) if grads is not None else [None] * len(roots)
    if len(grads) != len(roots):
        raise BackwardError(f"backward: {len(roots)} roots but {len(grads)} gradients")
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"backward: roots must be Tensors, got {type(root).__name__}")
        if not root.requires_grad:
            raise BackwardError(
                "backward: a root does not require grad (none of the tensors it was computed from "
                "had requires_grad=True, or it was computed under no_grad())"
            )
    cotangents: dict[int, Tensor] = {}
    release = not retain_graph
    stamp = next(_stamps) if release else 0
    visited: list[Tensor] = []  # released non-leaf nodes, in visiting order
    large: list[Tensor] = []  # those whose value is too large to keep
    token = config.set_grad_enabled_token(create_graph)
    anomaly = _anomaly  # detect_anomaly(): a VJP is checked as one, not gate by gate
    if anomaly is not None:
        anomaly_depth = anomaly.enter_backward()
    try:
        for root, gradient in zip(roots, grads):
            if gradient is None and create_graph:  # the unit seed becomes a leaf of the
                gradient = _root_gradient(root, None)  # gradient graph: say what it is
                gradient.name = "seed"
            gradient = _root_gradient(root, gradient)
            key = id(root)
            cotangents[key] = cotangents[key] + gradient if key in cotangents else gradient
        results: dict[int, Tensor] = {}
        # Largest creation number first: every consumer of a node was created after it, so
        # when a node is popped all its cotangents have arrived (no separate topological sort).
        # `ready` holds a node that may be visited next without the heap: a node found while
        # the heap was empty is the only one left to visit, so all its consumers are done (any
        # unvisited consumer would have an unvisited node on its path from a root in the heap).
        # Chains (most of a scalar circuit) go node to node without a push and a pop.
        if len(roots) == 1:
            heap, ready = [], roots[0]
        else:
            heap = [(-root.seq, root) for root in {id(r): r for r in roots}.values()]
            heapq.heapify(heap)
            ready = None
        pop, push, pop_cotangent = heapq.heappop, heapq.heappush, cotangents.pop
        # Leaves (and `stop` nodes) reached from below never enter the heap: nothing is
        # computed from them, so they are finished after the sweep, in the order they were met.
        terminals: dict[int, Tensor] = {}
        while True:
            if ready is not None:
                node, ready = ready, None
            elif heap:
                node = pop(heap)[1]
            else:
                break
            key = id(node)
            g = pop_cotangent(key)
            if node.hooks:
                g = _run_hooks(node, g)
            op = node.op
            if op is None or key in stop:  # a root that is a leaf
                _finish_terminal(node, g, results, accumulate, stamp)
                continue
            if node._backward is not None:
                raise GraphFreedError(
                    f"backward through a freed graph: the {op.name!r} node"
                    f"{' ' + repr(node.name) if node.name else ''} created at {node.site} was "
                    f"released by an earlier backward() (its links are kept for drawing, its "
                    f"large intermediate values are not); pass retain_graph=True to the first "
                    f"backward() to backpropagate twice")
            if collect_all:
                results[key] = g
            if node.retains_grad and accumulate:
                node.grad = g if node.grad is None else node.grad + g
            inputs = node.inputs
            params = node.params
            input_grads = op.vjp(g, node, *inputs, **params) if params else \
                op.vjp(g, node, *inputs)
            if anomaly is not None:
                anomaly.backward(node, g, input_grads)
            if flows is not None:  # the gradient along each edge, summed to its input's shape
                input_grads = [_record_flow(flows, key, slot, parent, parent_grad) for slot,
                               (parent, parent_grad) in enumerate(zip(inputs, input_grads))]
            for parent, parent_grad in zip(inputs, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.data.shape != parent.data.shape:
                    parent_grad = sum_to(parent_grad, parent.shape)
                pkey = id(parent)
                previous = cotangents.get(pkey)
                if previous is None:
                    cotangents[pkey] = parent_grad
                    if parent.op is None or pkey in stop:
                        terminals[pkey] = parent
                    elif ready is None and not heap:
                        ready = parent
                    else:
                        if ready is not None:  # a second node to visit: both go by the heap
                            push(heap, (-ready.seq, ready))
                            ready = None
                        push(heap, (-parent.seq, parent))
                else:
                    cotangents[pkey] = previous + parent_grad
            if release:  # (a gradient has its node's shape: one size test for both)
                visited.append(node)
                if node.data.size <= KEEP_ELEMENTS:
                    node._backward = (stamp, g.data)
                else:
                    node._backward = (stamp, ArraySummary.of(g.data, node.device.xp))
                    large.append(node)
        node = None  # no reference of ours may outlive the sweep (see _release_large)
        for key, node in terminals.items():
            g = pop_cotangent(key)
            if node.hooks:
                g = _run_hooks(node, g)
            _finish_terminal(node, g, results, accumulate, stamp)
        if large:
            _release_large(visited, large, {id(root) for root in roots})
        return results
    finally:
        config.reset_grad_enabled(token)
        if anomaly is not None:
            anomaly.exit_backward(anomaly_depth)


def _record_flow(flows: dict, key: int, slot: int, parent: Tensor, parent_grad):
    if parent_grad is not None and parent.requires_grad:
        if parent_grad.data.shape != parent.data.shape:
            parent_grad = sum_to(parent_grad, parent.shape)
        flows[(key, slot)] = parent_grad
    return parent_grad


def edge_vjps(node: Tensor, seed: Tensor) -> list[Tensor | None]:
    """What `node` sends back along each input edge for the cotangent `seed`: one step of the
    sweep, alone, summed to each input's shape, not recorded (a ones seed gives the local
    gradients d node / d input that the visualizer draws on the wires)."""
    inputs = node.inputs
    anomaly = _anomaly  # a drawing's local gradient (1/(2 sqrt 0)) is not an error
    if anomaly is not None:
        depth = anomaly.enter_backward()
    try:
        with config.no_grad():
            found = node.op.vjp(seed, node, *inputs, **node.params)  # type: ignore[union-attr,misc]
    finally:
        if anomaly is not None:
            anomaly.exit_backward(depth)
    out: list[Tensor | None] = []
    for parent, parent_grad in zip(inputs, found):
        if parent_grad is not None and parent_grad.data.shape != parent.data.shape:
            parent_grad = sum_to(parent_grad, parent.shape)
        out.append(parent_grad)
    return out


def _husk(node: Tensor) -> Tensor:
    """A stand-in for a large released node: its structure and the summary of its value."""
    husk = Tensor._leaf(ArraySummary.of(node.data, node.device.xp), node.device)
    husk.op, husk.inputs, husk.params = node.op, node.inputs, node.params
    husk.seq, husk.name, husk.scope, husk._site = node.seq, node.name, node.scope, node._site
    husk.requires_grad, husk._backward = node.requires_grad, node._backward
    return husk


def _release_large(visited: list[Tensor], large: list[Tensor], roots: set[int]) -> None:
    """Swap the large values out of the released graph: every link to a large intermediate
    (or to a large data leaf) now goes to a husk, so the array itself is freed by reference
    counting unless the user holds the tensor (which then keeps its values untouched)."""
    husks = {id(node): _husk(node) for node in large if id(node) not in roots}
    for node in visited:
        for parent in node.inputs:
            if parent.op is None and not parent.requires_grad and id(parent) not in husks \
                    and parent.data.size > KEEP_ELEMENTS:
                husks[id(parent)] = _husk(parent)
    if not husks:
        return
    for node in itertools.chain(visited, list(husks.values())):
        inputs = node.inputs
        if any(id(parent) in husks for parent in inputs):
            node.inputs = tuple(husks.get(id(parent), parent) for parent in inputs)


def _hook_name(hook) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)


def _run_hooks(node: Tensor, g: Tensor) -> Tensor:
    for hook in node.hooks or ():
        replaced = hook(g)
        if replaced is None:
            continue
        where = (f"{'the ' + node.op.name + ' node' if node.op is not None else 'the leaf'}"
                 f"{' ' + repr(node.name) if node.name else ''}"
                 f"{' created at ' + node.site if node.site else ''}")
        if not isinstance(replaced, Tensor):
            raise TypeError(
                f"hook {_hook_name(hook)} registered on {where} returned a "
                f"{type(replaced).__name__}; a hook returns None or a Tensor of the gradient's "
                f"shape {g.shape} and dtype {g.dtype}")
        if replaced.shape != g.shape or replaced.dtype != g.dtype:
            raise BackwardError(
                f"hook {_hook_name(hook)} registered on {where} returned a gradient of shape "
                f"{replaced.shape} and dtype {replaced.dtype}; it must keep the gradient's shape "
                f"{g.shape} and dtype {g.dtype}")
        g = replaced
    return g


def _finish_terminal(node: Tensor, g: Tensor, results: dict, accumulate: bool,
                     stamp: int) -> None:
    """A leaf's (or `stop` node's) gradient is complete: report it, add it into `.grad`, and
    record it for drawing when the sweep releases the graph (`stamp` > 0)."""
    results[id(node)] = g
    if accumulate:
        node.grad = g if node.grad is None else node.grad + g
    if stamp and node.op is None:
        data = g.data
        node._backward = (stamp, data if data.size <= KEEP_ELEMENTS
                          else ArraySummary.of(data, node.device.xp))


def backward(roots: Tensor | Sequence[Tensor],
             grads: Tensor | Sequence[Tensor | None] | None = None, retain_graph: bool = False,
             create_graph: bool = False, return_all: bool = False) -> dict[int, Tensor] | None:
    """Backpropagate from one or several roots at once (multi-task losses), into `.grad`.

    `gg.backward([loss_a, loss_b], [g_a, g_b])` is the same as backward of
    `(g_a * loss_a).sum() + (g_b * loss_b).sum()`. Gradients accumulate into `.grad` as in
    PyTorch; clear them with `zero_grad`. The graph is freed unless `retain_graph=True` (or
    `create_graph=True`, as in PyTorch). `return_all=True` returns {id(node): gradient} for
    every node passed, intermediates included (what a diagram shows).
    """
    found = sweep(roots, grads, retain_graph=retain_graph or create_graph,
                  create_graph=create_graph, collect_all=return_all)
    return found if return_all else None


def _normalize_argnums(argnums, count: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -count <= n < count:
            raise ValueError(f"grad: argnums {argnums!r} out of range for {count} positional "
                             f"arguments")
    return tuple(n % count for n in nums)


def value_and_grad(fn: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """`fn`'s value and its gradient with respect to the arguments `argnums` (as in JAX).

    Composes: `gg.grad(gg.grad(f))` differentiates twice. Arguments may be Tensors, arrays or
    numbers; the gradient is returned as Tensors, a tuple when `argnums` is a sequence.
    """

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        nums = _normalize_argnums(argnums, len(args))
        args = list(args)
        targets = []
        nested = False
        for n in nums:
            arg = args[n]
            if isinstance(arg, Tensor) and arg.requires_grad:
                nested = True  # part of an outer graph: keep the gradient differentiable
                target = arg
            else:
                target = Tensor(arg).requires_grad_() if not isinstance(arg, Tensor) else \
                    arg.detach().requires_grad_()
            args[n] = target
            targets.append(target)
        with config.enable_grad():
            value = fn(*args, **kwargs)
        if not isinstance(value, Tensor):
            raise TypeError(f"grad: {getattr(fn, '__name__', fn)} must return a Tensor, got "
                            f"{type(value).__name__}")
        if value.size != 1:
            raise BackwardError(f"grad: {getattr(fn, '__name__', fn)} returned shape "
                                f"{value.shape}; grad needs a scalar output")
        stop = frozenset(id(t) for t in targets)
        if value.requires_grad:
            found = sweep([value], retain_graph=nested, create_graph=nested, accumulate=False,
                          stop=stop)
        else:
            found = {}
        grads = []
        for t in targets:
            g = found.get(id(t))
            if g is None:
                g = Tensor._leaf(t.device.xp.zeros_like(t.data), t.device)
            grads.append(g)
        result = grads[0] if isinstance(argnums, int) else tuple(grads)
        if not nested:
            value = value.detach()
        return value, result

    # gg.compile reads it: a Python number in these positions is data (made a Tensor here), not
    # part of the compiled signature, so a new value does not retrace (as under jax.jit)
    wrapped.differentiated_argnums = argnums  # type: ignore[attr-defined]
    return wrapped


def grad(fn: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The gradient of scalar-valued `fn` as a function (JAX's `grad`); composes with itself."""
    value_and_grad_fn = value_and_grad(fn, argnums)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        return value_and_grad_fn(*args, **kwargs)[1]

    wrapped.differentiated_argnums = argnums  # type: ignore[attr-defined]  # (as above)
    return wrapped
