"""Live Tensors -> GraphView: an iterative, read-only walk with deterministic ids.

What happens here, in order:
1. collect every node reachable from the roots (explicit stack; ids `n{seq}` from creation order);
2. expand fused composites on demand by calling their expansion on fresh copies of their inputs;
3. replay the VJP rules on copies to get the gradient at every node, the gradient flowing along
   every edge (upstream x local), the local gradients, and each loss head's share;
4. optionally check each node's local gradient against finite differences;
5. collapse closed scopes (nn modules, composites) into one node each, and list open ones as
   clusters.
Nothing here writes to a user Tensor: the engine calls go through `viz._engine` on copies.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import numpy as np

from . import _engine
from .costs import flops_of
from .view import CheckView, GraphView, ScopeView

_MAIN = 1 << 40  # order key of an original node: after the nodes of its own expansion


@dataclass
class _Rec:
    id: str
    key: tuple[int, int]
    seq: int
    tensor: object
    op: object
    params: dict
    inputs: list[str]
    scope: tuple[ScopeView, ...]
    value: np.ndarray
    name: str | None
    requires_grad: bool
    is_root: bool = False
    extra: dict = field(default_factory=dict)


def _scope_views(tensor) -> tuple[ScopeView, ...]:
    out = []
    for scope in getattr(tensor, "scope", None) or ():
        out.append(ScopeView(str(scope.kind), str(scope.name) or "(unnamed)", int(scope.uid),
                             str(getattr(scope, "label", ""))))
    return tuple(out)


def _op_name(op) -> str | None:
    if op is None:
        return None
    composite = getattr(op, "composite", None)
    if composite is not None:
        return str(getattr(composite, "name", getattr(op, "name", "?")))
    return str(getattr(op, "name", op))


def _record(tensor, node_id: str, key: tuple[int, int], scope_prefix=()) -> _Rec:
    params = dict(getattr(tensor, "params", None) or {})
    return _Rec(
        id=node_id,
        key=key,
        seq=int(tensor.seq),
        tensor=tensor,
        op=tensor.op,
        params=params,
        inputs=[],
        scope=tuple(scope_prefix) + _scope_views(tensor),
        value=_engine.to_numpy(tensor.data),
        name=str(tensor.name) if tensor.name not in (None, "") else None,
        requires_grad=bool(tensor.requires_grad),
    )


def _walk(roots, stop: dict[int, str], make) -> dict[str, _Rec]:
    """Iterative DFS from roots; `stop` maps id(tensor) -> existing node id (not walked)."""
    recs: dict[str, _Rec] = {}
    seen: dict[int, str] = dict(stop)
    pending = []
    for root in roots:
        if id(root) not in seen:
            rec = make(root)
            seen[id(root)] = rec.id
            recs[rec.id] = rec
            pending.append(root)
    while pending:
        tensor = pending.pop()
        rec = recs[seen[id(tensor)]]
        for parent in tensor.inputs or ():
            if id(parent) not in seen:
                child = make(parent)
                seen[id(parent)] = child.id
                recs[child.id] = child
                pending.append(parent)
            rec.inputs.append(seen[id(parent)])
    return recs


def _opens(scope: ScopeView, module_level: int, expand, depth: int | None) -> bool:
    if expand is True:
        return True
    if expand and scope.name in expand:
        return True
    if scope.kind == "module":
        return depth is None or module_level < depth
    return False


def _normalise_expand(expand) -> bool | frozenset[str]:
    if expand is None or expand is False:
        return frozenset()
    if expand is True or expand == "all":
        return True
    if isinstance(expand, str):
        return frozenset([expand])
    if isinstance(expand, Iterable):
        return frozenset(str(item) for item in expand)
    raise TypeError(f"expand= takes True, False, a name or a collection of names; got {expand!r}")


def _expand_fused(recs: dict[str, _Rec], expand) -> None:
    """Replace fused composite nodes selected by `expand` with their gate expansion (on copies)."""
    worklist = sorted((r for r in recs.values() if getattr(r.op, "composite", None)), key=lambda r: r.key)
    for rec in worklist:
        composite = rec.op.composite
        scope = ScopeView("composite", str(composite.name), -1)
        if not _opens(scope, 0, expand, None):
            continue
        copies = [_engine.fresh(recs[i].value, requires_grad=True) for i in rec.inputs]
        with _engine.building_expansion():
            out = composite.expand(*copies, **rec.params)
        stop = {id(copy): input_id for copy, input_id in zip(copies, rec.inputs)}
        tmp = _walk([out], stop, lambda t: _Rec(f"tmp{id(t)}", (0, 0), int(t.seq), t, t.op, {}, [],
                                                (), np.empty(0), None, False))
        inner_tensors = sorted((r.tensor for r in tmp.values()), key=lambda t: t.seq)
        ids: dict[int, str] = dict(stop)
        for k, tensor in enumerate(inner_tensors):
            if tensor is out:
                ids[id(tensor)] = rec.id
            else:
                ids[id(tensor)] = f"{rec.id}_{k}"
        own = (ScopeView("composite", str(composite.name), rec.seq),)
        for k, tensor in enumerate(inner_tensors):
            node_id = ids[id(tensor)]
            key = rec.key if tensor is out else (rec.key[0], k)
            new = _record(tensor, node_id, key)
            new.seq = rec.seq
            new.scope = rec.scope + own + new.scope
            new.inputs = [ids[id(p)] for p in tensor.inputs or ()]
            if tensor is out:
                new.name, new.is_root, new.scope = rec.name, rec.is_root, rec.scope + own
            recs[node_id] = new


# ----------------------------------------------------------------------------------------------
# Gradient replay


def _replay(recs, order, seeds, *, want_local=False):
    grads: dict[str, np.ndarray] = dict(seeds)
    flows: dict[tuple[str, int], np.ndarray] = {}
    locals_: dict[tuple[str, int], np.ndarray] = {}
    visited: list[str] = []
    for node_id in reversed(order):
        rec = recs[node_id]
        g = grads.get(node_id)
        if rec.op is None or g is None:
            if g is not None:
                visited.append(node_id)
            continue
        visited.append(node_id)
        inputs = [recs[i].value for i in rec.inputs]
        flags = [recs[i].requires_grad for i in rec.inputs]
        cotangents = _engine.call_vjp(rec.op, np.asarray(g), rec.value, inputs, rec.params, flags)
        local = None
        if want_local:
            ones = np.ones_like(rec.value, dtype=np.result_type(rec.value.dtype, np.float32))
            local = _engine.call_vjp(rec.op, ones, rec.value, inputs, rec.params, flags)
        for slot, src in enumerate(rec.inputs):
            cot = cotangents[slot] if slot < len(cotangents) else None
            if cot is None or not recs[src].requires_grad:
                continue  # as the engine: no gradient into constants and data
            cot = _engine.sum_to(cot, recs[src].value.shape)
            flows[(node_id, slot)] = cot
            grads[src] = grads[src] + cot if src in grads else cot
            if local is not None and local[slot] is not None:
                locals_[(node_id, slot)] = _engine.sum_to(local[slot], recs[src].value.shape)
    return grads, flows, locals_, visited


def _backward_was_run(recs) -> bool:
    return any(getattr(r.tensor, "grad", None) is not None for r in recs.values())


def _seed(rec: _Rec) -> np.ndarray:
    return np.ones_like(rec.value, dtype=np.result_type(rec.value.dtype, np.float32))


# ----------------------------------------------------------------------------------------------


def trace(
    *roots,
    expand=None,
    depth: int | None = 1,
    grads="auto",
    local: bool = False,
    check: bool = False,
    heads: Collection[str] | None = None,
) -> GraphView:
    """Copy the graph under `roots` into a GraphView (see the module docstring).

    expand: True (open every composite and module), a name or names of composites/modules to open
        ("sigmoid", "conv1"), or None. Fused composite nodes named here are expanded on demand.
    depth: how many levels of nested nn modules are drawn open (0: each top module is one node;
        None: all open).
    grads: "auto" (shown when backward() has run), True (computed now, on copies), False, or a
        mapping {id(node): gradient} as `gg.backward(..., return_all=True)` returns (or
        {Tensor: gradient}).
    local: also compute the local gradient d out / d in of every edge.
    check: run the per-node local-gradient checker (graphgrad.testing.nodecheck).
    heads: names for the roots when several loss heads are drawn.
    """
    if not roots:
        raise ValueError("trace()/draw() need at least one Tensor to draw; got none")
    for root in roots:
        if not _engine.is_tensor(root):
            raise TypeError(f"trace()/draw() draw graphgrad Tensors; got {type(root).__name__}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"depth= must be None or an int >= 0; got {depth!r}")
    if grads not in ("auto", True, False) and not hasattr(grads, "get"):
        raise ValueError(f"grads= must be 'auto', True, False or a mapping; got {grads!r}")
    expand = _normalise_expand(expand)

    def make(tensor):
        return _record(tensor, f"n{tensor.seq}", (int(tensor.seq), _MAIN))

    recs = _walk(list(roots), {}, make)
    root_ids = []
    for root in roots:
        rec = recs[f"n{root.seq}"]
        rec.is_root = True
        if rec.id not in root_ids:
            root_ids.append(rec.id)
    freed = any(recs[r].op is not None and not recs[r].inputs for r in root_ids)
    _expand_fused(recs, expand)
    order = [r.id for r in sorted(recs.values(), key=lambda r: r.key)]

    # ---- gradients
    explicit = grads if hasattr(grads, "get") else None
    compute = grads is True or (grads == "auto" and _backward_was_run(recs)) or explicit is not None
    node_grads: dict[str, np.ndarray] = {}
    flows, locals_, visited, head_grads = {}, {}, [], []
    if compute or local:
        seeds = {r: _seed(recs[r]) for r in root_ids}
        node_grads, flows, locals_, visited = _replay(recs, order, seeds, want_local=local)
        if len(root_ids) > 1:
            for r in root_ids:
                head_grads.append(_replay(recs, order, {r: seeds[r]})[0])
        if not compute:
            node_grads, flows, visited = {}, {}, []
    if compute:
        by_id = explicit is not None and all(isinstance(k, int) for k in list(explicit)[:1])
        for rec in recs.values():  # what the user's tensors hold wins over the replay
            held = None
            if explicit is not None:  # backward(..., return_all=True) keys by id(node)
                held = explicit.get(id(rec.tensor) if by_id else rec.tensor)
            held = held if held is not None else getattr(rec.tensor, "grad", None)
            if held is not None:
                node_grads[rec.id] = _engine.to_numpy(held)

    checks: dict[str, CheckView] = {}
    if check:
        from graphgrad.testing.nodecheck import check_node

        for rec in recs.values():
            if rec.op is not None:
                result = check_node(rec.op, [recs[i].value for i in rec.inputs], rec.params)
                checks[rec.id] = CheckView(result.ok, result.max_error, result.message)

    from .collapse import build_view

    return build_view(
        recs=recs,
        order=order,
        root_ids=root_ids,
        expand=expand,
        depth=depth,
        node_grads=node_grads,
        flows=flows,
        locals_=locals_,
        head_grads=head_grads,
        head_names=tuple(heads) if heads else tuple(recs[r].name or f"head {i}" for i, r in enumerate(root_ids)),
        checks=checks,
        grads_computed=compute,
        freed=freed,
        visited=visited,
        flops_of=flops_of,
    )
