"""Activations as composites: each has a fused forward and an expansion into the gates.

The fused forwards are written to be overflow-safe for large inputs; the expansions are the
lecture's gate circuits.
"""

from __future__ import annotations

from ..ops import exp, log, maximum, reciprocal, where
from ..ops.reduction import max as reduce_max, sum as reduce_sum
from ..ops.structural import check_axis
from .composite import composite


def _sigmoid_forward(xp, x):
    """σ(x) without overflow: exp only ever sees -|x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


sigmoid = composite(
    "sigmoid", symbol="σ",
    expand=lambda x: reciprocal(1.0 + exp(-x)),  # the lecture's *-1, exp, +1, 1/x gates
    forward=_sigmoid_forward,
    vjp=lambda g, out, x: (g * (out * (1.0 - out)),),  # σ(1-σ): graph ops, so double backward works
    floating_only=True,
    doc="Logistic sigmoid 1/(1+exp(-x)); local gradient σ(x)(1-σ(x)).",
)

tanh = composite(
    "tanh", symbol="tanh",
    expand=lambda x: 2.0 * reciprocal(1.0 + exp(-2.0 * x)) - 1.0,  # tanh(x) = 2σ(2x) - 1
    forward=lambda xp, x: xp.tanh(x),
    vjp=lambda g, out, x: (g * (1.0 - out * out),),
    floating_only=True,
    doc="Hyperbolic tangent; local gradient 1 - tanh(x)^2.",
)


def _relu_vjp(g, out, x):
    """The max gate's rule with 0: x > 0 passes g, x < 0 blocks it, x == 0 passes half."""
    return (g * where(x > 0.0, 1.0, where(x == 0.0, 0.5, 0.0)).astype(x.dtype),)


relu = composite(
    "relu", symbol="relu",
    expand=lambda x: maximum(x, 0.0),
    forward=lambda xp, x: xp.maximum(x, xp.zeros_like(x)),
    vjp=_relu_vjp,
    doc="max(x, 0), a max gate with 0. At exactly 0 the tie rule gives gradient 1/2 (see docs/tie_rules.md).",
)


def _softmax_forward(xp, x, *, axis):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_expand(x, *, axis):
    e = exp(x - reduce_max(x, axis=axis, keepdims=True))
    return e * reciprocal(reduce_sum(e, axis=axis, keepdims=True))


def _softmax_vjp(g, out, x, *, axis):
    return (out * (g - reduce_sum(g * out, axis=axis, keepdims=True)),)


def _with_axis(fused, x, axis=-1):
    return fused(x, axis=check_axis(axis, x.ndim, fused.name))


softmax = composite(
    "softmax", symbol="softmax",
    expand=lambda x, axis=-1: _softmax_expand(x, axis=check_axis(axis, x.ndim, "softmax")),
    forward=_softmax_forward, vjp=_softmax_vjp, wrap=_with_axis,
    floating_only=True,
    doc="exp(x) / sum(exp(x)) along `axis`, shifted by the max for stability.",
)


def _log_softmax_forward(xp, x, *, axis):
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_expand(x, *, axis):
    shifted = x - reduce_max(x, axis=axis, keepdims=True)
    return shifted - log(reduce_sum(exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(g, out, x, *, axis):
    return (g - exp(out) * reduce_sum(g, axis=axis, keepdims=True),)


log_softmax = composite(
    "log_softmax", symbol="log_softmax",
    expand=lambda x, axis=-1: _log_softmax_expand(x, axis=check_axis(axis, x.ndim, "log_softmax")),
    forward=_log_softmax_forward, vjp=_log_softmax_vjp, wrap=_with_axis,
    floating_only=True,
    doc="log(softmax(x)) computed without overflow for large logits.",
)
