"""Learning-rate schedules: a factor of each group's initial rate as a function of the epoch.

Call ``schedule.step()`` once per epoch (after the optimizer's steps). Each schedule is a pure
function `factor(epoch)` plus the bookkeeping that writes ``initial_lr * factor`` into every group,
so fine-tuning groups with different rates keep their ratio.

The lecture: "start with a large learning rate... higher rate of decrease towards the end of
training": `DecayTowardsEnd` does exactly that (slow at first, fastest at the end), `CosineDecay`
and `WarmRestarts` (SGDR) are the common smooth alternatives.
"""

from __future__ import annotations

import bisect
import copy
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from graphgrad.optim.optimizer import Optimizer

__all__ = [
    "CosineDecay",
    "DecayTowardsEnd",
    "ExponentialDecay",
    "LambdaLR",
    "MultiStepLR",
    "SchedulerState",
    "Schedule",
    "StepDecay",
    "WarmRestarts",
]


def _restore_like(template: Any, value: Any) -> Any:
    """`value` (as saved, or as `gg.load` returns it: 0-d arrays, arrays for lists) in the type
    of the attribute it replaces."""
    if isinstance(template, (bool, int, float, str)):
        return type(template)(value.item() if hasattr(value, "item") else value)
    if isinstance(template, Mapping):
        return {key: _restore_like(template.get(key, value[key]), value[key]) for key in value}
    if isinstance(template, (list, tuple)):
        values = list(value)
        like = list(template) if len(template) == len(values) else template[:1] * len(values)
        return type(template)(_restore_like(t, v) for t, v in zip(like, values))
    return value


class SchedulerState:
    """`state_dict()` / `load_state_dict()` for the schedulers, as PyTorch's: every attribute
    but the optimizer (and any function), so a run resumed from a checkpoint continues the same
    sequence of rates. Plain numbers, strings and lists: `gg.save(scheduler, path)` works
    without pickling, and `load_state_dict(gg.load(path))` takes what it returns."""

    _not_saved: tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's own state (epoch count, settings, a plateau's best value and
        counters): everything but the optimizer, which saves its own (its rates included)."""
        return {key: copy.deepcopy(value) for key, value in vars(self).items()
                if key not in self._not_saved}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore `state_dict()` into a scheduler built with the same optimizer; a key this
        scheduler does not have is an error, and nothing changes on error."""
        own = {key: value for key, value in vars(self).items() if key not in self._not_saved}
        unknown = sorted(set(state_dict) - set(own))
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: {unknown} are not part of "
                             f"its state (expected {sorted(own)}); was it saved from another "
                             f"scheduler?")
        restored = {key: _restore_like(own[key], value) for key, value in state_dict.items()}
        vars(self).update(restored)


class Schedule(SchedulerState):
    """Base: ``lr = initial_lr * factor(epoch)`` for every parameter group."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.epoch = 0
        self._apply()

    def factor(self, epoch: int) -> float:  # pragma: no cover - abstract
        """The multiplier of each group's initial lr at `epoch`: each schedule is this method."""
        raise NotImplementedError

    def _apply(self) -> None:
        scale = self.factor(self.epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * scale

    def step(self) -> None:
        """Advance one epoch and set the new rates."""
        self.epoch += 1
        self._apply()

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore `state_dict()` and set the rates of the restored epoch (they depend on the
        epoch alone, so this holds even where the optimizer's state was not restored)."""
        super().load_state_dict(state_dict)
        self._apply()

    @property
    def lrs(self) -> list[float]:
        """The current learning rate of each parameter group."""
        return [group["lr"] for group in self.optimizer.param_groups]


def _positive_int(name: str, value) -> int:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _fraction(name: str, value: float, open_top: bool = False) -> float:
    top_ok = value < 1.0 if open_top else value <= 1.0
    if not (0.0 <= value and top_ok):
        bound = "[0, 1)" if open_top else "[0, 1]"
        raise ValueError(f"{name} must be in {bound}, got {value!r}")
    return float(value)


def check_number(owner: str, name: str, value: Any, *, low: float = 0.0,
                 low_open: bool = False) -> float:
    """`value` as a float if it is a finite real number above `low`; else a ValueError naming
    the scheduler and the option (a string or NaN would fail later, mid-training)."""
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(
        value, bool) else math.nan
    if not (math.isfinite(number) and (number > low if low_open else number >= low)):
        raise ValueError(f"{owner}: {name} must be a finite number {'>' if low_open else '>='} "
                         f"{low:g}, got {value!r}")
    return number


def check_count(owner: str, name: str, value: Any, *, low: int = 0) -> int:
    """`value` as an int if it is an integer >= `low` (not a bool, not 1.5)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    """`value` if it is one of `choices`; else a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be {' or '.join(map(repr, choices))}, got "
                         f"{value!r}")
    return value


def per_group(owner: str, name: str, value: Any, optimizer: Any) -> list:
    """One `value` for every parameter group, or a list/tuple with one per group."""
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"{owner}: expected {groups} {name} values (one per parameter group), "
                         f"got {len(values)}")
    return values


class StepDecay(Schedule):
    """Multiply by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step_size", step_size)
        if gamma <= 0:
            raise ValueError(f"gamma must be positive, got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        return self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """Multiply by ``gamma`` every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        return self.gamma**epoch


class CosineDecay(Schedule):
    """Half a cosine from 1 down to ``min_factor`` over ``total`` epochs, then flat."""

    def __init__(self, optimizer: Optimizer, total: int, min_factor: float = 0.0) -> None:
        self.total = _positive_int("total", total)
        self.min_factor = _fraction("min_factor", min_factor)
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        t = min(epoch, self.total) / self.total
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * t))


class WarmRestarts(Schedule):
    """Cosine decay restarted every cycle (SGDR); each cycle is ``mult`` times longer."""

    def __init__(self, optimizer: Optimizer, period: int, mult: int = 1,
                 min_factor: float = 0.0) -> None:
        self.period = _positive_int("period", period)
        self.mult = _positive_int("mult", mult)
        self.min_factor = _fraction("min_factor", min_factor)
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        length, start = self.period, 0
        while epoch >= start + length:
            start += length
            length *= self.mult
        t = (epoch - start) / length
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * t))


class DecayTowardsEnd(Schedule):
    """``1 − (1 − min_factor)·(epoch/total)^power``: gentle early, decaying fastest at the end.

    With ``power=2`` the rate has lost only a quarter of its range at half time.
    """

    def __init__(self, optimizer: Optimizer, total: int, power: float = 2.0,
                 min_factor: float = 0.0) -> None:
        self.total = _positive_int("total", total)
        if power < 1:
            raise ValueError(f"power must be >= 1 (decay accelerating to the end), got {power!r}")
        self.power = float(power)
        self.min_factor = _fraction("min_factor", min_factor)
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        t = min(epoch, self.total) / self.total
        return 1 - (1 - self.min_factor) * t**self.power


class MultiStepLR(Schedule):
    """Multiply by ``gamma`` at each epoch listed in ``milestones`` (torch.optim.lr_scheduler
    .MultiStepLR): ``lr = initial_lr · gamma^(number of milestones <= epoch)``.

    Why: the classic recipe "divide the rate by 10 at epochs 30 and 60"; a milestone listed
    twice applies gamma twice, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int],
                 gamma: float = 0.1) -> None:
        self.milestones = sorted(check_count("MultiStepLR", "each of the milestones", m, low=1)
                                 for m in milestones)
        self.gamma = check_number("MultiStepLR", "gamma", gamma, low_open=True)
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        return self.gamma ** bisect.bisect_right(self.milestones, epoch)


class LambdaLR(Schedule):
    """``lr = initial_lr · lr_lambda(epoch)`` (torch.optim.lr_scheduler.LambdaLR); one function
    for all groups or a list with one per group.

    Why: any warm-up or decay rule you can write as a function of the epoch, without a class.
    `state_dict()` saves the epoch, not the functions (code is not state, and checkpoints are
    never pickled): build the LambdaLR with the same functions before `load_state_dict`.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]) -> None:
        functions = per_group("LambdaLR", "lr_lambda", lr_lambda, optimizer)
        for function in functions:
            if not callable(function):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got "
                                f"{function!r}")
        self.lr_lambdas = functions
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        """The first group's factor (each group has its own with a list of lambdas)."""
        return self._factor(self.lr_lambdas[0], epoch)

    @staticmethod
    def _factor(function: Callable[[int], float], epoch: int) -> float:
        value = function(epoch)
        if not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise ValueError(f"LambdaLR: lr_lambda({epoch}) must return a finite number >= 0, "
                             f"got {value!r}")
        return float(value)

    def _apply(self) -> None:
        for function, group in zip(self.lr_lambdas, self.optimizer.param_groups):
            group["lr"] = group["initial_lr"] * self._factor(function, self.epoch)
