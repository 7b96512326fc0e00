"""Losses, each built from composites and gates and drawn as one collapsible unit."""

from __future__ import annotations

import math

import numpy as np

from ..backend import dtype_name, to_numpy
from ..errors import ShapeError
from ..ops import equal, exp, log, maximum, mean
from ..ops import sum as reduce_sum
from ..ops.elementwise import abs as elementwise_abs
from ..ops.elementwise import where_defined
from .._primitive import constant_like, primitive
from .._tensor import Tensor
from .activations import log_softmax
from .composite import composite

_REDUCTIONS = ("mean", "sum", "none")


def _one_hot_forward(xp, labels, *, classes: int, dtype):
    if labels.size and (int(xp.min(labels)) < 0 or int(xp.max(labels)) >= classes):
        raise ValueError(f"cross_entropy: labels must lie in [0, {classes - 1}] for {classes} "
                         f"classes")
    axis_shape = (1, classes) + (1,) * (labels.ndim - 1)
    hits = xp.expand_dims(labels, axis=1) == xp.reshape(xp.arange(classes), axis_shape)
    return xp.astype(hits, dtype)


# a gate, not a constant made on the host: gg.compile's generated code uses each batch's labels
one_hot = primitive("one_hot", symbol="one-hot", forward=_one_hot_forward, vjp=None,
                    register=False, doc="integer labels (N, *d) as one-hot rows (N, C, *d)")


def _reduce(values: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return mean(values)
    if reduction == "sum":
        return reduce_sum(values)
    if reduction == "none":
        return values
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _target_distribution(logits: Tensor, targets) -> Tensor:
    """Integer labels (N, *d) become one-hot along axis 1; (N, C, *d) targets are used as given."""
    if isinstance(targets, Tensor) and targets.shape == logits.shape:
        return targets
    labels = to_numpy(targets.data if isinstance(targets, Tensor) else np.asarray(targets))
    if labels.shape == logits.shape and labels.dtype.kind == "f":
        return constant_like(labels.astype(dtype_name(logits.dtype)), logits)
    classes = logits.shape[1]
    label_shape = logits.shape[:1] + logits.shape[2:]
    if labels.shape != label_shape or labels.dtype.kind not in "iu":
        raise ShapeError(
            f"cross_entropy: targets must be integer labels of shape {label_shape} or a "
            f"distribution of shape {logits.shape}; got shape {labels.shape} and dtype "
            f"{labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {classes - 1}] for {classes} classes; "
            f"got values from {labels.min()} to {labels.max()}"
        )
    if isinstance(targets, Tensor) and targets.device is logits.device:
        return one_hot(targets, classes=classes, dtype=logits.data.dtype)
    rows = np.eye(classes, dtype=dtype_name(logits.dtype))[labels]      # (N, *d, C)
    return constant_like(np.ascontiguousarray(np.moveaxis(rows, -1, 1)), logits)


def _cross_entropy(logits: Tensor, targets, reduction: str = "mean") -> Tensor:
    if logits.ndim < 2:
        raise ShapeError(f"cross_entropy: logits must have shape (N, C) or (N, C, d1, ...), "
                         f"got {logits.shape}")
    distribution = _target_distribution(logits, targets)
    per_sample = -reduce_sum(distribution * log_softmax(logits, axis=1), axis=1)
    return _reduce(per_sample, reduction, "cross_entropy")


cross_entropy = composite(
    "cross_entropy", expand=_cross_entropy,
    doc="Softmax cross-entropy of logits (N, C) against integer labels (N,) or target "
        "distributions (N, C) such as one-hot rows; stable for large logits (log-sum-exp). "
        "As in PyTorch, logits (N, C, d1, ...) take labels (N, d1, ...), one per position "
        "(segmentation), and 'mean' averages over every position.",
)


def _mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    target_shape = tuple(target.shape) if isinstance(target, Tensor) else np.shape(target)
    if target_shape != input.shape and target_shape != ():  # (N, 1) - (N,) would broadcast to (N, N)
        raise ShapeError(f"mse_loss: input shape {input.shape} and target shape {target_shape} "
                         f"differ; reshape one so they match")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


mse_loss = composite(
    "mse_loss", expand=_mse_loss,
    doc="Mean squared error (PyTorch's meaning). The notes' E = ½Σ(t−y)² is "
        "`0.5 * gg.mse_loss(y, t, reduction='sum')`.",
)


def _binary_target(op: str, what: str, scores: Tensor, target) -> Tensor:
    """0/1 targets as a constant of the scores' dtype and device, with the same shape."""
    if not isinstance(target, Tensor):
        target = constant_like(np.asarray(target, dtype=dtype_name(scores.dtype)), scores)
    if target.shape != scores.shape:
        raise ShapeError(f"{op}: {what} {scores.shape} and targets {target.shape} differ; "
                         "give one target per element")
    return target


# PyTorch's floor for the logs of binary_cross_entropy: log(0) counts as -100, so a probability
# of exactly 0 or 1 gives a finite loss, and every other one its exact log (an `eps` added inside
# the log, as before, shifted the loss of probabilities within 1e-12 of 0 or 1 by several units)
_LOG_FLOOR = -100.0


def _floored_log(p: Tensor) -> Tensor:
    """log(p), or -100 (gradient 0) where p <= e^-100. The test is "not at or below the floor"
    rather than "above it": NaN fails every comparison and must reach the log (NaN in, NaN out),
    not the floor (which made NaN probabilities a finite loss of 100)."""
    above_floor = equal(p <= math.exp(_LOG_FLOOR), False)
    return where_defined(above_floor, log, p, _LOG_FLOOR)


def _binary_cross_entropy(probs: Tensor, target, reduction: str = "mean") -> Tensor:
    target = _binary_target("binary_cross_entropy", "probabilities", probs, target)
    losses = -(target * _floored_log(probs) + (1.0 - target) * _floored_log(1.0 - probs))
    return _reduce(losses, reduction, "binary_cross_entropy")


binary_cross_entropy = composite(
    "binary_cross_entropy", expand=_binary_cross_entropy,
    doc="Cross-entropy of probabilities in [0, 1] against targets in [0, 1], each log floored "
        "at -100 as in PyTorch; for logits prefer binary_cross_entropy_with_logits, which is "
        "stable.",
)


def _bce_with_logits(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    target = _binary_target("binary_cross_entropy_with_logits", "logits", logits, target)
    # max(x, 0) - x t + log(1 + exp(-|x|)): exp never overflows
    losses = maximum(logits, 0.0) - logits * target + log(1.0 + exp(-elementwise_abs(logits)))
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


binary_cross_entropy_with_logits = composite(
    "binary_cross_entropy_with_logits", expand=_bce_with_logits,
    doc="Binary cross-entropy of raw scores: sigmoid and log fused for stability.",
)
