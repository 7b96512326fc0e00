"""Opening a compiled call in a drawing: its traced forward, replayed gate by gate.

The visualizer opens a fused composite by running `composite.expand` on copies of the node's
inputs (graphgrad/viz/tracer.py). A compiled node offers the same: its op's `.composite` is a
`CompiledRegion` whose `expand` replays the gates the trace recorded (the forward the generated
code computes) on the drawing's copies, so the drawing shows the region's own gates with the
values of this call and the gradients the engine's sweep gives them. Nothing is traced again and
the user's function is not called.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from .._tensor import Tensor
from .codegen import RANDOM_OPS

if TYPE_CHECKING:
    from .function import CallState, Entry


class CompiledRegion:
    """What `op.composite` of a compiled node is: a name the drawing can open and `expand`.

    Why a stand-in for a Composite: the visualizer already knows how to draw, collapse and open
    a composite (`expand=True`, `expand="compiled:neuron"`); a compiled call reuses all of it.
    """

    def __init__(self, entry: Entry, k: int, name: str, symbol: str):
        self.entry = entry
        self.k = k
        self.name = name        # "compiled:neuron": what expand= names (or just "neuron")
        self.symbol = symbol    # the op's name ("compiled:fn[1]" for a second output)

    def __repr__(self) -> str:
        return f"<compiled region {self.name}>"

    def expand(self, *inputs: Tensor, call: CallState) -> Tensor:
        """The traced forward of output k rebuilt on `inputs` (one per argument and captured
        tensor, in the node's order), gate by gate."""
        return replay(self.entry, self.k, inputs, call)


def replay(entry: Entry, k: int, inputs: tuple[Tensor, ...], call: CallState) -> Tensor:
    """Apply the traced gates of output k to `inputs` in creation order.

    Constants made inside the trace are used as they are. A random gate (dropout's mask) takes
    the value this call drew when the backward kept it (it is a residual then); otherwise it is
    drawn again from a copy of its generator, so drawing never advances the user's generator.
    """
    graph = entry.graph
    traced = entry.trace.arg_leaves + entry.trace.captured
    if len(inputs) != len(traced):
        raise ValueError(f"compiled:{entry.owner.__name__}: the region has {len(traced)} "
                         f"inputs (arguments, then captured tensors); got {len(inputs)}")
    env: dict[int, Tensor] = {id(graph.resolve(t)): x for t, x in zip(traced, inputs)}
    kept = {id(t): value for t, value in zip(entry.residual_tensors, call.residuals)}
    target = graph.resolve(entry.trace.outputs[k])
    needed: dict[int, Tensor] = {}
    stack = [target]
    while stack:
        t = stack.pop()
        if id(t) in env or id(t) in needed:
            continue
        needed[id(t)] = t
        if t.op is not None:
            stack.extend(graph.resolve(u) for u in t.inputs)
    for t in sorted(needed.values(), key=lambda u: u.seq):
        if t.op is None:  # a constant made inside the trace
            env[id(t)] = t
            continue
        args = [env[id(graph.resolve(u))] for u in t.inputs]
        if id(t.op) in RANDOM_OPS:
            env[id(t)] = _random_gate(t, args, kept.get(id(t)))
            continue
        out = t.op(*args, **t.params)
        if t.name and not out.name:
            out.name = t.name
        env[id(t)] = out
    return env[id(target)]


def _random_gate(t: Tensor, args: list[Tensor], value) -> Tensor:
    """The random gate's node with this call's value (or a draw from a copied generator)."""
    params = dict(t.params)
    assert t.op is not None  # a gate, never a leaf
    if value is None:
        if params.get("generator") is not None:
            params["generator"] = copy.deepcopy(params["generator"])
        first = args[0]
        value = t.op.forward(first.device.xp, *[a.data for a in args], **params)
    device = args[0].device
    out = Tensor._leaf(device.asarray(np.asarray(value)) if np.isscalar(value) else value,
                       device)
    out.op, out.inputs, out.params = t.op, tuple(args), params  # drawn, never differentiated
    return out


__all__ = ["CompiledRegion", "replay"]
