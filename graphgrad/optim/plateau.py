"""ReduceLROnPlateau: lower the rate when a monitored metric stops improving (PyTorch's rules)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from graphgrad.optim.optimizer import Optimizer
from graphgrad.optim.schedules import (SchedulerState, check_choice, check_count, check_number,
                                       per_group)

NAME = "ReduceLROnPlateau"

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(SchedulerState):
    """Multiply every group's rate by ``factor`` once the metric passed to ``step(metric)`` has
    not improved for more than ``patience`` epochs (torch.optim.lr_scheduler.ReduceLROnPlateau).

    Why: the notes' "decrease the rate when the loss stops going down", driven by the
    validation loss instead of a fixed calendar. Improvement means beating the best value by
    more than ``threshold`` (relative: ``best·(1 − threshold)`` in ``mode="min"``; absolute
    with ``threshold_mode="abs"``). After a reduction, ``cooldown`` epochs pass before bad
    epochs count again; rates never go below ``min_lr`` and a change smaller than ``eps`` is
    skipped. Unlike the epoch schedules, `step` needs the metric, e.g. the validation loss;
    `fit(scheduler=...)` passes it the epoch's validation loss (the training loss without
    validation data). `state_dict()` keeps the best value and the counters; the rates
    themselves are the optimizer's state (restore both to resume).
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0.0, eps: float = 1e-8) -> None:
        self.factor = check_number(NAME, "factor", factor)
        if self.factor >= 1.0:
            raise ValueError(f"{NAME}: factor must be < 1 (it multiplies the rate), got "
                             f"{factor!r}")
        self.optimizer = optimizer
        self.mode = check_choice(NAME, "mode", mode, ("min", "max"))
        self.threshold_mode = check_choice(NAME, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.patience = check_count(NAME, "patience", patience)
        self.cooldown = check_count(NAME, "cooldown", cooldown)
        self.threshold = check_number(NAME, "threshold", threshold)
        self.min_lrs = [check_number(NAME, "min_lr", value)
                        for value in per_group(NAME, "min_lr", min_lr, optimizer)]
        self.eps = check_number(NAME, "eps", eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.epoch = 0

    def is_better(self, value: float, best: float) -> bool:
        """Whether `value` improves on `best` by more than the threshold."""
        if self.mode == "min":
            bar = best * (1 - self.threshold) if self.threshold_mode == "rel" else (
                best - self.threshold)
            return value < bar
        bar = best * (1 + self.threshold) if self.threshold_mode == "rel" else (
            best + self.threshold)
        return value > bar

    def step(self, metric: float | None = None) -> None:
        """Record one epoch's metric (a number, or a 0-d array/Tensor) and reduce if due."""
        if metric is None:
            raise TypeError("ReduceLROnPlateau.step needs the monitored metric, e.g. "
                            "scheduler.step(val_loss); the epoch schedules take no argument")
        value = float(getattr(metric, "item", lambda: metric)())
        self.epoch += 1
        if self.is_better(value, self.best):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown are ignored
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    @property
    def lrs(self) -> list[float]:
        """The current learning rate of each parameter group."""
        return [group["lr"] for group in self.optimizer.param_groups]
