"""Stochastic gradient descent with (Nesterov) momentum: the lecture's workhorse for CNNs."""

from __future__ import annotations

from typing import Any, ClassVar

from graphgrad.backend import Array
from graphgrad.optim.optimizer import Optimizer, check_bool, check_real

__all__ = ["SGD"]


class SGD(Optimizer):
    """``v ← μ·v + g;  w ← w − lr·v``  (or ``w ← w − lr·(g + μ·v)`` with ``nesterov=True``).

    With ``momentum=0`` this is plain ``w ← w − lr·g``. The velocity is kept per parameter in
    ``optimizer.state`` and saved by `state_dict()`.
    """

    defaults: ClassVar[dict[str, Any]] = {"lr": None, "momentum": 0.0, "nesterov": False}

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        group["momentum"] = check_real(group["momentum"], "momentum", index, low=0.0, high=1.0,
                                       high_open=True)
        group["nesterov"] = check_bool(group["nesterov"], "nesterov", index)
        if group["nesterov"] and group["momentum"] == 0:
            raise ValueError(f"parameter group {index}: nesterov=True needs momentum > 0")

    def update(self, w: Array, g: Array, group: dict[str, Any], state: dict[str, Any]) -> Array:
        momentum = group["momentum"]
        if momentum:
            velocity = state.get("velocity")
            velocity = g if velocity is None else momentum * velocity + g
            state["velocity"] = velocity
            g = g + momentum * velocity if group["nesterov"] else velocity
        return w - group["lr"] * g
