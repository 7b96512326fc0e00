"""Adam: per-parameter step sizes from running moments of the gradient (Kingma & Ba, 2015)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from graphgrad.optim.optimizer import Optimizer, _array_namespace, check_real

__all__ = ["Adam"]


class Adam(Optimizer):
    """``m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − lr·m̂ / (√v̂ + ε)``

    with the bias corrections ``m̂ = m / (1−β1ᵗ)`` and ``v̂ = v / (1−β2ᵗ)``. ``weight_decay``
    adds λ·w to the gradient (an L2 penalty, as in the lecture, not decoupled AdamW decay).
    """

    defaults: ClassVar[dict[str, Any]] = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        betas = group["betas"]
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"parameter group {index}: betas must be a pair (beta1, beta2), got "
                             f"{betas!r}")
        group["betas"] = tuple(check_real(beta, f"betas[{i}]", index, low=0.0, high=1.0,
                                          high_open=True) for i, beta in enumerate(betas))
        group["eps"] = check_real(group["eps"], "eps", index, low=0.0, low_open=True)

    def update(self, w, g, group, state):
        beta1, beta2 = (float(b) for b in group["betas"])
        step = int(state.get("step", 0)) + 1
        m = state.get("m")
        v = state.get("v")
        m = (1 - beta1) * g if m is None else beta1 * m + (1 - beta1) * g
        v = (1 - beta2) * g * g if v is None else beta2 * v + (1 - beta2) * g * g
        state.update(step=step, m=m, v=v)
        xp = _array_namespace(w)
        correction1 = 1 - beta1**step
        step_size = group["lr"] * math.sqrt(1 - beta2**step) / correction1
        return w - step_size * m / (xp.sqrt(v) + group["eps"] * math.sqrt(1 - beta2**step))
