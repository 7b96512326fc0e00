"""The read-only picture of a graph that every renderer draws: plain frozen data, no Tensors.

`viz.tracer.trace()` fills these from live Tensors; renderers (circuit, graph style, networkx,
matplotlib fallback, animation) are pure functions of a `GraphView`, testable without Graphviz and
unable to change the user's graph. Arrays inside are private read-only NumPy copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .labels import Stats, stats

NODE_KINDS = ("input", "param", "const", "op", "composite", "module")
GATE_ROLES = {"add": "distributes", "maximum": "routes", "max": "routes", "mul": "switches"}


@dataclass(frozen=True)
class ScopeView:
    kind: str  # "module" or "composite"
    name: str
    uid: int
    label: str = ""  # a module's class name ("Conv2d"); empty for composites


@dataclass(frozen=True)
class CheckView:
    """Result of the per-node local-gradient check (see graphgrad.testing.nodecheck)."""

    ok: bool
    max_error: float
    message: str


@dataclass(frozen=True, eq=False)
class NodeView:
    id: str  # DOT node name: "n{seq}", "n{seq}_{k}" inside an on-demand expansion, "s..." groups
    seq: int
    kind: str  # one of NODE_KINDS
    op: str | None  # primitive/composite name, module class for a collapsed module, None for leaves
    symbol: str  # what a circuit gate prints (+, *, exp, 1/x ...); the name for leaves
    name: str | None
    shape: tuple[int, ...]
    dtype: str
    value: np.ndarray | None
    grad: np.ndarray | None  # None: gradient not computed (yet)
    scope: tuple[ScopeView, ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    requires_grad: bool = False
    members: int = 1  # graph nodes folded into this one (collapsed module/composite)
    param_count: int = 0  # trainable elements folded into this node (collapsed modules)
    absorbed: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (name, shape) of folded parameters
    heads: tuple[int, ...] = ()  # indices of the loss heads whose gradient reaches this node
    head_shares: tuple[float, ...] = ()  # share of each head in `heads`, sums to 1
    check: CheckView | None = None
    flops: int = 0
    site: str | None = None
    value_summary: Stats | None = None  # statistics kept by backward of a released large value
    grad_summary: Stats | None = None  # (then `value` / `grad` is None)

    @property
    def label_name(self) -> str:
        return self.name if self.name else (self.op or self.kind)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @cached_property
    def value_stats(self) -> Stats | None:
        return self.value_summary if self.value is None else stats(self.value)

    @cached_property
    def grad_stats(self) -> Stats | None:
        return self.grad_summary if self.grad is None else stats(self.grad)

    @property
    def gate_role(self) -> str | None:
        return GATE_ROLES.get(self.op or "")

    @property
    def is_scalar_const(self) -> bool:
        return self.kind == "const" and self.size == 1 and self.value is not None


@dataclass(frozen=True, eq=False)
class EdgeView:
    src: str
    dst: str
    slot: int  # argument position at dst (first one when several are merged)
    local: np.ndarray | None = None  # d dst / d src, elementwise (VJP of ones); None if unknown
    flow: np.ndarray | None = None  # the gradient sent along this edge: upstream x local
    heads: tuple[int, ...] = ()
    count: int = 1  # underlying graph edges merged into this one (a*a: 2)


@dataclass(frozen=True)
class ClusterView:
    id: str  # "cluster_..." (Graphviz draws subgraphs named cluster* as boxes)
    kind: str
    name: str
    parent: str | None
    members: tuple[str, ...]  # node ids directly inside (not in a child cluster)


@dataclass(frozen=True, eq=False)
class GraphView:
    nodes: tuple[NodeView, ...]  # sorted by creation order: deterministic
    edges: tuple[EdgeView, ...]
    roots: tuple[str, ...]
    clusters: tuple[ClusterView, ...] = ()
    head_names: tuple[str, ...] = ()  # one per root when several roots (loss heads) are drawn
    grads_computed: bool = False
    freed: bool = False  # the root's graph was freed by backward() (retain_graph=False)
    backward_order: tuple[str, ...] = ()  # node ids in the order backward visits them
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def by_id(self) -> dict[str, NodeView]:
        return {node.id: node for node in self.nodes}

    def node(self, node_id: str) -> NodeView:
        try:
            return self.by_id[node_id]
        except KeyError:
            raise KeyError(f"no node {node_id!r} in this GraphView "
                           f"({len(self.nodes)} nodes)") from None

    @cached_property
    def consumers(self) -> dict[str, tuple[EdgeView, ...]]:
        out: dict[str, list[EdgeView]] = {node.id: [] for node in self.nodes}
        for edge in self.edges:
            out[edge.src].append(edge)
        return {key: tuple(value) for key, value in out.items()}

    @cached_property
    def producers(self) -> dict[str, tuple[EdgeView, ...]]:
        out: dict[str, list[EdgeView]] = {node.id: [] for node in self.nodes}
        for edge in self.edges:
            out[edge.dst].append(edge)
        return {key: tuple(sorted(value, key=lambda e: e.slot)) for key, value in out.items()}
