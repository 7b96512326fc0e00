"""Ensemble members and a learning-rate grid trained as parallel Ray tasks: the same models and
histories as training them one after the other."""

import numpy as np
import pytest

from graphgrad import nn, optim
from graphgrad.distributed import fit_many
from graphgrad.ensemble import Ensemble
from graphgrad.train import History, fit


def member(seed):
    return nn.Sequential(nn.Linear(6, 8, rng=seed, dtype="float64"), nn.ReLU(),
                         nn.Linear(8, 3, rng=seed + 10, dtype="float64"))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(40, 6)), rng.integers(0, 3, size=40)


def weights_of(model):
    return np.concatenate([v.ravel() for v in model.state_dict().values()])


def test_ensemble_members_train_in_parallel_as_in_sequence(ray_local, data):
    def make_optimizer(params):
        return optim.Adam(params, lr=0.01)

    sequential, parallel = Ensemble([member(0), member(1)]), Ensemble([member(0), member(1)])
    expected = sequential.fit(make_optimizer, data, epochs=2, batch_size=8, progress=False)
    histories = parallel.fit(make_optimizer, data, epochs=2, batch_size=8, workers=2)
    assert all(type(h) is History for h in histories)
    # members differ (their own seeds and batch orders), and each matches its sequential twin
    assert histories[0].train_loss != histories[1].train_loss
    for got, want in zip(histories, expected):
        np.testing.assert_allclose(got.train_loss, want.train_loss, rtol=1e-12)
    for got, want in zip(parallel.members, sequential.members):
        np.testing.assert_allclose(weights_of(got), weights_of(want), rtol=1e-12, atol=1e-15)


def test_a_learning_rate_grid_with_schedules(ray_local, data):
    rates = [0.3, 0.03, 0.003]
    runs = []
    for lr in rates:
        model = member(5)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        runs.append((model, opt, optim.StepDecay(opt, 1, gamma=0.5)))
    histories = fit_many(runs, data, epochs=2, batch_size=8, workers=2)
    assert [h.lr for h in histories] == [[lr, lr / 2] for lr in rates]
    model = member(5)
    opt = optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    schedule = optim.StepDecay(opt, 1, gamma=0.5)
    expected = fit(model, opt, data, epochs=2, batch_size=8, schedule=schedule, progress=False)
    np.testing.assert_allclose(histories[1].train_loss, expected.train_loss, rtol=1e-12)
    # the caller's objects end trained: weights, momentum buffers, schedule position
    np.testing.assert_allclose(weights_of(runs[1][0]), weights_of(model), rtol=1e-12, atol=1e-15)
    assert runs[1][2].epoch == schedule.epoch == 2
    assert runs[1][1].param_groups[0]["lr"] == pytest.approx(0.0075)
    state, want = runs[1][1].state_dict()["state"], opt.state_dict()["state"]
    assert sorted(state) == sorted(want)


def test_a_run_that_raises_names_itself(ray_local, data):
    models = [member(0), member(1)]
    runs = [(m, optim.SGD(m.parameters(), lr=0.1)) for m in models]
    with pytest.raises(ValueError, match="epochs must be a positive integer") as info:
        fit_many(runs[:1], data, epochs=0, workers=2)  # raised inside the task, on the worker
    assert "run 0 of fit_many" in "".join(getattr(info.value, "__notes__", []))
    with pytest.raises(ValueError, match="2 runs but 3 seeds"):
        fit_many(runs, data, epochs=1, seed=[0, 1, 2])
