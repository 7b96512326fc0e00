"""Activation modules: each a thin Module over one functional op, with PyTorch's names and
defaults (ReLU, Sigmoid, Tanh, Softmax, LogSoftmax, LeakyReLU, ELU, GELU, SiLU, Softplus), so a
model can be written as a `Sequential` and the graph shows the op's node inside the module's
scope. Arguments are checked by the functional op (its declaration) on the first call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphgrad._tensor import Tensor
from graphgrad.composites.activations import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from graphgrad.nn._arguments import Layer

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax",
           "Softplus", "Tanh"]


class _Activation(Layer):
    """`forward(x) = fn(x, **{name: self.name for name in options})`."""

    fn: Callable[..., Tensor]
    options: tuple[str, ...] = ()

    def __init__(self, **options: Any) -> None:
        super().__init__()
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).fn(x, **{name: getattr(self, name) for name in self.options})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.options)


class ReLU(_Activation):
    """max(x, 0) (gg.relu)."""

    fn = staticmethod(relu)


class Sigmoid(_Activation):
    """1 / (1 + e^-x) (gg.sigmoid)."""

    fn = staticmethod(sigmoid)


class Tanh(_Activation):
    """tanh(x) (gg.tanh)."""

    fn = staticmethod(tanh)


class SiLU(_Activation):
    """x * sigmoid(x), "swish" (silu)."""

    fn = staticmethod(silu)


class Softmax(_Activation):
    """softmax along `dim` (default -1, the class axis of (N, C) scores; PyTorch's dim=None
    guesses an axis from the rank: say which one)."""

    fn, options = staticmethod(softmax), ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim=dim)


class LogSoftmax(_Activation):
    """log(softmax) along `dim` without overflow (pairs with NLLLoss)."""

    fn, options = staticmethod(log_softmax), ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim=dim)


class LeakyReLU(_Activation):
    """x for x > 0, negative_slope * x elsewhere."""

    fn, options = staticmethod(leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(_Activation):
    """x for x > 0, alpha * (e^x - 1) elsewhere."""

    fn, options = staticmethod(elu), ("alpha",)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class GELU(_Activation):
    """x * Φ(x); approximate="tanh" for the tanh formula."""

    fn, options = staticmethod(gelu), ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)


class Softplus(_Activation):
    """log(1 + e^(beta x)) / beta, linear above `threshold`."""

    fn, options = staticmethod(softplus), ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)
