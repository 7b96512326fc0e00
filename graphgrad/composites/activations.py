"""Activations as composites: each has a fused forward and an expansion into the gates.

Each public activation is declared once (`graphgrad.declare`): a typed function whose docstring
says what it computes, its PyTorch name and its gradient; the Composite behind it (`_sigmoid`)
is private and registered in COMPOSITES under the public name. The fused forwards are written to
be overflow-safe for large inputs; the expansions are the lecture's gate circuits.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..declare import declare, resolve_axis
from ..errors import ArgumentError
from ..ops import exp, log, maximum, minimum, reciprocal, where
from ..ops.elementwise import (
    _erf_forward,  # the erf gate's kernel, for gelu's fused forward
    _max_share,  # the max gate's routing rule: relu is max(x, 0)
    abs as elementwise_abs,
    erf,
)
from ..ops.reduction import max as reduce_max, sum as reduce_sum
from ..ops.structural import check_axis
from .registry import composite


def _sigmoid_forward(xp, x):
    """σ(x) without overflow: exp only ever sees -|x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_sigmoid = composite(
    "sigmoid", symbol="σ",
    expand=lambda x: reciprocal(1.0 + exp(-x)),  # the lecture's *-1, exp, +1, 1/x gates
    forward=_sigmoid_forward,
    vjp=lambda g, out, x: (g * (out * (1.0 - out)),),  # σ(1-σ): graph ops, so double backward works
    floating_only=True,
    doc="Logistic sigmoid 1/(1+exp(-x)); local gradient σ(x)(1-σ(x)).",
)


@declare(method=True)
def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x), element-wise (torch.sigmoid, scipy.special.expit).

    Gradient: g * σ(x)(1 - σ(x)), from the node's own output. Never overflows (exp sees -|x|).
    """
    return _sigmoid(x)


_tanh = composite(
    "tanh", symbol="tanh",
    expand=lambda x: 2.0 * reciprocal(1.0 + exp(-2.0 * x)) - 1.0,  # tanh(x) = 2σ(2x) - 1
    forward=lambda xp, x: xp.tanh(x),
    vjp=lambda g, out, x: (g * (1.0 - out * out),),
    floating_only=True,
    doc="Hyperbolic tangent; local gradient 1 - tanh(x)^2.",
)


@declare(method=True)
def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, element-wise (torch.tanh, np.tanh); gradient g * (1 - tanh(x)^2).

    Its gate expansion is 2σ(2x) - 1, the sigmoid circuit rescaled."""
    return _tanh(x)


def _relu_vjp(g, out, x):
    """The max gate's rule with 0: x > 0 passes g, x < 0 blocks it, x == 0 passes half."""
    return (_max_share(g, x, 0.0),)


_relu = composite(
    "relu", symbol="relu",
    expand=lambda x: maximum(x, 0.0),
    forward=lambda xp, x: xp.maximum(x, xp.zeros_like(x)),
    vjp=_relu_vjp,
    doc="max(x, 0), a max gate with 0. At exactly 0 the tie rule gives gradient 1/2 "
        "(see docs/tie_rules.md).",
)


@declare(method=True)
def relu(x: Tensor) -> Tensor:
    """max(x, 0), element-wise (torch.relu, np.maximum(x, 0)): a max gate with 0.

    Gradient: g where x > 0, 0 where x < 0; at exactly 0 the max gate's tie rule passes g / 2
    (docs/tie_rules.md; PyTorch passes 0 there)."""
    return _relu(x)


def _softmax_forward(xp, x, *, axis):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_expand(x, *, axis):
    e = exp(x - reduce_max(x, axis=axis, keepdims=True))
    return e * reciprocal(reduce_sum(e, axis=axis, keepdims=True))


def _softmax_vjp(g, out, x, *, axis):
    return (out * (g - reduce_sum(g * out, axis=axis, keepdims=True)),)


_softmax = composite(
    "softmax", symbol="softmax",
    expand=lambda x, axis=-1: _softmax_expand(x, axis=check_axis(axis, x.ndim, "softmax")),
    forward=_softmax_forward, vjp=_softmax_vjp,
    floating_only=True,
    doc="exp(x) / sum(exp(x)) along `axis`, shifted by the max for stability.",
)


def _axis(op: str, x: Tensor, axis: int | None, dim: int | None) -> int:
    axis = resolve_axis(op, axis, dim)
    return check_axis(-1 if axis is None else axis, x.ndim, op)


@declare(method=True)
def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """e^x / sum(e^x) along `axis` (PyTorch: `dim`), default the last (torch.softmax,
    scipy.special.softmax); shifted by the max, so large logits never overflow.

    Gradient: s * (g - sum(g * s, axis)), with s the node's own output. `x.softmax(1)` works.
    """
    return _softmax(x, axis=_axis("softmax", x, axis, dim))


def _log_softmax_forward(xp, x, *, axis):
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_expand(x, *, axis):
    shifted = x - reduce_max(x, axis=axis, keepdims=True)
    return shifted - log(reduce_sum(exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(g, out, x, *, axis):
    return (g - exp(out) * reduce_sum(g, axis=axis, keepdims=True),)


_log_softmax = composite(
    "log_softmax", symbol="log_softmax",
    expand=lambda x, axis=-1: _log_softmax_expand(x, axis=check_axis(axis, x.ndim, "log_softmax")),
    forward=_log_softmax_forward, vjp=_log_softmax_vjp,
    floating_only=True,
    doc="log(softmax(x)) computed without overflow for large logits.",
)


@declare(method=True)
def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along `axis` (PyTorch: `dim`), default the last (torch.log_softmax,
    scipy.special.log_softmax), as x - max - log(sum(e^(x - max))): finite for any logits.

    Gradient: g - softmax(x) * sum(g, axis).
    """
    return _log_softmax(x, axis=_axis("log_softmax", x, axis, dim))


# ----- the course's further activations (#15) -----------------------------------------------------
def _check_number(op: str, name: str, value: float, valid: str, ok: bool) -> float:
    if not ok or not math.isfinite(value):
        raise ArgumentError(f"{op}: {name} must be {valid}, got {value!r}")
    return float(value)


def _leaky_relu_forward(xp, x, *, negative_slope):
    return xp.where(x > 0, x, x * negative_slope)


_leaky_relu = composite(
    "leaky_relu", symbol="leaky_relu",
    expand=lambda x, *, negative_slope: where(x > 0.0, x, x * negative_slope),
    forward=_leaky_relu_forward,
    vjp=lambda g, out, x, *, negative_slope: (g * where(x > 0.0, 1.0, negative_slope)
                                              .astype(x.dtype),),
    floating_only=True,
    doc="x where x > 0, negative_slope * x elsewhere.",
)


@declare  # torch.nn.functional only: no Tensor method in PyTorch
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere (torch.nn.functional.leaky_relu).

    Gradient: g where x > 0, g * negative_slope elsewhere (at 0 too, as PyTorch): a relu that
    never stops learning."""
    slope = _check_number("leaky_relu", "negative_slope", negative_slope, "a finite number", True)
    return _leaky_relu(x, negative_slope=slope)


def _elu_forward(xp, x, *, alpha):
    return xp.where(x > 0, x, alpha * (xp.exp(xp.minimum(x, xp.zeros_like(x))) - 1.0))


def _elu_expand(x, *, alpha):
    # exp sees min(x, 0): the branch where() drops never overflows, so its gradient is not nan
    return where(x > 0.0, x, alpha * (exp(minimum(x, 0.0)) - 1.0))


_elu = composite(
    "elu", symbol="elu",
    expand=_elu_expand,
    forward=_elu_forward,
    # alpha e^x = out + alpha on the negative side: graph ops, so double backward works
    vjp=lambda g, out, x, *, alpha: (g * where(x > 0.0, 1.0, out + alpha),),
    floating_only=True,
    doc="x where x > 0, alpha * (e^x - 1) elsewhere.",
)


@declare  # torch.nn.functional only: no Tensor method in PyTorch
def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: x where x > 0, alpha * (e^x - 1) elsewhere
    (torch.nn.functional.elu).

    Gradient: g where x > 0, g * alpha * e^x (= g * (out + alpha)) elsewhere."""
    alpha = _check_number("elu", "alpha", alpha, "a finite number", True)
    return _elu(x, alpha=alpha)


def _silu_forward(xp, x):
    return x * _sigmoid_forward(xp, x)


def _silu_vjp(g, out, x):
    s = sigmoid(x)
    return (g * (s * (1.0 + x * (1.0 - s))),)


_silu = composite(
    "silu", symbol="silu",
    expand=lambda x: x * sigmoid(x),
    forward=_silu_forward,
    vjp=_silu_vjp,
    floating_only=True,
    doc="x * σ(x) (swish).",
)


@declare  # torch.nn.functional only: no Tensor method in PyTorch
def silu(x: Tensor) -> Tensor:
    """x * σ(x), the sigmoid-weighted linear unit or swish (torch.nn.functional.silu).

    Gradient: g * σ(x) * (1 + x * (1 - σ(x)))."""
    return _silu(x)


def _softplus_forward(xp, x, *, beta, threshold):
    z = x * beta
    stable = (xp.maximum(z, xp.zeros_like(z)) + xp.log(1.0 + xp.exp(-xp.abs(z)))) / beta
    return xp.where(z > threshold, x, stable)


def _softplus_expand(x, *, beta, threshold):
    z = x * beta
    # max(z, 0) + log(1 + e^-|z|) = log(1 + e^z): exp never overflows
    stable = (maximum(z, 0.0) + log(1.0 + exp(-elementwise_abs(z)))) * (1.0 / beta)
    return where(z > threshold, x, stable)


_softplus = composite(
    "softplus", symbol="softplus",
    expand=_softplus_expand,
    forward=_softplus_forward,
    vjp=lambda g, out, x, *, beta, threshold: (
        g * where(x * beta > threshold, 1.0, sigmoid(x * beta)),),
    floating_only=True,
    doc="log(1 + e^(beta x)) / beta, x itself where beta x > threshold.",
)


@declare  # torch.nn.functional only: no Tensor method in PyTorch
def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, a smooth relu (torch.nn.functional.softplus); x itself where
    beta * x > threshold, as PyTorch (there the two differ by less than e^-threshold).

    Gradient: g * σ(beta x) (g where beta x > threshold)."""
    beta = _check_number("softplus", "beta", beta, "a finite number other than 0", beta != 0)
    threshold = _check_number("softplus", "threshold", threshold, "a finite number", True)
    return _softplus(x, beta=beta, threshold=threshold)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715
_APPROXIMATIONS = ("none", "tanh")


def _gelu_forward(xp, x, *, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + xp.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x * x * x)))
    return 0.5 * x * (1.0 + _erf_forward(xp, x * _SQRT_HALF))


def _gelu_expand(x, *, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + tanh(_TANH_SCALE * (x + _TANH_CUBIC * x * x * x)))
    return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))


def _gelu_vjp(g, out, x, *, approximate):
    """Φ(x) + x φ(x), or the derivative of the tanh form: graph ops, so double backward works."""
    if approximate == "tanh":
        t = tanh(_TANH_SCALE * (x + _TANH_CUBIC * x * x * x))
        slope = _TANH_SCALE * (1.0 + 3.0 * _TANH_CUBIC * x * x)
        return (g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * slope),)
    cdf = 0.5 * (1.0 + erf(x * _SQRT_HALF))
    return (g * (cdf + x * exp(-0.5 * x * x) * _INV_SQRT_2PI),)


_gelu = composite(
    "gelu", symbol="gelu",
    expand=_gelu_expand,
    forward=_gelu_forward,
    vjp=_gelu_vjp,
    floating_only=True,
    doc="x Φ(x), Φ the standard normal CDF; or its tanh approximation.",
)


@declare  # torch.nn.functional only: no Tensor method in PyTorch
def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x Φ(x) = ½x(1 + erf(x/√2)) (torch.nn.functional.gelu);
    approximate="tanh" gives PyTorch's ½x(1 + tanh(√(2/π)(x + 0.044715x³))).

    Gradient: g * (Φ(x) + x φ(x)), φ the standard normal density (or the tanh form's
    derivative)."""
    if approximate not in _APPROXIMATIONS:
        raise ArgumentError(f"gelu: approximate must be one of {_APPROXIMATIONS}, got "
                            f"{approximate!r}")
    return _gelu(x, approximate=approximate)


__all__ = ["elu", "gelu", "leaky_relu", "log_softmax", "relu", "sigmoid", "silu", "softmax",
           "softplus", "tanh"]
