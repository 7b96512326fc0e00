import math

import numpy as np
import pytest

from graphgrad.nn import Parameter
from graphgrad.optim import (SGD, CosineDecay, DecayTowardsEnd, ExponentialDecay, StepDecay,
                             WarmRestarts)


def make_opt(lrs=(0.1,)):
    groups = [{"params": [Parameter(np.zeros(1))], "lr": lr} for lr in lrs]
    return SGD(groups, lr=lrs[0])


def rates(schedule, epochs):
    out = []
    for _ in range(epochs):
        out.append(schedule.lrs[0])
        schedule.step()
    return out


def test_step_decay():
    np.testing.assert_allclose(rates(StepDecay(make_opt(), 2, gamma=0.5), 5),
                               [0.1, 0.1, 0.05, 0.05, 0.025])


def test_exponential():
    np.testing.assert_allclose(rates(ExponentialDecay(make_opt(), 0.9), 3), [0.1, 0.09, 0.081])


def test_cosine_endpoints_and_midpoint():
    r = rates(CosineDecay(make_opt(), total=4, min_factor=0.1), 6)
    np.testing.assert_allclose(r[0], 0.1)
    np.testing.assert_allclose(r[2], 0.1 * (0.1 + 0.9 * 0.5))
    np.testing.assert_allclose(r[4:], [0.01, 0.01])  # flat after the end


def test_warm_restarts():
    r = rates(WarmRestarts(make_opt(), period=2, mult=2), 7)
    # cycles: [0,2) then [2,6) then [6, 14)
    quarter, three_quarters = math.cos(math.pi / 4), math.cos(3 * math.pi / 4)
    expected = [1.0, 0.5, 1.0, 0.5 * (1 + quarter), 0.5, 0.5 * (1 + three_quarters), 1.0]
    np.testing.assert_allclose(r, 0.1 * np.array(expected))


def test_decay_towards_end_drops_faster_late():
    r = rates(DecayTowardsEnd(make_opt(), total=4), 5)
    np.testing.assert_allclose(r, 0.1 * np.array([1.0, 1 - 1 / 16, 0.75, 1 - 9 / 16, 0.0]))
    drops = -np.diff(r)
    assert np.all(np.diff(drops) > 0)  # each epoch's decrease is bigger than the last


def test_groups_keep_their_ratio():
    opt = make_opt((0.1, 0.01, 0.001))
    schedule = StepDecay(opt, 1, gamma=0.5)
    schedule.step()
    np.testing.assert_allclose(schedule.lrs, [0.05, 0.005, 0.0005])


def test_bad_arguments():
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepDecay(make_opt(), 0)
    with pytest.raises(ValueError, match="gamma must be in"):
        ExponentialDecay(make_opt(), 1.5)
    with pytest.raises(ValueError, match="min_factor must be in"):
        CosineDecay(make_opt(), 10, min_factor=2)
    with pytest.raises(ValueError, match="power must be >= 1"):
        DecayTowardsEnd(make_opt(), 10, power=0.5)
