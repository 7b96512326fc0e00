"""OneCycleLR: Smith's 1cycle policy, stepped once per batch (PyTorch's rules and defaults)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from graphgrad.optim.optimizer import Optimizer
from graphgrad.optim.schedules import Schedule, check_choice, check_count, check_number, per_group

__all__ = ["OneCycleLR"]


def _positive(name: str, value: Any) -> float:
    return check_number("OneCycleLR", name, value, low_open=True)


def _positive_int(name: str, value: Any) -> int:
    return check_count("OneCycleLR", name, value, low=1)


class OneCycleLR(Schedule):
    """Rate from ``max_lr/div_factor`` up to ``max_lr`` over the first ``pct_start`` of
    ``total_steps``, then down to ``initial/final_div_factor``; momentum (SGD's, RMSprop's, or
    Adam's β1) moves the opposite way between ``max_momentum`` and ``base_momentum``
    (torch.optim.lr_scheduler.OneCycleLR). ``three_phase=True`` returns to the initial rate
    symmetrically before the final annealing.

    Why: a short warm-up to a large rate, then annealing, trains fast ("super-convergence").
    Call `step()` after every batch (``total_steps = epochs · steps_per_epoch``), not per epoch.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = (_positive_int("epochs", epochs)
                           * _positive_int("steps_per_epoch", steps_per_epoch))
        self.total_steps = _positive_int("total_steps", total_steps)
        groups = optimizer.param_groups
        self.max_lrs = [_positive("max_lr", value)
                        for value in per_group("OneCycleLR", "max_lr", max_lr, optimizer)]
        div, final_div = _positive("div_factor", div_factor), _positive(
            "final_div_factor", final_div_factor)
        self.initial_lrs = [value / div for value in self.max_lrs]
        self.min_lrs = [value / final_div for value in self.initial_lrs]
        if isinstance(pct_start, bool) or not isinstance(pct_start, numbers.Real) or not (
                0 < pct_start < 1):
            raise ValueError(f"OneCycleLR: pct_start must be in (0, 1), got {pct_start!r}")
        self.anneal_strategy: str = check_choice("OneCycleLR", "anneal_strategy",
                                                 anneal_strategy, ("cos", "linear"))
        # phases (end step, start and end as (rate, momentum) pick), as PyTorch builds them
        up = float(pct_start * self.total_steps) - 1
        self.phases: list[tuple[float, str, str, str, str]]
        if three_phase:
            self.phases = [(up, "initial", "max", "max", "base"),
                           (2 * up, "max", "initial", "base", "max"),
                           (self.total_steps - 1, "initial", "min", "max", "max")]
        else:
            self.phases = [(up, "initial", "max", "max", "base"),
                           (self.total_steps - 1, "max", "min", "base", "max")]
        starts = [0.0] + [phase[0] for phase in self.phases[:-1]]
        if any(phase[0] <= start for phase, start in zip(self.phases, starts)):
            raise ValueError(f"OneCycleLR: pct_start={pct_start} with total_steps="
                             f"{self.total_steps} leaves a phase with no steps; use more steps "
                             f"or a pct_start further from 0 and 1")
        self.cycle_momentum: bool = bool(cycle_momentum)
        self.momenta: dict[str, float] = {}
        if self.cycle_momentum:
            if not all("momentum" in group or "betas" in group for group in groups):
                raise ValueError(f"OneCycleLR: {type(optimizer).__name__} has no momentum or "
                                 f"betas to cycle; pass cycle_momentum=False")
            self.momenta = {"base": _positive("base_momentum", base_momentum),
                            "max": _positive("max_momentum", max_momentum)}
            if not self.momenta["base"] <= self.momenta["max"] < 1:
                raise ValueError(f"OneCycleLR: need base_momentum <= max_momentum < 1, got "
                                 f"{base_momentum!r} and {max_momentum!r}")
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def values(self, step: int) -> tuple[list[float], float | None]:
        """The per-group rates and the momentum at `step` (0 = after construction)."""
        start = 0.0
        for index, phase in enumerate(self.phases):
            if step <= phase[0] or index == len(self.phases) - 1:
                break
            start = phase[0]
        end, lr_from, lr_to, m_from, m_to = phase
        pct = (step - start) / (end - start)
        ends = {"initial": self.initial_lrs, "max": self.max_lrs, "min": self.min_lrs}
        lrs = [self._anneal(a, b, pct) for a, b in zip(ends[lr_from], ends[lr_to])]
        momentum = (self._anneal(self.momenta[m_from], self.momenta[m_to], pct)
                    if self.cycle_momentum else None)
        return lrs, momentum

    def factor(self, epoch: int) -> float:
        """The first group's rate relative to its max_lr."""
        return self.values(epoch)[0][0] / self.max_lrs[0]

    def step(self) -> None:
        """Advance one batch; stepping past ``total_steps`` is an error, as in PyTorch."""
        if self.epoch + 1 > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {self.epoch + 1} times; total_steps is "
                             f"{self.total_steps}")
        super().step()

    def _apply(self) -> None:
        lrs, momentum = self.values(self.epoch)
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
            if momentum is None:
                continue
            if "betas" in group:
                group["betas"] = (momentum, *tuple(group["betas"])[1:])
            else:
                group["momentum"] = momentum
