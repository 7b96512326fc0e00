"""Rough forward FLOP counts per node, for summaries (multiply-add = 2 FLOPs).

Only the shapes are used. Ops not listed count one FLOP per output element when they compute
something, zero when they only move data (reshape, transpose, indexing ...).
"""

from __future__ import annotations

import math

MOVES_DATA = {
    "reshape", "transpose", "broadcast_to", "getitem", "pad", "concatenate", "stack",
    "squeeze", "expand_dims", "flatten", "permute", "sum_to", "unfold", "fold", "copy",
    "stop_gradient", "detach", "identity", "astype",
}
REDUCES = {"sum", "mean", "max", "min", "logsumexp", "var", "std", "norm"}


def _size(shape) -> int:
    return int(math.prod(shape)) if shape else 1


def flops_of(op: str | None, in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...]) -> int:
    if op is None or op in MOVES_DATA:
        return 0
    if op == "matmul" and len(in_shapes) == 2 and in_shapes[0]:
        k = in_shapes[0][-1]
        return 2 * _size(out_shape) * k
    if op in ("conv", "conv_transpose", "conv2d", "conv1d") and len(in_shapes) >= 2:
        w = in_shapes[1]
        per_output = _size(w[1:]) if len(w) > 1 else 1  # Cin/groups * kh * kw
        bias = _size(out_shape) if len(in_shapes) > 2 else 0
        return 2 * _size(out_shape) * per_output + bias
    if op == "conv_weight_grad" and len(in_shapes) >= 2:
        return 2 * _size(in_shapes[1]) * _size(out_shape[1:])
    if op in REDUCES or op.endswith("pool2d") or op.endswith("pool"):
        return max((_size(s) for s in in_shapes), default=0)
    if op in ("softmax", "log_softmax", "cross_entropy"):
        return 5 * max((_size(s) for s in in_shapes), default=0)
    return _size(out_shape)
