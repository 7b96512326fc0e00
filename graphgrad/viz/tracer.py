"""Live Tensors -> GraphView: an iterative, read-only walk with deterministic ids.

What happens here, in order:
1. collect every node reachable from the roots (explicit stack; ids `n{seq}` from creation order);
2. expand fused composites on demand by calling their expansion on fresh copies of their inputs;
3. take the gradients from the engine, never from a second implementation: after a plain
   `backward()` from what that backward recorded on each node (`Tensor._backward`); on a graph
   that is still whole, from the engine's own sweep for this drawing's roots (`accumulate=False`,
   `retain_graph=True`: `.grad` is not touched), with the gradient sent along every edge, each
   loss head's share, and the local gradients (the sweep's VJP step with a ones seed);
4. optionally check each node's local gradient against finite differences;
5. collapse closed scopes (nn modules, composites) into one node each, and list open ones as
   clusters.
Nothing here writes to a user Tensor other than what the engine's sweep itself does (hooks).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _engine
from .costs import flops_of
from .view import CheckView, GraphView, ScopeView

_MAIN = 1 << 40  # order key of an original node: after the nodes of its own expansion


@dataclass
class _Rec:
    id: str
    key: tuple[int, ...]
    seq: int
    tensor: Any  # the Tensor
    op: Any      # its Primitive (or composite gate), None for a leaf
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


def _record(tensor, node_id: str, key: tuple[int, ...], scope_prefix=()) -> _Rec:
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
        value=_engine.value_of(tensor.data),
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
    if expand and (scope.name in expand or (  # a compiled call: "compiled:neuron" or "neuron"
            scope.name.startswith("compiled:") and scope.name[9:] in expand)):
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


def _expand_fused(recs: dict[str, _Rec], expand) -> list[tuple]:
    """Replace fused composite nodes selected by `expand` with their gate expansion (on copies);
    return (composite tensor, expansion output, {id(inner tensor): node id}, ids of the input
    copies) per expansion."""
    expansions = []
    worklist = sorted((r for r in recs.values() if getattr(r.op, "composite", None)),
                      key=lambda r: r.key)
    while worklist:  # (an opened compiled region may hold fused composites: opened in turn)
        rec = worklist.pop(0)
        composite = rec.op.composite
        scope = ScopeView("composite", str(composite.name), -1)
        if not _opens(scope, 0, expand, None) or \
                any(_engine.is_summary(recs[i].value) for i in rec.inputs):
            continue  # (values released by backward cannot be expanded again)
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
            key = rec.key if tensor is out else (rec.key[0], k) if rec.key[-1] == _MAIN else \
                rec.key[:-1] + (rec.key[-1] - 1, k)  # nested: between its siblings j-1 and j
            new = _record(tensor, node_id, key)
            new.seq = rec.seq
            new.scope = rec.scope + own + new.scope
            new.inputs = [ids[id(p)] for p in tensor.inputs or ()]
            if tensor is out:
                new.name, new.is_root, new.scope = rec.name, rec.is_root, rec.scope + own
            recs[node_id] = new
        expansions.append((rec.tensor, out, ids, frozenset(stop)))
        worklist.extend(sorted((recs[ids[id(t)]] for t in inner_tensors if t is not out and
                                getattr(t.op, "composite", None)), key=lambda r: r.key))
    return expansions


# ----------------------------------------------------------------------------------------------
# Gradients, from the engine


def _recorded(recs, roots) -> dict[str, object] | None:
    """What the plain backward() that released `roots` recorded on each node (None when the
    roots were not released). A node last reached by another backward shows no gradient."""
    stamps = {root._backward[0] for root in roots if root._backward is not None}
    if not stamps:
        return None
    out = {}
    for rec in recs.values():
        record = rec.tensor._backward
        if record is not None and record[0] in stamps:
            out[rec.id] = record[1]
    return out


def _swept(recs, roots, expansions, *, want_flows):
    """The engine's sweep from `roots` (unit seeds) over the retained graph: node gradients and
    the gradient sent along each edge, by node id; inside opened composites, a second sweep
    from the composite's gradient through its expansion."""
    ids = {id(rec.tensor): rec.id for rec in recs.values()}
    raw_flows: dict | None = {} if want_flows else None
    found = _engine.sweep([r for r in roots if r.requires_grad], raw_flows)
    expanded = {id(composite) for composite, _, _, _ in expansions}
    grads = {ids[k]: _engine.to_numpy(g) for k, g in found.items() if k in ids}
    flows = {(ids[k], slot): _engine.to_numpy(g) for (k, slot), g in (raw_flows or {}).items()
             if k in ids and k not in expanded}
    _sweep_inside(expansions, dict(found), grads, flows, want_flows)
    return grads, flows


def _sweep_inside(expansions, found: dict, grads: dict, flows: dict, want_flows: bool) -> None:
    """Inside each opened composite (or compiled call), a sweep from its node's gradient in
    `found` (by id of the tensor) through its expansion; nested ones after their parent."""
    for composite, out, inner_ids, copies in expansions:
        g = found.get(id(composite))
        if g is None:
            continue
        inner_flows: dict | None = {} if want_flows else None
        inner = _engine.sweep([out], inner_flows, seeds=[g], stop=copies)
        for k, value in inner.items():
            found.setdefault(k, value)
            if k in inner_ids and inner_ids[k] not in grads:
                grads[inner_ids[k]] = _engine.to_numpy(value)
        for (k, slot), value in (inner_flows or {}).items():
            flows[(inner_ids[k], slot)] = _engine.to_numpy(value)


def _recorded_inside(expansions, roots, grads: dict, flows: dict) -> None:
    """After a releasing backward(), the gates of an opened composite or compiled call were not
    part of it: their gradients come from a sweep seeded with what backward recorded on it."""
    stamps = {root._backward[0] for root in roots if root._backward is not None}
    found = {}
    for composite, _, _, _ in expansions:
        record = composite._backward
        if record is not None and record[0] in stamps and not _engine.is_summary(record[1]):
            found[id(composite)] = _engine.leaf_like(record[1], composite)
    _sweep_inside(expansions, found, grads, flows, want_flows=True)


def _edges_of_kept(recs, upstream=None) -> dict[tuple[str, int], np.ndarray]:
    """The engine's VJP step at every node whose values are all kept, per edge: with a ones seed
    (`upstream` None) the local gradients d out / d in; with `upstream` {node id: gradient
    recorded by backward} the gradient each edge carried (upstream x local)."""
    out = {}
    for rec in recs.values():
        if rec.op is None or _engine.is_summary(rec.value) or \
                any(_engine.is_summary(recs[i].value) for i in rec.inputs):
            continue
        seed = None
        if upstream is not None:
            seed = upstream.get(rec.id)
            if seed is None or _engine.is_summary(seed):
                continue
        for slot, sent in enumerate(_engine.vjp_step(rec.tensor, seed)):
            if sent is not None and recs[rec.inputs[slot]].requires_grad:
                out[(rec.id, slot)] = _engine.to_numpy(sent)
    return out


def _backward_was_run(recs) -> bool:
    return any(getattr(r.tensor, "grad", None) is not None for r in recs.values())


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
    expansions = _expand_fused(recs, expand)
    order = [r.id for r in sorted(recs.values(), key=lambda r: r.key)]

    # ---- gradients: recorded by the backward that released the roots, else swept now
    explicit = grads if hasattr(grads, "get") else None
    recorded = _recorded(recs, roots) if explicit is None else None
    compute = grads is True or explicit is not None or \
        (grads == "auto" and (recorded is not None or _backward_was_run(recs)))
    node_grads: dict[str, object] = {}
    flows, head_grads, freed = {}, [], False
    if explicit is not None:
        by_id = all(isinstance(k, int) for k in list(explicit)[:1])
        for rec in recs.values():  # backward(..., return_all=True) keys by id(node)
            held = explicit.get(id(rec.tensor) if by_id else rec.tensor)
            if held is not None:
                node_grads[rec.id] = _engine.to_numpy(held)
    elif recorded is not None:
        if compute:
            flows = _edges_of_kept(recs, recorded)
            node_grads = {key: _engine.value_of(g) for key, g in recorded.items()}
            _recorded_inside(expansions, roots, node_grads, flows)
        freed = compute and any(r not in node_grads for r in root_ids)
    elif compute:
        try:
            node_grads, flows = _swept(recs, roots, expansions, want_flows=True)
            if len(root_ids) > 1:
                head_grads = [_swept(recs, [root], expansions, want_flows=False)[0]
                              for root in roots]
        except _engine.GraphFreedError:  # part of it was released by another root's backward
            freed, node_grads, flows = True, {}, {}
    locals_ = _edges_of_kept(recs) if local else {}
    visited = [node_id for node_id in reversed(order) if node_id in node_grads]

    checks: dict[str, CheckView] = {}
    if check:
        from graphgrad.testing.nodecheck import check_node

        for rec in recs.values():
            if rec.op is not None and not _engine.is_summary(rec.value) and \
                    not any(_engine.is_summary(recs[i].value) for i in rec.inputs):
                result = check_node(rec.op, [recs[i].value for i in rec.inputs], rec.params)
                checks[rec.id] = CheckView(result.ok, result.max_error, result.message)

    from .collapse import build_view

    return _engine.summaries_as_stats(build_view(
        recs=recs,
        order=order,
        root_ids=root_ids,
        expand=expand,
        depth=depth,
        node_grads=node_grads,
        flows=flows,
        locals_=locals_,
        head_grads=head_grads,
        head_names=(tuple(heads) if heads
                    else tuple(recs[r].name or f"head {i}" for i, r in enumerate(root_ids))),
        checks=checks,
        grads_computed=compute,
        freed=freed,
        visited=visited,
        flops_of=flops_of,
    ))
