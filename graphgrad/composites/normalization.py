"""Normalisation: batch norm, layer norm, group norm (the functional forms behind gg.nn's layers).

All three standardise `x` over some axes, ``x̂ = (x - mean) / sqrt(var + eps)`` (biased variance),
then scale and shift by the optional per-feature `weight` and `bias`. The standardisation is one
composite per op: a fused node whose backward is the closed form of the lecture notes (cs231n's
batch-norm backward, for m values along the axes):

    dx = (1 / sqrt(var + eps)) * (dx̂ - mean(dx̂) - x̂ * mean(dx̂ * x̂))

and a gate expansion (mean, subtract, square, mean, + eps, sqrt, 1/x, multiply) that draws the
same computation gate by gate under `gg.expand_composites()`. The tests prove the two equal, and
the closed form is written with gates, so second derivatives work on either path. The affine
part is two ordinary gates after the composite (its gradients are sum(g * x̂) and sum(g)).
"""

from __future__ import annotations

from .. import _tensor as _tensor_module
from .._tensor import Tensor
from ..declare import declare
from ..errors import ArgumentError, ShapeError
from ..ops import mean, reciprocal, reshape, sqrt
from .registry import composite

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _standardize_forward(xp, x, *, axes, eps):
    centered = x - xp.mean(x, axis=axes, keepdims=True)
    variance = xp.mean(centered * centered, axis=axes, keepdims=True)
    return centered / xp.sqrt(variance + eps)


def _standardize_expand(x, *, axes, eps):
    """The lecture's gates: mean, subtract, square, mean, + eps, sqrt, 1/x, multiply."""
    centered = x - mean(x, axis=axes, keepdims=True)
    variance = mean(centered * centered, axis=axes, keepdims=True)
    return centered * reciprocal(sqrt(variance + eps))


def _standardize_vjp(g, out, x, *, axes, eps):
    """The closed-form backward: out is x̂; 1/sqrt(var + eps) is rebuilt from x with gates (so
    the gradient is itself differentiable)."""
    centered = x - mean(x, axis=axes, keepdims=True)
    inv_std = reciprocal(sqrt(mean(centered * centered, axis=axes, keepdims=True) + eps))
    return (inv_std * (g - mean(g, axis=axes, keepdims=True)
                       - out * mean(g * out, axis=axes, keepdims=True)),)


def _standardizer(name: str, over: str):
    return composite(
        name, symbol=name, expand=_standardize_expand, forward=_standardize_forward,
        vjp=_standardize_vjp, floating_only=True,
        doc=f"(x - mean) / sqrt(var + eps) over {over} (biased variance); closed-form backward "
            f"1/sqrt(var + eps) * (g - mean(g) - x̂ * mean(g * x̂)).",
    )


_batch_standardize = _standardizer("batch_norm", "the batch and spatial axes (all but axis 1)")
_layer_standardize = _standardizer("layer_norm", "the trailing normalized_shape axes")
_group_standardize = _standardizer("group_norm", "each group of channels (and space)")


def _check_eps(op: str, eps: float) -> float:
    if not eps >= 0:
        raise ArgumentError(f"{op}: eps must be >= 0 (default 1e-5), got {eps!r}")
    return float(eps)


def _check_feature_tensor(op: str, what: str, t: Tensor | None, shape: tuple[int, ...]) -> None:
    if t is not None and t.shape != shape:
        raise ShapeError(f"{op}: {what} must have shape {shape} (one value per feature), got "
                         f"{t.shape}")


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape) -> Tensor:
    if weight is not None:
        y = y * (weight if weight.shape == shape else reshape(weight, shape))
    if bias is not None:
        y = y + (bias if bias.shape == shape else reshape(bias, shape))
    return y


def _update_running(running: Tensor, batch, momentum: float) -> None:
    """running <- (1 - momentum) * running + momentum * batch, in place, outside the graph."""
    new = (1.0 - momentum) * running.data + momentum * batch
    running.data = running.device.asarray(new, dtype=running.data.dtype)


@declare
def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over (N, C, *) inputs, per channel C (torch.nn.functional.batch_norm).

    training=True: standardise with this batch's mean and biased variance over every axis but 1
    (N for (N, C), N, H, W for images) and, when given, update the running statistics in place:
    running_mean <- (1 - momentum) running_mean + momentum mean, and running_var the same with
    the unbiased variance (as PyTorch). training=False: use the running statistics. Gradient:
    the closed-form batch-norm backward (module docstring); weight and bias get sum(g * x̂) and
    sum(g) over the same axes.
    """
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C) or (N, C, *), got shape {x.shape}")
    eps = _check_eps("batch_norm", eps)
    channels = x.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_feature_tensor("batch_norm", what, t, (channels,))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // channels
        if count < 2:
            raise ShapeError(f"batch_norm: training needs more than 1 value per channel to "
                             f"compute a variance, got input shape {x.shape}")
        if not 0.0 <= momentum <= 1.0:
            raise ArgumentError(f"batch_norm: momentum must be in [0, 1] (default 0.1), got "
                                f"{momentum!r}")
        y = _batch_standardize(x, axes=axes, eps=eps)
        if running_mean is not None or running_var is not None:
            tracer = _tensor_module._tracer
            if tracer is not None and tracer.tracing():
                raise ArgumentError(
                    "batch_norm: training=True updates running_mean and running_var in place, "
                    "which gg.compile cannot replay (later calls would skip it); compile in eval "
                    "mode, pass running statistics None (track_running_stats=False), or train "
                    "without compile")
            xp = x.device.xp
            batch_mean = xp.mean(x.data, axis=axes, keepdims=True)
            centered = x.data - batch_mean
            if running_mean is not None:
                _update_running(running_mean, xp.reshape(batch_mean, (channels,)), momentum)
            if running_var is not None:
                unbiased = xp.sum(centered * centered, axis=axes) / (count - 1)
                _update_running(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ArgumentError("batch_norm: training=False uses the running statistics, so "
                                "running_mean and running_var must be Tensors (or pass "
                                "training=True to use the batch's own)")
        y = (x - reshape(running_mean, shape)) * reciprocal(sqrt(reshape(running_var, shape)
                                                                  + eps))
    return _affine(y, weight, bias, shape)


@declare
def layer_norm(x: Tensor, normalized_shape: int | tuple[int, ...], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the trailing `normalized_shape` axes of each sample
    (torch.nn.functional.layer_norm): no batch statistics, the same in training and eval.
    weight and bias have shape normalized_shape. Gradient: the closed-form backward (module
    docstring) over those axes."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} must be the trailing axes of the "
                         f"input, got input shape {x.shape}")
    eps = _check_eps("layer_norm", eps)
    _check_feature_tensor("layer_norm", "weight", weight, shape)
    _check_feature_tensor("layer_norm", "bias", bias, shape)
    y = _layer_standardize(x, axes=tuple(range(x.ndim - k, x.ndim)), eps=eps)
    return _affine(y, weight, bias, shape)


@declare
def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (torch.nn.functional.group_norm): the C channels of each sample of
    (N, C, *) split into num_groups groups of C/num_groups consecutive channels, each group
    standardised over its channels and space. num_groups=1 is layer norm over (C, *), num_groups
    = C is instance norm. weight and bias have shape (C,). Gradient: the closed-form backward
    over each group."""
    if x.ndim < 2:
        raise ShapeError(f"group_norm: input must be (N, C, *), got shape {x.shape}")
    channels = x.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ArgumentError(f"group_norm: num_groups must be a positive divisor of the {channels} "
                            f"channels of input shape {x.shape}, got {num_groups}")
    eps = _check_eps("group_norm", eps)
    _check_feature_tensor("group_norm", "weight", weight, (channels,))
    _check_feature_tensor("group_norm", "bias", bias, (channels,))
    grouped = reshape(x, (x.shape[0], num_groups, -1))
    y = reshape(_group_standardize(grouped, axes=(2,), eps=eps), x.shape)
    return _affine(y, weight, bias, (1, channels) + (1,) * (x.ndim - 2))
