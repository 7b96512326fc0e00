"""Jacobians, Hessians and their products of a function (torch.autograd.functional's API).

Everything here is one backward sweep, or several over one recorded graph: a gradient is itself a
graph, so forward mode needs no second engine. `jvp` is the VJP of a VJP (the double-backward
trick): `g(u) = J^T u` is linear in a dummy cotangent `u`, so the VJP of `g` with cotangent `v`
is `J v`. The transposed graph is built once; each further `J v` is one more sweep over it.

Return conventions follow PyTorch: a Tensor where the function returned (or was given) a Tensor,
a tuple where it returned (or was given) a tuple; a Jacobian of outputs `o_i` by inputs `x_j` is
`J[i][j]` of shape `o_i.shape + x_j.shape`. Results are detached unless `create_graph=True`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import config
from .._tensor import Tensor
from ..anomaly import _check_flag
from ..backend import is_floating
from ..errors import ArgumentError, BackwardError, ShapeError, user_site
from ..ops.structural import reshape, stack
from . import grad

Tensors = Tensor | Sequence[Tensor]
# a Jacobian: one Tensor, a tuple per input, or (for several outputs) a tuple of such tuples
Jacobian = Tensor | tuple[Tensor, ...] | tuple[tuple[Tensor, ...] | Tensor, ...]
_STRATEGIES = ("reverse-mode", "forward-mode")


# ----- arguments and results ------------------------------------------------------------------

def _as_inputs(op: str, inputs) -> tuple[tuple[Tensor, ...], bool]:
    """(the inputs as a tuple, whether they came as a tuple)."""
    is_tuple = isinstance(inputs, (tuple, list))
    items = tuple(inputs) if is_tuple else (inputs,)
    for index, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise ArgumentError(f"{op}: inputs must be a Tensor or a tuple of Tensors; input "
                                f"{index} is a {type(t).__name__} (at {user_site(2)})")
        if not is_floating(t.device.xp, t.dtype):
            raise ArgumentError(f"{op}: input {index} is {t.dtype}; only floating inputs have "
                                f"derivatives: convert it with .astype('float64')")
    if not items:
        raise ArgumentError(f"{op}: inputs is empty; give at least one Tensor")
    return items, is_tuple


def _begin(op: str, inputs, create_graph, strict, vectorize=False
           ) -> tuple[tuple[Tensor, ...], bool]:
    """The options checked; (the inputs as leaves to differentiate by, whether they came as a
    tuple). With create_graph a tensor of an outer graph stays in it, so the result can be
    differentiated back to the outer inputs."""
    _check_flag(op, "create_graph", create_graph)
    _check_flag(op, "strict", strict)
    _check_flag(op, "vectorize", vectorize)
    items, is_tuple = _as_inputs(op, inputs)
    return tuple(t if create_graph and t.requires_grad else t.detach().requires_grad_()
                 for t in items), is_tuple


def _call(op: str, func: Callable, inputs: tuple[Tensor, ...]) -> tuple[tuple[Tensor, ...], bool]:
    with config.enable_grad():
        result = func(*inputs)
    is_tuple = isinstance(result, (tuple, list))
    outputs = tuple(result) if is_tuple else (result,)
    if not outputs or not all(isinstance(t, Tensor) for t in outputs):
        raise ArgumentError(f"{op}: {getattr(func, '__name__', 'the function')} must return a "
                            f"Tensor or a tuple of Tensors, got {type(result).__name__}")
    return outputs, is_tuple


def _vectors(op: str, v, like: tuple[Tensor, ...], what: str) -> tuple[Tensor, ...]:
    """`v` as one Tensor per tensor of `like`, of its shape, dtype and device (None: ones, only
    where `like` is one tensor of one element, as in PyTorch)."""
    if v is None:
        if len(like) != 1 or like[0].size != 1:
            raise ArgumentError(f"{op}: v may be None only when the {what} is a single Tensor "
                                f"of one element; here the {what} has shapes "
                                f"{[t.shape for t in like]}: give v")
        ref = like[0]
        return (Tensor._leaf(ref.device.xp.ones_like(ref.data), ref.device),)
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(items) != len(like):
        raise ArgumentError(f"{op}: v has {len(items)} tensors but the {what} has {len(like)}")
    out = []
    for index, (value, ref) in enumerate(zip(items, like)):
        if not isinstance(value, Tensor):
            value = Tensor(ref.device.asarray(value, dtype=ref.dtype), device=ref.device)
        if value.shape != ref.shape:
            raise ShapeError(f"{op}: v[{index}] has shape {value.shape}, the {what}'s tensor "
                             f"{index} has shape {ref.shape}; they must match")
        out.append(value.detach())
    return tuple(out)


def _zeros(t: Tensor) -> Tensor:
    return Tensor._leaf(t.device.xp.zeros_like(t.data), t.device)


def _unused(op: str, strict: bool, index: int) -> None:
    if strict:
        raise BackwardError(f"{op}: the output is independent of input {index}; strict=True "
                            f"forbids that (pass strict=False for zeros)")


def _detached(outputs: tuple[Tensor, ...], is_tuple: bool, create_graph: bool):
    outputs = outputs if create_graph else tuple(t.detach() for t in outputs)
    return outputs if is_tuple else outputs[0]


def _packed(items: Sequence, is_tuple: bool):
    return tuple(items) if is_tuple else items[0]


def _basis(like: Tensor, k: int) -> Tensor:
    """The k-th unit vector in `like`'s shape, dtype and device."""
    xp = like.device.xp
    hot = xp.reshape(xp.arange(like.size) == k, like.shape)
    return Tensor._leaf(xp.astype(hot, like.dtype), like.device)


def _assemble(parts: list[Tensor], axis: int, shape: tuple[int, ...], like: Tensor,
              create_graph: bool) -> Tensor:
    """Rows (axis 0) or columns (axis -1) of a Jacobian block joined into `shape`."""
    if not parts:  # an empty output or input: an empty block
        return Tensor._leaf(like.device.xp.zeros(shape, dtype=like.dtype), like.device)
    with config.set_grad_enabled(create_graph):
        return reshape(stack(parts, axis), shape)


# ----- the two sweeps everything is built from ------------------------------------------------

def _vjp_of(op: str, outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...],
            cotangents: Sequence[Tensor | None], create_graph: bool, strict: bool,
            retain: bool) -> list[Tensor]:
    """J^T v of the recorded outputs, zeros where an output or input takes no part."""
    used = [i for i, out in enumerate(outputs) if out.requires_grad]
    if strict and len(used) < len(outputs):
        raise BackwardError(f"{op}: output {min(set(range(len(outputs))) - set(used))} does "
                            f"not depend on any input; strict=True forbids that")
    found = grad([outputs[i] for i in used], inputs, [cotangents[i] for i in used],
                 retain_graph=retain, create_graph=create_graph,
                 allow_unused=True) if used else (None,) * len(inputs)
    result = []
    for index, (g, t) in enumerate(zip(found, inputs)):
        if g is None:
            _unused(op, strict, index)
            g = _zeros(t)
        result.append(g)
    return result


def _transposed(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...]):
    """(dummy cotangents u, g = J^T u as a graph in u): what forward mode sweeps back over."""
    dummies = [_zeros(out).requires_grad_() for out in outputs]
    used = [i for i, out in enumerate(outputs) if out.requires_grad]
    found = grad([outputs[i] for i in used], inputs, [dummies[i] for i in used],
                 create_graph=True, allow_unused=True) if used else (None,) * len(inputs)
    return dummies, found


def _jvp_of(op: str, outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...],
            tangents: Sequence[Tensor], create_graph: bool, strict: bool) -> list[Tensor]:
    """J v as the VJP of the VJP: one sweep builds J^T u, one more takes its VJP with v."""
    if strict and not all(out.requires_grad for out in outputs):
        raise BackwardError(f"{op}: an output does not depend on any input; strict=True "
                            f"forbids that")
    dummies, transposed = _transposed(outputs, inputs)
    pairs = []
    for index, (g, v) in enumerate(zip(transposed, tangents)):
        if g is None:
            _unused(op, strict, index)
        elif g.requires_grad:
            pairs.append((g, v))
    found = grad([g for g, _ in pairs], dummies, [v for _, v in pairs], create_graph=create_graph,
                 allow_unused=True) if pairs else (None,) * len(dummies)
    return [_zeros(out) if g is None else g for g, out in zip(found, outputs)]


# ----- the transforms -------------------------------------------------------------------------

def vjp(func: Callable[..., Tensors], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Tensors, Tensors]:
    """(func(inputs), v^T J): the vector-Jacobian product, one backward sweep
    (torch.autograd.functional.vjp). `v` has the outputs' shapes (None for one scalar output)."""
    op = "vjp"
    xs, in_tuple = _begin(op, inputs, create_graph, strict)
    outputs, out_tuple = _call(op, func, xs)
    vs = _vectors(op, v, outputs, "output")
    result = _vjp_of(op, outputs, xs, vs, create_graph, strict, retain=create_graph)
    return _detached(outputs, out_tuple, create_graph), _packed(result, in_tuple)


def jvp(func: Callable[..., Tensors], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Tensors, Tensors]:
    """(func(inputs), J v): the Jacobian-vector product (torch.autograd.functional.jvp), forward
    mode as the VJP of a VJP. `v` has the inputs' shapes (None for one one-element input)."""
    op = "jvp"
    xs, in_tuple = _begin(op, inputs, create_graph, strict)
    outputs, out_tuple = _call(op, func, xs)
    vs = _vectors(op, v, xs, "input")
    result = _jvp_of(op, outputs, xs, vs, create_graph, strict)
    return _detached(outputs, out_tuple, create_graph), _packed(result, out_tuple)


def jacobian(func: Callable[..., Tensors], inputs: Tensors, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Jacobian:
    """The Jacobian of `func` at `inputs` (torch.autograd.functional.jacobian): block `[i][j]`
    has shape `outputs[i].shape + inputs[j].shape`.

    "reverse-mode" takes one VJP per output element (best for few outputs); "forward-mode" one
    JVP per input element (best for few inputs), all over one transposed graph. `vectorize` is
    accepted for PyTorch's signature: graphgrad has no vmap, the rows are computed in turn and
    the result is the same (PyTorch's forward mode needs vectorize=True; this one does not).
    """
    op = "jacobian"
    if strategy not in _STRATEGIES:
        raise ArgumentError(f"jacobian: strategy must be one of {_STRATEGIES}, got {strategy!r}")
    xs, in_tuple = _begin(op, inputs, create_graph, strict, vectorize)
    outputs, out_tuple = _call(op, func, xs)
    if strategy == "reverse-mode":
        table = _jacobian_by_rows(op, outputs, xs, create_graph, strict)
    else:
        table = _jacobian_by_columns(op, outputs, xs, create_graph, strict)
    if out_tuple:
        return tuple(_packed(row, in_tuple) for row in table)
    return _packed(table[0], in_tuple)


def _jacobian_by_rows(op: str, outputs, inputs, create_graph: bool, strict: bool):
    table = []
    for out in outputs:
        rows: list[list[Tensor]] = [[] for _ in inputs]
        for k in range(out.size if out.requires_grad else 0):
            for j, g in enumerate(_vjp_of(op, (out,), inputs, (_basis(out, k),), create_graph,
                                          strict, retain=True)):
                rows[j].append(g)
        if not out.requires_grad:
            _unused(op, strict, 0)
            rows = [[_zeros(t)] * out.size for t in inputs]
        table.append([_assemble(rows[j], 0, out.shape + t.shape, t, create_graph)
                      for j, t in enumerate(inputs)])
    return table


def _jacobian_by_columns(op: str, outputs, inputs, create_graph: bool, strict: bool):
    if strict and not all(out.requires_grad for out in outputs):
        raise BackwardError(f"{op}: an output does not depend on any input; strict=True "
                            f"forbids that")
    dummies, transposed = _transposed(outputs, inputs)
    columns: list[list[list[Tensor]]] = [[[] for _ in inputs] for _ in outputs]  # [i][j]
    for j, (g, t) in enumerate(zip(transposed, inputs)):
        if g is None or not g.requires_grad:
            if g is None:
                _unused(op, strict, j)
            for i, out in enumerate(outputs):
                columns[i][j] = [_zeros(out)] * t.size
            continue
        for k in range(t.size):
            found = grad([g], dummies, [_basis(t, k)], retain_graph=True,
                         create_graph=create_graph, allow_unused=True)
            for i, (column, out) in enumerate(zip(found, outputs)):
                columns[i][j].append(_zeros(out) if column is None else column)
    return [[_assemble(columns[i][j], -1, out.shape + t.shape, t, create_graph)
             for j, t in enumerate(inputs)] for i, out in enumerate(outputs)]


def _scalar_call(op: str, func: Callable, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    outputs, out_tuple = _call(op, func, inputs)
    if out_tuple or outputs[0].size != 1:
        raise ArgumentError(f"{op}: the function must return a single Tensor of one element, "
                            f"got {'a tuple of ' if out_tuple else ''}shape(s) "
                            f"{[t.shape for t in outputs]}")
    return outputs


def _gradient_of(op: str, func: Callable, in_tuple: bool, strict: bool) -> Callable:
    """x -> grad f(x), recorded (create_graph) so it can be differentiated again."""

    def gradient(*xs: Tensor):
        outputs = _scalar_call(op, func, xs)
        found = _vjp_of(op, outputs, xs, (None,), create_graph=True, strict=strict, retain=True)
        return _packed(found, in_tuple)

    return gradient


def hessian(func: Callable[..., Tensor], inputs: Tensors, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Jacobian:
    """The Hessian of scalar `func` at `inputs` (torch.autograd.functional.hessian): the
    Jacobian of its recorded gradient; block `[i][j]` has shape `inputs[i].shape +
    inputs[j].shape`."""
    op = "hessian"
    _, in_tuple = _begin(op, inputs, create_graph, strict, vectorize)  # checked as "hessian"
    return jacobian(_gradient_of(op, func, in_tuple, strict), inputs, create_graph, strict,
                    vectorize, outer_jacobian_strategy)


def vhp(func: Callable[..., Tensor], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Tensor, Tensors]:
    """(func(inputs), v^T H): vector-Hessian product, the VJP of the recorded gradient
    (torch.autograd.functional.vhp)."""
    return _hessian_product("vhp", func, inputs, v, create_graph, strict)


def hvp(func: Callable[..., Tensor], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Tensor, Tensors]:
    """(func(inputs), H v): Hessian-vector product, the JVP of the recorded gradient by the
    double-backward trick (torch.autograd.functional.hvp); equals vhp where H is symmetric."""
    return _hessian_product("hvp", func, inputs, v, create_graph, strict)


def _hessian_product(op: str, func: Callable, inputs, v, create_graph: bool, strict: bool):
    xs, in_tuple = _begin(op, inputs, create_graph, strict)
    outputs = _scalar_call(op, func, xs)
    vs = _vectors(op, v, xs, "input")
    gradients = tuple(_vjp_of(op, outputs, xs, (None,), create_graph=True, strict=strict,
                              retain=True))
    if op == "vhp":
        result = _vjp_of(op, gradients, xs, vs, create_graph, strict, retain=create_graph)
    else:
        result = _jvp_of(op, gradients, xs, vs, create_graph, strict)
    return _detached(outputs, False, create_graph), _packed(result, in_tuple)


__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
