"""Every scheduler's state_dict()/load_state_dict(): a run interrupted, saved (also through
gg.save/gg.load), rebuilt and resumed gives the rates (and cycled momenta) of a run that was
never interrupted."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.nn import Parameter
from graphgrad.optim import (
    SGD,
    Adam,
    CosineDecay,
    DecayTowardsEnd,
    ExponentialDecay,
    LambdaLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepDecay,
    WarmRestarts,
)

STEPS, CUT = 12, 5
# a loss that improves, stalls, improves a little, stalls: the plateau's counters matter at CUT
METRICS = [1.0, 0.8, 0.8, 0.81, 0.79, 0.795, 0.8, 0.8, 0.5, 0.5, 0.5, 0.5]

SCHEDULERS = {
    "StepDecay": lambda opt: StepDecay(opt, 3, gamma=0.5),
    "ExponentialDecay": lambda opt: ExponentialDecay(opt, 0.9),
    "CosineDecay": lambda opt: CosineDecay(opt, total=10, min_factor=0.1),
    "WarmRestarts": lambda opt: WarmRestarts(opt, period=2, mult=2),
    "DecayTowardsEnd": lambda opt: DecayTowardsEnd(opt, total=10),
    "MultiStepLR": lambda opt: MultiStepLR(opt, [2, 4, 7], gamma=0.5),
    "LambdaLR": lambda opt: LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: 1.0 / (1 + e)]),
    "OneCycleLR": lambda opt: OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=STEPS),
    "OneCycleLR-adam": lambda opt: OneCycleLR(opt, max_lr=0.3, total_steps=STEPS,
                                              three_phase=True, anneal_strategy="linear"),
    "ReduceLROnPlateau": lambda opt: ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1,
                                                       min_lr=[0.0, 0.004]),
}


def _optimizer(name):
    groups = [{"params": [Parameter(np.zeros(2))], "lr": 0.1},
              {"params": [Parameter(np.zeros(1))], "lr": 0.01}]
    if name.endswith("adam"):
        return Adam(groups, lr=0.1)
    return SGD(groups, lr=0.1, momentum=0.9)


def _advance(scheduler, start, stop, record):
    for i in range(start, stop):
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(METRICS[i])
        else:
            scheduler.step()
        record.append([(g["lr"], g.get("momentum"), tuple(g.get("betas", ())))
                       for g in scheduler.optimizer.param_groups])


@pytest.mark.parametrize("through_file", [False, True])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_a_resumed_run_continues_the_uninterrupted_sequence(name, through_file, tmp_path):
    make = SCHEDULERS[name]
    whole: list = []
    _advance(make(_optimizer(name)), 0, STEPS, whole)

    first_opt = _optimizer(name)
    first = make(first_opt)
    resumed: list = []
    _advance(first, 0, CUT, resumed)
    optimizer_state, state = first_opt.state_dict(), first.state_dict()
    if through_file:
        gg.save(first, tmp_path / "scheduler.npz")
        state = gg.load(tmp_path / "scheduler.npz")
    second_opt = _optimizer(name)
    second = make(second_opt)
    second_opt.load_state_dict(optimizer_state)
    second.load_state_dict(state)
    _advance(second, CUT, STEPS, resumed)
    assert resumed == whole

    fresh: list = []  # the state is what makes the difference: a fresh scheduler diverges
    restarted_opt = _optimizer(name)
    restarted_opt.load_state_dict(optimizer_state)
    _advance(make(restarted_opt), CUT, STEPS, fresh)
    assert fresh != whole[CUT:]


def test_the_state_leaves_out_the_optimizer_and_the_functions():
    opt = _optimizer("sgd")
    scheduler = LambdaLR(opt, lambda e: 0.5 ** e)
    scheduler.step()
    state = scheduler.state_dict()
    assert state == {"epoch": 1}
    plateau = ReduceLROnPlateau(opt, patience=3)
    plateau.step(2.0)
    plateau_state = plateau.state_dict()
    assert "optimizer" not in plateau_state
    assert plateau_state["best"] == 2.0 and plateau_state["num_bad_epochs"] == 0
    plateau_state["best"] = 5.0   # a copy: changing it leaves the scheduler alone
    assert plateau.best == 2.0


def test_loading_a_state_from_another_scheduler_is_refused_and_changes_nothing():
    step = StepDecay(_optimizer("sgd"), 3)
    for _ in range(4):
        step.step()
    plateau = ReduceLROnPlateau(_optimizer("sgd"))
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.load_state_dict: \['gamma', "
                                         r"'step_size'\] are not part of its state"):
        plateau.load_state_dict(step.state_dict())
    assert plateau.epoch == 0
