"""RMSprop (Hinton's lecture 6e) and Adagrad (Duchi et al., 2011): per-parameter step sizes from
the history of squared gradients, with PyTorch's update rules and defaults."""

from __future__ import annotations

from typing import Any, ClassVar

from graphgrad.backend import Array
from graphgrad.optim.optimizer import Optimizer, _array_namespace, check_bool, check_real

__all__ = ["Adagrad", "RMSprop"]


class RMSprop(Optimizer):
    """``v ← α·v + (1−α)·g²;  w ← w − lr·g / (√v + ε)`` (torch.optim.RMSprop).

    Why: dividing by a running RMS of the gradient evens out step sizes across parameters and
    damps the zig-zag across a ravine. ``centered=True`` subtracts the squared running mean of
    ``g`` from ``v`` (a variance instead of a second moment). With ``momentum`` μ > 0 the scaled
    gradient feeds a velocity: ``b ← μ·b + g / (√v + ε);  w ← w − lr·b``. ``weight_decay``
    adds λ·w to the gradient first, as PyTorch does (weights only, as everywhere in graphgrad).
    """

    defaults: ClassVar[dict[str, Any]] = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8,
                                          "momentum": 0.0, "centered": False}

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        group["alpha"] = check_real(group["alpha"], "alpha", index, low=0.0, high=1.0)
        group["eps"] = check_real(group["eps"], "eps", index, low=0.0, low_open=True)
        group["momentum"] = check_real(group["momentum"], "momentum", index, low=0.0, high=1.0,
                                       high_open=True)
        group["centered"] = check_bool(group["centered"], "centered", index)

    def update(self, w: Array, g: Array, group: dict[str, Any], state: dict[str, Any]) -> Array:
        xp = _array_namespace(w)
        alpha = group["alpha"]
        square_avg = state.get("square_avg")
        square_avg = (1 - alpha) * g * g if square_avg is None else (
            alpha * square_avg + (1 - alpha) * g * g)
        state["square_avg"] = square_avg
        if group["centered"]:
            grad_avg = state.get("grad_avg")
            grad_avg = (1 - alpha) * g if grad_avg is None else alpha * grad_avg + (1 - alpha) * g
            state["grad_avg"] = grad_avg
            # a variance, >= 0 up to rounding; clamped so rounding can't give sqrt(-tiny) = nan
            square_avg = xp.maximum(square_avg - grad_avg * grad_avg, 0)
        scaled = g / (xp.sqrt(square_avg) + group["eps"])
        if group["momentum"]:
            buffer = state.get("momentum_buffer")
            scaled = scaled if buffer is None else group["momentum"] * buffer + scaled
            state["momentum_buffer"] = scaled
        return w - group["lr"] * scaled


class Adagrad(Optimizer):
    """``s ← s + g²;  w ← w − lr_t·g / (√s + ε)`` with ``lr_t = lr / (1 + (t−1)·lr_decay)``
    (torch.optim.Adagrad); ``s`` starts at ``initial_accumulator_value``.

    Why: rarely updated parameters keep large steps, frequent ones get small steps; the sum
    only grows, so every step size shrinks over training (which RMSprop's running average
    avoids). ``weight_decay`` adds λ·w to the gradient first (weights only).
    """

    defaults: ClassVar[dict[str, Any]] = {"lr": 1e-2, "lr_decay": 0.0, "eps": 1e-10,
                                          "initial_accumulator_value": 0.0}

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        group["lr_decay"] = check_real(group["lr_decay"], "lr_decay", index, low=0.0)
        group["eps"] = check_real(group["eps"], "eps", index, low=0.0, low_open=True)
        group["initial_accumulator_value"] = check_real(
            group["initial_accumulator_value"], "initial_accumulator_value", index, low=0.0)

    def update(self, w: Array, g: Array, group: dict[str, Any], state: dict[str, Any]) -> Array:
        xp = _array_namespace(w)
        step = int(state.get("step", 0)) + 1
        total = state.get("sum")
        total = group["initial_accumulator_value"] + g * g if total is None else total + g * g
        state.update(step=step, sum=total)
        lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        return w - lr * g / (xp.sqrt(total) + group["eps"])
