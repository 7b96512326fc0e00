"""MultiStepLR, LambdaLR, ReduceLROnPlateau and OneCycleLR against the closed forms of PyTorch's
documentation, and against torch.optim.lr_scheduler itself when torch is installed."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from graphgrad.nn import Parameter
from graphgrad.optim import SGD, Adagrad, Adam, LambdaLR, MultiStepLR, OneCycleLR, ReduceLROnPlateau


def make_opt(lrs=(0.1,), cls=SGD, **hyper):
    groups = [{"params": [Parameter(np.zeros(1))], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], **hyper)


def run(schedule, steps, metrics=None):
    """The first group's rate at construction and after each of `steps` steps."""
    out = [schedule.lrs[0]]
    for i in range(steps):
        schedule.step() if metrics is None else schedule.step(metrics[i])
        out.append(schedule.lrs[0])
    return out


def test_multistep():
    np.testing.assert_allclose(run(MultiStepLR(make_opt(), [2, 5], gamma=0.1), 6),
                               [0.1, 0.1, 0.01, 0.01, 0.01, 1e-3, 1e-3], rtol=1e-12)
    # unsorted, and a milestone listed twice applies gamma twice (PyTorch counts them)
    np.testing.assert_allclose(run(MultiStepLR(make_opt(), [3, 1, 3], gamma=0.5), 4),
                               [0.1, 0.05, 0.05, 0.0125, 0.0125], rtol=1e-12)


def test_lambda_one_for_all_or_one_per_group():
    schedule = LambdaLR(make_opt((0.1, 0.01)), lambda epoch: 0.5**epoch)
    schedule.step()
    schedule.step()
    np.testing.assert_allclose(schedule.lrs, [0.025, 0.0025], rtol=1e-12)
    warm_up = LambdaLR(make_opt((0.1, 0.01)), [lambda e: min(1.0, (e + 1) / 3), lambda e: 1.0])
    assert run(warm_up, 3) == pytest.approx([0.1 / 3, 0.2 / 3, 0.1, 0.1])
    assert warm_up.lrs[1] == 0.01


def test_plateau_waits_for_patience_then_cools_down():
    # best 1.0, 0.9; then three epochs without improvement > patience=2: reduce at epoch 5;
    # cooldown=2 ignores epochs 6 and 7, so the next reduction needs epochs 8, 9, 10
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    got = run(ReduceLROnPlateau(make_opt(), patience=2, cooldown=2), 10, metrics)
    expected = [0.1] * 5 + [0.01] * 5 + [0.001]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_plateau_threshold_mode_min_lr_and_eps():
    # relative threshold: 0.99995 is not 1e-4 better than 1.0, 0.9998 is
    steps = run(ReduceLROnPlateau(make_opt(), patience=0), 3, [1.0, 0.99995, 0.9998])
    np.testing.assert_allclose(steps, [0.1, 0.1, 0.01, 0.01], rtol=1e-12)
    # absolute threshold 0.5 in max mode: 1.4 is not better than 1.0 + 0.5, 1.6 is
    steps = run(ReduceLROnPlateau(make_opt(), mode="max", patience=0, threshold=0.5,
                                  threshold_mode="abs"), 3, [1.0, 1.4, 1.6])
    np.testing.assert_allclose(steps, [0.1, 0.1, 0.01, 0.01], rtol=1e-12)
    # floor at min_lr per group; a change smaller than eps is skipped
    schedule = ReduceLROnPlateau(make_opt((0.1, 1e-8)), factor=0.5, patience=0,
                                 min_lr=[0.03, 0.0])
    for value in (1.0, 2.0, 2.0, 2.0):
        schedule.step(value)
    assert schedule.lrs == [0.03, 1e-8]


def one_cycle_closed_form(step, total, max_lr, pct_start=0.3, div=25.0, final_div=1e4):
    """The cosine 1cycle of PyTorch's documentation: up for pct_start·total − 1 steps."""
    initial, up_end = max_lr / div, pct_start * total - 1
    if step <= up_end:
        start, end, pct = initial, max_lr, step / up_end
    else:
        start, end, pct = max_lr, initial / final_div, (step - up_end) / (total - 1 - up_end)
    return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))


def test_one_cycle_matches_the_closed_form_and_cycles_momentum():
    opt = make_opt(cls=SGD, momentum=0.9)
    schedule = OneCycleLR(opt, max_lr=1.0, total_steps=10)
    got = run(schedule, 9)
    np.testing.assert_allclose(got, [one_cycle_closed_form(s, 10, 1.0) for s in range(10)],
                               rtol=1e-12)
    assert got[0] == pytest.approx(0.04) and got[2] == 1.0 and got[9] == pytest.approx(4e-6)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)  # back up at the end
    schedule.step()  # the total_steps-th step is allowed, as in PyTorch, the next is not
    with pytest.raises(ValueError, match="tried to step 11 times; total_steps is 10"):
        schedule.step()


def test_one_cycle_linear_three_phase_and_adam_beta1():
    opt = make_opt(cls=Adam)
    schedule = OneCycleLR(opt, max_lr=0.5, epochs=2, steps_per_epoch=5, pct_start=0.25,
                          anneal_strategy="linear", three_phase=True, div_factor=10,
                          final_div_factor=5)
    # phases end at steps 1.5, 3 and 9: 0.05 -> 0.5 -> 0.05 -> 0.01, linearly
    expected = [0.05, 0.05 + 0.45 / 1.5, 0.5 - 0.45 * 0.5 / 1.5, 0.05,
                *(0.05 - 0.04 * k / 6 for k in range(1, 7))]
    got, betas = [schedule.lrs[0]], [opt.param_groups[0]["betas"][0]]
    for _ in range(9):
        schedule.step()
        got.append(schedule.lrs[0])
        betas.append(opt.param_groups[0]["betas"][0])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(betas[:4], [0.95, 0.95 - 0.1 / 1.5, 0.85 + 0.05 / 1.5, 0.95])
    assert opt.param_groups[0]["betas"][1] == 0.999


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda o: MultiStepLR(o, [0, 3]), ValueError,
     r"each of the milestones must be an integer >= 1, got 0"),
    (lambda o: MultiStepLR(o, [2], gamma=0), ValueError, "gamma must be a finite number > 0"),
    (lambda o: LambdaLR(o, [lambda e: 1.0] * 2), ValueError,
     r"expected 1 lr_lambda values \(one per parameter group\), got 2"),
    (lambda o: LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function of the epoch"),
    (lambda o: LambdaLR(o, lambda e: -1.0), ValueError,
     r"lr_lambda\(0\) must return a finite number >= 0, got -1.0"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1"),
    (lambda o: ReduceLROnPlateau(o, mode="low"), ValueError, "mode must be 'min' or 'max'"),
    (lambda o: ReduceLROnPlateau(o, patience=1.5), ValueError,
     "patience must be an integer >= 0, got 1.5"),
    (lambda o: ReduceLROnPlateau(o).step(), TypeError, r"needs the monitored metric"),
    (lambda o: OneCycleLR(o, 1.0), ValueError, "give total_steps, or epochs and steps_per"),
    (lambda o: OneCycleLR(o, 1.0, total_steps=2), ValueError, "leaves a phase with no steps"),
    (lambda o: OneCycleLR(o, 1.0, 10, pct_start=1.0), ValueError, r"pct_start must be in"),
    (lambda o: OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError, "'cos' or 'linear'"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make(make_opt())


def test_one_cycle_needs_momentum_to_cycle():
    with pytest.raises(ValueError, match="Adagrad has no momentum or betas to cycle"):
        OneCycleLR(make_opt(cls=Adagrad), 1.0, 10)
    assert OneCycleLR(make_opt(cls=Adagrad), 1.0, 10, cycle_momentum=False).lrs == pytest.approx(
        [0.04])


# ---------------------------------------------------------------- against torch
TORCH_CASES = [
    ("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.3}, None, "SGD"),
    ("LambdaLR", {"lr_lambda": lambda e: 1 / (1 + e) ** 0.5}, None, "SGD"),
    ("ReduceLROnPlateau", {"patience": 1, "cooldown": 1, "factor": 0.5, "min_lr": 0.02},
     [3.0, 2.0, 2.5, 2.1, 2.2, 1.0, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0], "SGD"),
    ("ReduceLROnPlateau", {"mode": "max", "threshold": 0.1, "threshold_mode": "abs", "patience": 2},
     [0.5, 0.55, 0.59, 0.8] + [0.7] * 8, "SGD"),
    ("OneCycleLR", {"max_lr": 0.7, "total_steps": 12}, None, "SGD"),
    ("OneCycleLR", {"max_lr": 0.7, "total_steps": 12, "three_phase": True,
                    "anneal_strategy": "linear", "pct_start": 0.4}, None, "Adam"),
]


@pytest.mark.parametrize(("name", "options", "metrics", "opt_name"), TORCH_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TORCH_CASES)])
def test_matches_torch(name, options, metrics, opt_name):
    torch = pytest.importorskip("torch")
    hyper = {"momentum": 0.9} if opt_name == "SGD" else {}
    opt = make_opt((0.1, 0.03), cls=getattr(__import__("graphgrad").optim, opt_name), **hyper)
    t_opt = getattr(torch.optim, opt_name)(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.03)],
        **hyper)
    ours = globals()[name](opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(t_opt, **options)
    momentum_key = "momentum" if opt_name == "SGD" else "betas"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "scheduler.step() before optimizer.step()"
        for i in range(12):
            for group, t_group in zip(opt.param_groups, t_opt.param_groups):
                assert group["lr"] == pytest.approx(t_group["lr"], rel=1e-12, abs=1e-15), i
                assert group[momentum_key] == pytest.approx(t_group[momentum_key], rel=1e-12)
            if metrics is None:
                ours.step()
                theirs.step()
            else:
                ours.step(metrics[i])
                theirs.step(metrics[i])
