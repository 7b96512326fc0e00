"""Adam and AdamW: per-parameter step sizes from running moments of the gradient (Kingma & Ba,
2015; Loshchilov & Hutter, 2019 for AdamW's decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from graphgrad.backend import Array
from graphgrad.optim.optimizer import Optimizer, _array_namespace, check_bool, check_real

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """``m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − lr·m̂ / (√v̂ + ε)``

    with the bias corrections ``m̂ = m / (1−β1ᵗ)`` and ``v̂ = v / (1−β2ᵗ)`` (torch.optim.Adam).
    ``amsgrad=True`` divides by the largest v̂ so far instead, so a step never grows because the
    gradient's scale dropped. ``weight_decay`` adds λ·w to the gradient (an L2 penalty, as in the
    lecture; `AdamW` decouples it).
    """

    defaults: ClassVar[dict[str, Any]] = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                          "amsgrad": False}

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        betas = group["betas"]
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"parameter group {index}: betas must be a pair (beta1, beta2), got "
                             f"{betas!r}")
        group["betas"] = tuple(check_real(beta, f"betas[{i}]", index, low=0.0, high=1.0,
                                          high_open=True) for i, beta in enumerate(betas))
        group["eps"] = check_real(group["eps"], "eps", index, low=0.0, low_open=True)
        group["amsgrad"] = check_bool(group["amsgrad"], "amsgrad", index)

    def update(self, w: Array, g: Array, group: dict[str, Any], state: dict[str, Any]) -> Array:
        beta1, beta2 = (float(b) for b in group["betas"])
        step = int(state.get("step", 0)) + 1
        m = state.get("m")
        v = state.get("v")
        m = (1 - beta1) * g if m is None else beta1 * m + (1 - beta1) * g
        v = (1 - beta2) * g * g if v is None else beta2 * v + (1 - beta2) * g * g
        state.update(step=step, m=m, v=v)
        xp = _array_namespace(w)
        if group["amsgrad"]:
            v = v if state.get("v_max") is None else xp.maximum(state["v_max"], v)
            state["v_max"] = v
        correction1 = 1 - beta1**step
        step_size = group["lr"] * math.sqrt(1 - beta2**step) / correction1
        return w - step_size * m / (xp.sqrt(v) + group["eps"] * math.sqrt(1 - beta2**step))


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): ``w ← w·(1 − lr·λ)``, then the
    Adam step on the plain gradient.

    Why: with Adam, an L2 term in the gradient is divided by √v̂ like everything else, so
    weights with large gradients are barely decayed; decoupled decay shrinks every weight by the
    same factor. As everywhere in graphgrad, the decay applies to weights (two or more
    dimensions), not biases; PyTorch decays whatever is in the group.
    """

    defaults: ClassVar[dict[str, Any]] = {**Adam.defaults, "weight_decay": 1e-2}

    @staticmethod
    def _penalty_gradient(w, g, group):
        """Only ``l1`` enters the gradient; ``weight_decay`` is applied in `update`."""
        return Optimizer._penalty_gradient(w, g, {**group, "weight_decay": 0.0})

    def update(self, w: Array, g: Array, group: dict[str, Any], state: dict[str, Any]) -> Array:
        if group["weight_decay"] and w.ndim >= 2:
            w = w * (1 - group["lr"] * group["weight_decay"])
        return super().update(w, g, group, state)
