"""Loss modules (PyTorch's names): `criterion = nn.CrossEntropyLoss(); loss = criterion(scores,
labels)`. Each is a thin Module over the functional loss, with its `reduction` ("mean", "sum",
"none") and options; the functional loss checks them on the first call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad._tensor import Tensor
from graphgrad.declare import TensorLike
from graphgrad.composites.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from graphgrad.nn._arguments import Layer as Module  # constructors check their arguments

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss",
           "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss"]


class _Loss(Module):
    """`forward(input, target) = fn(input, target, reduction=..., **options)`."""

    fn: Callable[..., Tensor]
    options: tuple[str, ...] = ()

    def __init__(self, reduction: str = "mean", **options: Any) -> None:
        super().__init__()
        self.reduction = reduction
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, input: Tensor, target: TensorLike) -> Tensor:
        return type(self).fn(input, target, reduction=self.reduction,
                             **{name: getattr(self, name) for name in self.options})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}"
                         for name in ("reduction", *self.options))


def _weight_buffer(module: Module, weight: TensorLike | None) -> None:
    """PyTorch keeps a loss's class weights as a buffer: `.to()` moves them, state_dict saves."""
    if weight is not None and not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight))
    module.register_buffer("weight", weight)


class CrossEntropyLoss(_Loss):
    """softmax + negative log-likelihood of the target class, from raw scores (N, C); `weight`
    (C,) rescales each class, labels equal to `ignore_index` count nothing, `label_smoothing`
    mixes the targets with the uniform distribution (see `cross_entropy`)."""

    fn, options = staticmethod(cross_entropy), ("weight", "ignore_index", "label_smoothing")

    def __init__(self, weight: TensorLike | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)
        _weight_buffer(self, weight)


class NLLLoss(_Loss):
    """Negative log-likelihood of the target class, from log-probabilities (LogSoftmax);
    `weight` and `ignore_index` as in `CrossEntropyLoss`."""

    fn, options = staticmethod(nll_loss), ("weight", "ignore_index")

    def __init__(self, weight: TensorLike | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction, ignore_index=ignore_index)
        _weight_buffer(self, weight)


class MSELoss(_Loss):
    """Squared error (input - target)^2."""

    fn = staticmethod(mse_loss)


class L1Loss(_Loss):
    """Absolute error |input - target|."""

    fn = staticmethod(l1_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in (0, 1) (after a Sigmoid)."""

    fn = staticmethod(binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from raw scores: sigmoid and log fused without overflow."""

    fn = staticmethod(binary_cross_entropy_with_logits)


class HuberLoss(_Loss):
    """Squared error within `delta`, linear beyond (robust to outliers)."""

    fn, options = staticmethod(huber_loss), ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """Huber loss divided by `beta` (Fast R-CNN's box loss)."""

    fn, options = staticmethod(smooth_l1_loss), ("beta",)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction, beta=beta)


class KLDivLoss(_Loss):
    """KL divergence from log-probabilities `input` to the target distribution; use
    reduction="batchmean" for the true per-sample KL."""

    fn, options = staticmethod(kl_div), ("log_target",)

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction, log_target=log_target)
