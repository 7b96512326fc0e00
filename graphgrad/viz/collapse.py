"""Traced records -> GraphView: collapse closed scopes into one node, list open ones as clusters.

A scope (an nn module call, a composite's expansion) is *open* when `expand=` names it (or is
True) or, for modules, when it sits less than `depth` module levels deep. The first closed scope
on a node's scope chain swallows the node. A parameter or library-made constant whose every
consumer lies in the same collapsed node is folded into it (listed as its parameters); the user's
own data stays in sight.
"""

from __future__ import annotations

import numpy as np

from .tracer import _op_name, _opens
from .view import CheckView, ClusterView, EdgeView, GraphView, NodeView, ScopeView


def _symbol(op) -> str:
    composite = getattr(op, "composite", None)
    for source in (composite, op):
        symbol = getattr(source, "symbol", None) if source is not None else None
        if symbol:
            return str(symbol)
    return str(getattr(composite or op, "name", op))


def _composite_symbol(name: str) -> str:
    """A collapsed composite shows its own symbol (σ, conv, cross_entropy), never the symbol of
    the last gate inside it (cross-entropy ends in a multiply: it drew as a bare `*`)."""
    from ..composites.registry import COMPOSITES

    composite = COMPOSITES.get(name)
    return str(composite.symbol) if composite is not None and composite.symbol else name


def _leaf_kind(rec) -> str:
    if rec.requires_grad:
        return "param"
    return "input" if rec.name or not getattr(rec.tensor, "_from_library", True) else "const"


def _folds(rec) -> bool:
    """A module's Parameter, or a constant the library made (`x * 0.5`'s 0.5), belongs to the box
    that uses it; the user's own tensors (an input batch, labels, an image being optimised, named
    or not) stay nodes of their own."""
    from ..nn.module import Parameter

    return isinstance(rec.tensor, Parameter) or bool(getattr(rec.tensor, "_from_library", True))


def _closed_prefix(scope: tuple[ScopeView, ...], expand, depth):
    level = 0
    for i, s in enumerate(scope):
        if not _opens(s, level, expand, depth):
            return scope[: i + 1]
        if s.kind == "module":
            level += 1
    return None


def _norm(array) -> float:
    return float(np.sqrt(np.sum(np.square(np.asarray(array, dtype=np.float64)))))


def build_view(*, recs, order, root_ids, expand, depth, node_grads, flows, locals_, head_grads,
               head_names, checks, grads_computed, freed, visited, flops_of) -> GraphView:
    consumers: dict[str, list[str]] = {i: [] for i in recs}
    for node_id in order:
        for src in recs[node_id].inputs:
            consumers[src].append(node_id)

    group_of: dict[str, tuple | None] = {}
    for node_id in order:
        group_of[node_id] = _closed_prefix(recs[node_id].scope, expand, depth)
    for node_id in order:  # fold parameters and constants used only inside one closed scope
        rec = recs[node_id]
        if rec.op is None and not rec.is_root and group_of[node_id] is None and consumers[node_id] \
                and _folds(rec):
            groups = {group_of[c] for c in consumers[node_id]}
            if len(groups) == 1 and None not in groups:
                group_of[node_id] = groups.pop()

    members: dict[tuple, list[str]] = {}
    for node_id in order:
        scope_key = group_of[node_id]
        if scope_key is not None:
            members.setdefault(scope_key, []).append(node_id)
    # a group is named after, and drawn at the place of, its first gate: a topological position
    anchor = {prefix: next((m for m in ids if recs[m].op is not None), ids[0])
              for prefix, ids in members.items()}
    visible: dict[str, str] = {}
    for node_id in order:
        prefix = group_of[node_id]
        visible[node_id] = node_id if prefix is None else "s" + anchor[prefix]

    def heads_of(node_id):
        found = tuple(i for i, hg in enumerate(head_grads) if node_id in hg)
        if len(found) < 2:
            return found, tuple(1.0 for _ in found)
        norms = [_norm(head_grads[i][node_id]) for i in found]
        total = sum(norms) or 1.0
        return found, tuple(n / total for n in norms)

    def flops(node_id):
        rec = recs[node_id]
        shapes = [recs[i].value.shape for i in rec.inputs]
        composite = getattr(rec.op, "composite", None)
        name = getattr(composite, "name", None) or getattr(rec.op, "name", None)
        return flops_of(None if rec.op is None else str(name), shapes, rec.value.shape)


    nodes: list[NodeView] = []
    emitted: set[str] = set()
    for node_id in order:
        prefix = group_of[node_id]
        if prefix is not None and anchor[prefix] != node_id:
            continue
        vid = visible[node_id]
        if vid in emitted:
            continue
        emitted.add(vid)
        if prefix is None:
            rec = recs[node_id]
            heads, shares = heads_of(node_id)
            nodes.append(NodeView(
                id=vid, seq=rec.seq,
                kind="op" if rec.op is not None else _leaf_kind(rec),
                op=_op_name(rec.op),
                symbol=_symbol(rec.op) if rec.op is not None else (rec.name or ""),
                name=rec.name, shape=tuple(rec.value.shape), dtype=str(rec.value.dtype),
                value=rec.value, grad=node_grads.get(node_id), scope=rec.scope,
                params=tuple((str(k), repr(v)) for k, v in sorted(rec.params.items())),
                requires_grad=rec.requires_grad, heads=heads, head_shares=shares,
                check=checks.get(node_id), flops=flops(node_id),
                site=getattr(rec.tensor, "site", None),
            ))
            continue
        group = members[prefix]
        inside = set(group)
        outputs = [m for m in group
                   if recs[m].is_root or any(c not in inside for c in consumers[m])]
        rep = recs[outputs[-1] if outputs else group[-1]]
        closed = prefix[-1]
        leaves = [recs[m] for m in group if recs[m].op is None]
        failing = [checks[m] for m in group if m in checks and not checks[m].ok]
        check = None
        if any(m in checks for m in group):
            worst = max((checks[m] for m in group if m in checks), key=lambda c: c.max_error)
            check = failing[0] if failing else worst
            if failing:
                check = CheckView(False, max(c.max_error for c in failing),
                                  "; ".join(c.message for c in failing))
        heads, shares = heads_of(rep.id)
        nodes.append(NodeView(
            id=vid, seq=recs[anchor[prefix]].seq,
            kind="module" if closed.kind == "module" else "composite",
            op=closed.name if closed.kind == "composite" else (closed.label or "module"),
            symbol=_composite_symbol(closed.name) if closed.kind == "composite" else closed.name,
            name=closed.name if closed.kind == "module" else rep.name,
            shape=tuple(rep.value.shape), dtype=str(rep.value.dtype), value=rep.value,
            grad=node_grads.get(rep.id), scope=prefix[:-1],
            requires_grad=rep.requires_grad, members=len(group),
            param_count=sum(int(r.value.size) for r in leaves if r.requires_grad),
            absorbed=tuple((r.name or "const", tuple(r.value.shape)) for r in leaves),
            heads=heads, head_shares=shares, check=check,
            flops=sum(flops(m) for m in group),
        ))

    # ---- edges, merged per (visible src, visible dst)
    merged: dict[tuple[str, str], dict] = {}
    for node_id in order:
        rec = recs[node_id]
        for slot, src in enumerate(rec.inputs):
            key = (visible[src], visible[node_id])
            if key[0] == key[1]:
                continue
            entry = merged.setdefault(key, {"slot": slot, "count": 0, "srcs": set(), "flows": [],
                                            "locals": []})
            entry["count"] += 1
            entry["srcs"].add(src)
            entry["flows"].append(flows.get((node_id, slot)))
            entry["locals"].append(locals_.get((node_id, slot)))
    node_heads = {n.id: set(n.heads) for n in nodes}
    edges = []
    for (src, dst), entry in merged.items():
        flow = None
        if len(entry["srcs"]) == 1 and all(f is not None for f in entry["flows"]):
            flow = entry["flows"][0]
            for extra in entry["flows"][1:]:
                flow = flow + extra
        local = entry["locals"][0] if entry["count"] == 1 else None
        heads = tuple(sorted(node_heads.get(src, set()) & node_heads.get(dst, set())))
        edges.append(EdgeView(src, dst, entry["slot"], local=local, flow=flow, heads=heads,
                              count=entry["count"]))

    # ---- clusters of open scopes, in order of first appearance
    cluster_ids: dict[tuple, str] = {}
    cluster_members: dict[str, list[str]] = {}
    cluster_info: dict[str, tuple] = {}
    for node in nodes:
        chain = node.scope
        parent = None
        for i in range(len(chain)):
            prefix = chain[: i + 1]
            if prefix not in cluster_ids:
                cid = f"cluster_{len(cluster_ids)}"
                cluster_ids[prefix] = cid
                cluster_members[cid] = []
                cluster_info[cid] = (prefix[-1], parent)
            parent = cluster_ids[prefix]
        if parent is not None:
            cluster_members[parent].append(node.id)
    clusters = tuple(
        ClusterView(cid, info[0].kind, info[0].name, info[1], tuple(cluster_members[cid]))
        for cid, info in cluster_info.items()
    )

    backward_order, seen = [], set()
    for node_id in visited:
        vid = visible[node_id]
        if vid not in seen:
            seen.add(vid)
            backward_order.append(vid)
    notes: tuple[str, ...] = ()
    if freed:
        notes = (("the graph below the root was freed by backward(); draw before backward() or "
                  "call backward(retain_graph=True) to see it"),)
    return GraphView(
        nodes=tuple(nodes), edges=tuple(edges),
        roots=tuple(dict.fromkeys(visible[r] for r in root_ids)),
        clusters=clusters, head_names=tuple(head_names) if len(root_ids) > 1 else (),
        grads_computed=grads_computed, freed=freed, backward_order=tuple(backward_order),
        notes=notes,
    )


ELIDED_ID = "elided"


def elide(view: GraphView, max_nodes: int, hint: str) -> GraphView:
    """Keep the first and last `max_nodes // 2` nodes (creation order: the inputs' end and the
    root's end of the graph) and fold the middle into one "⋯ N nodes not drawn" node, with a note
    saying how to see more (`hint`). Why: past a few hundred nodes no layout is legible on a
    slide, and a 3,000-gate chain came out as a blank 32767x6 bitmap."""
    from dataclasses import replace

    n = len(view.nodes)
    if n <= max_nodes:
        return view
    head = max_nodes // 2
    keep = {node.id for node in view.nodes[:head]}
    keep |= {node.id for node in view.nodes[n - (max_nodes - head):]}
    keep |= set(view.roots)
    keep -= {node.id for node in view.nodes  # an input of hidden gates only is hidden with them
             if node.op is None and node.id not in view.roots and view.consumers[node.id]
             and all(e.dst not in keep for e in view.consumers[node.id])}
    hidden = [node for node in view.nodes if node.id not in keep]
    first = hidden[0]
    marker = NodeView(
        id=ELIDED_ID, seq=first.seq, kind="composite", op="not drawn",
        symbol=f"⋯ {len(hidden):,} nodes",
        name=f"⋯ {len(hidden):,} nodes not drawn", shape=(), dtype="", value=None, grad=None,
        members=len(hidden))
    nodes = [node for node in view.nodes if node.id in keep]
    at = next((i for i, node in enumerate(nodes) if node.seq > first.seq), len(nodes))
    nodes.insert(at, marker)
    edges, seen = [], set()
    for edge in view.edges:
        src = edge.src if edge.src in keep else ELIDED_ID
        dst = edge.dst if edge.dst in keep else ELIDED_ID
        if src == dst:
            continue
        if src == edge.src and dst == edge.dst:
            edges.append(edge)
        elif (src, dst) not in seen:
            seen.add((src, dst))
            edges.append(EdgeView(src, dst, edge.slot))
    clusters = tuple(replace(c, members=tuple(m for m in c.members if m in keep))
                     for c in view.clusters)
    note = f"{len(hidden):,} of {n:,} nodes not drawn (illegible on a slide): {hint}"
    return replace(view, nodes=tuple(nodes), edges=tuple(edges), clusters=clusters,
                   backward_order=tuple(i for i in view.backward_order if i in keep),
                   notes=view.notes + (note,))


def scope_names(roots) -> set[str]:
    """Names `expand=` can open in the graph under `roots`: every nn module and composite scope
    and every fused composite (read from the live Tensors, without tracing)."""
    names: set[str] = set()
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        for scope in getattr(tensor, "scope", None) or ():
            names.add(str(scope.name))
        composite = getattr(getattr(tensor, "op", None), "composite", None)
        if composite is not None:
            names.add(str(composite.name))
            if str(composite.name).startswith("compiled:"):  # a compiled call opens by fn name
                names.add(str(composite.name)[9:])
        stack.extend(getattr(tensor, "inputs", None) or ())
    return names


def check_expand(expand, roots) -> None:
    """`expand=` naming nothing in this graph (a typo such as "sigmiod") is an error that lists
    what does exist, not a silently unchanged picture."""
    if expand is None or expand is False or expand is True or expand == "all":
        return
    wanted = [expand] if isinstance(expand, str) else [str(e) for e in expand]
    names = scope_names(roots)
    unknown = [w for w in wanted if w not in names]
    if unknown:
        listed = ", ".join(repr(n) for n in sorted(names)) or "none (nothing to expand)"
        raise ValueError(f"draw(): expand={expand!r} names {', '.join(map(repr, unknown))}, which "
                         f"no composite or module in this graph is called; it holds: {listed} "
                         "(or pass expand=True to open everything)")
