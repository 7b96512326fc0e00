"""`gg.autograd`: PyTorch's `torch.autograd` names over graphgrad's one backward sweep.

`grad(outputs, inputs, ...)` differentiates a graph that already exists (`gg.grad(f)`, JAX's
functional form, differentiates a function); `functional` holds the transforms `jacobian`,
`hessian`, `vjp`, `jvp`, `vhp`, `hvp`; `detect_anomaly` finds the node that made a NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._tensor import Tensor
from ..anomaly import (
    _check_flag,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from ..autodiff import sweep
from ..errors import ArgumentError, BackwardError, user_site

Tensors = Tensor | Sequence[Tensor]


def _tensors(op: str, name: str, value, *, allow_empty: bool = False) -> tuple[Tensor, ...]:
    """A Tensor or a sequence of Tensors as a tuple; anything else is an ArgumentError."""
    items = (value,) if isinstance(value, Tensor) else value
    if not isinstance(items, (tuple, list)) or not all(isinstance(t, Tensor) for t in items):
        raise ArgumentError(f"{op}: {name} must be a Tensor or a sequence of Tensors, got "
                            f"{type(value).__name__} (at {user_site(2)})")
    if not items and not allow_empty:
        raise ArgumentError(f"{op}: {name} is empty; give at least one Tensor")
    return tuple(items)


def _nested(inputs: tuple[Tensor, ...]) -> bool:
    """Whether an input lies in the graph below another one: a sweep that stops at inputs
    would then miss the paths through the upper one (d out / d x must include x -> y -> out)."""
    if len(inputs) == 1 or all(t.op is None for t in inputs):
        return False
    wanted = {id(t) for t in inputs}
    seen: set[int] = set()
    for top in inputs:
        stack: list[Tensor] = list(top.inputs)
        while stack:
            node = stack.pop()
            if not node.requires_grad or id(node) in seen:
                continue
            if id(node) in wanted:
                return True
            seen.add(id(node))
            stack.extend(node.inputs)
    return False


def grad(outputs: Tensors, inputs: Tensors, grad_outputs: Sequence | Tensor | None = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False
         ) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, as a tuple (torch.autograd.grad).

    Nothing is added into `.grad`. `grad_outputs` are the cotangents of the outputs (None for a
    one-element output: 1). The graph is released unless `retain_graph` (default:
    `create_graph`); `create_graph=True` records the gradients as a graph, to differentiate
    again. An input the outputs do not depend on is an error unless `allow_unused` (then None)
    or `materialize_grads` (then zeros). Inputs may be intermediate nodes, nested or not.
    """
    op = "autograd.grad"
    outputs = _tensors(op, "outputs", outputs)
    inputs = _tensors(op, "inputs", inputs)
    for flag, value in (("create_graph", create_graph), ("materialize_grads", materialize_grads),
                        ("retain_graph", retain_graph), ("allow_unused", allow_unused)):
        if value is not None:
            _check_flag(op, flag, value)
    if materialize_grads and allow_unused is False:
        raise ArgumentError(f"{op}: materialize_grads=True needs allow_unused=True or None")
    allow_unused = bool(allow_unused) or materialize_grads
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (tuple, list)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ArgumentError(f"{op}: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; "
                            f"give one per output (None for a one-element output)")
    for index, (out, cotangent) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise BackwardError(
                f"{op}: output {index} (shape {out.shape}) does not require grad: none of the "
                f"tensors it was computed from had requires_grad=True, or it was computed under "
                f"no_grad()")
        if cotangent is None and out.size != 1:
            raise BackwardError(
                f"{op}: output {index} has shape {out.shape}; a gradient is implied only for a "
                f"one-element output: pass grad_outputs (e.g. gg.ones_like(output))")
    for index, t in enumerate(inputs):
        if not t.requires_grad:
            raise BackwardError(f"{op}: input {index} (shape {t.shape}) does not require grad, "
                                f"so it has no gradient; make it with requires_grad=True")
    retain = create_graph if retain_graph is None else retain_graph
    if _nested(inputs):  # walk through every node, collecting the inputs' gradients on the way
        found = sweep(outputs, grad_outputs, retain_graph=retain, create_graph=create_graph,
                      accumulate=False, collect_all=True)
    else:
        found = sweep(outputs, grad_outputs, retain_graph=retain, create_graph=create_graph,
                      accumulate=False, stop=frozenset(id(t) for t in inputs))
    result = []
    for index, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None:
            if not allow_unused:
                raise BackwardError(
                    f"{op}: input {index} (shape {t.shape}) was not used to compute the outputs; "
                    f"pass allow_unused=True to get None for it (or materialize_grads=True for "
                    f"zeros)")
            if materialize_grads:
                g = Tensor._leaf(t.device.xp.zeros_like(t.data), t.device)
        result.append(g)
    return tuple(result)


from . import functional  # noqa: E402  (functional builds on grad above)
from .functional import hessian, hvp, jacobian, jvp, vhp, vjp  # noqa: E402

__all__ = ["detect_anomaly", "functional", "grad", "hessian", "hvp", "is_anomaly_check_nan_enabled",
           "is_anomaly_enabled", "jacobian", "jvp", "set_detect_anomaly", "vhp", "vjp"]
