"""Receptive fields read from the graph: which input pixels can reach a unit.

Walk the graph the forward pass built, from the input to any node, and carry per spatial axis
three numbers: the receptive field `size` of one unit, the `jump` (stride, in input pixels, between
neighbouring units) and the `start` (input coordinate of the first pixel seen by unit 0; negative
inside the padding). A window op (conv, max/avg/Lp pooling) with kernel k, stride s, dilation d and
padding p before maps them to

    size += d (k - 1) jump        jump *= s        start -= p jump

Ops that keep the spatial grid (ReLU, bias add, sums over channels, ...) take the union of their
inputs' fields; `pad` shifts `start`; anything else that changes the grid (flatten, matmul, a
spatial reduction) makes every unit see the whole input (`whole_input=True`). Stacking k 3x3
convolutions gives 2k + 1; dilations 1, 2, 4, ... give 2^(k+1) - 1: exponential growth, the
notes' point about dilated convolutions. The graph must be the fused one (the default, not
inside `gg.expand_composites()`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._tensor import Tensor
from ._model import (
    Images,
    Model,
    ModelError,
    Traced,
    as_batch,
    find_layer,
    input_dtype,
    inspecting,
    layer_names,
    run_traced,
)

WINDOW_OPS = ("conv", "max_pool", "avg_pool", "lp_pool")


class ReceptiveField(NamedTuple):
    """Per spatial axis (rows, cols): field size, jump between units and start, in input pixels."""

    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[int, int]
    whole_input: bool = False

    def window(self, row: int, col: int) -> tuple[slice, slice]:
        """The input rows and columns that output unit (row, col) can see (may exceed the image)."""
        (r0, c0), (rj, cj), (rn, cn) = self.start, self.jump, self.size
        return slice(r0 + row * rj, r0 + row * rj + rn), slice(c0 + col * cj, c0 + col * cj + cn)


def _spatial(node) -> tuple[int, ...]:
    return tuple(node.shape[2:]) if node.ndim == 4 else ()


def _union(fields: list[ReceptiveField], whole: ReceptiveField) -> ReceptiveField:
    if any(f.whole_input for f in fields) or len({f.jump for f in fields}) > 1:
        return whole
    top, left = (min(f.start[a] for f in fields) for a in range(2))
    bottom, right = (max(f.start[a] + f.size[a] for f in fields) for a in range(2))
    return ReceptiveField((bottom - top, right - left), fields[0].jump, (top, left))


def field_of(traced: Traced, node: Tensor) -> ReceptiveField:
    """The receptive field of `node` (a Tensor of the traced graph) with respect to the input."""
    if traced.x.ndim != 4:
        raise ModelError(f"receptive fields need an (N, C, H, W) input, got {traced.x.shape}")
    height, width = traced.x.shape[2:]
    whole = ReceptiveField((height, width), (height, width), (0, 0), True)
    fields = {id(traced.x): ReceptiveField((1, 1), (1, 1), (0, 0))}
    for current in traced.nodes:
        if current.op is None or id(current) in fields:
            continue
        known = [(parent, fields[id(parent)]) for parent in current.inputs if id(parent) in fields]
        if not known:
            continue
        name = current.op.name
        if name in WINDOW_OPS and "geometry" in current.params and len(_spatial(current)) == 2:
            geometry = current.params["geometry"]
            field = fields[id(current.inputs[0])] if id(current.inputs[0]) in fields else whole
            if field.whole_input:
                fields[id(current)] = whole
                continue
            size, jump, start = [], [], []
            for axis in range(2):
                k, s, d = geometry.kernel[axis], geometry.stride[axis], geometry.dilation[axis]
                before = geometry.padding[axis][0]
                size.append(field.size[axis] + d * (k - 1) * field.jump[axis])
                jump.append(field.jump[axis] * s)
                start.append(field.start[axis] - before * field.jump[axis])
            fields[id(current)] = ReceptiveField(tuple(size), tuple(jump), tuple(start))
        elif name == "pad" and len(_spatial(current)) == 2:
            (field,) = [f for _, f in known]
            widths = current.params["pad_width"][-2:]
            fields[id(current)] = field._replace(start=tuple(
                st - before * j for st, (before, _), j in zip(field.start, widths, field.jump)))
        elif all(_spatial(parent) == _spatial(current) != () for parent, _ in known):
            fields[id(current)] = _union([f for _, f in known], whole)
        else:
            fields[id(current)] = whole
    if id(node) not in fields:
        raise ModelError("this node does not depend on the input: it has no receptive field")
    return fields[id(node)]


def receptive_field(model: Model, x: Images | tuple[int, ...],
                    layer: str | None = None) -> ReceptiveField:
    """The receptive field of `layer` (module path or op selector; None: the model's output).

    `x`: an input batch or image, or just its shape (C, H, W) / (N, C, H, W); values don't matter.
    """
    traced = _trace(model, x)
    node = traced.out if layer is None else find_layer(traced, layer)
    return field_of(traced, node)


def receptive_fields(model: Model,
                     x: Images | tuple[int, ...]) -> dict[str, ReceptiveField]:
    """{layer: field} for every module path in call order (plain functions: every window op,
    as op selectors "conv:0", "max_pool:0", ...), then "output"."""
    traced = _trace(model, x)
    names = layer_names(traced)
    if not names:
        counts: dict[str, int] = {}
        for node in traced.nodes:
            if node.op is not None and node.op.name in WINDOW_OPS:
                names.append(f"{node.op.name}:{counts.get(node.op.name, 0)}")
                counts[node.op.name] = counts.get(node.op.name, 0) + 1
    result = {name: field_of(traced, find_layer(traced, name)) for name in names}
    result["output"] = field_of(traced, traced.out)
    return result


def _trace(model, x) -> Traced:
    if isinstance(x, tuple) and all(isinstance(v, (int, np.integer)) for v in x):
        x = np.zeros(x if len(x) == 4 else (1,) + tuple(x), dtype=input_dtype(model))
    batch, _ = as_batch(x)
    with inspecting(model):
        return run_traced(model, batch[:1])


__all__ = ["ReceptiveField", "field_of", "receptive_field", "receptive_fields"]
