"""Data-parallel fit on a local Ray: the same curve as one process, faults that stop (or resume)
the run with a clear error, never a hang or a half-written checkpoint."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.composites.losses import cross_entropy
from graphgrad.distributed import StepTimings, WorkerError, get_rank
from graphgrad.distributed import fit as fit_distributed
from graphgrad.train import fit

EPOCHS = 2


def model_and_optimizer():
    """A small CNN in float64 (conv + linear), SGD with Nesterov momentum, weight decay and a
    schedule: every piece of optimizer state the replicas must keep identical."""
    model = nn.Sequential(nn.Conv2d(1, 3, 3, rng=0, dtype="float64"), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 4, rng=1, dtype="float64"))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    return model, opt, optim.StepDecay(opt, 1, gamma=0.5)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    # 53 examples in batches of 16: the last batch has 5, split 3 + 2 over the workers
    x = rng.normal(size=(53, 1, 6, 6))
    y = rng.integers(0, 4, size=53)
    return x, y


@pytest.fixture(scope="module")
def one_process(data):
    model, opt, schedule = model_and_optimizer()
    history = fit(model, opt, data, epochs=EPOCHS, batch_size=16, schedule=schedule,
                  val=data, progress=False)
    return history, model.state_dict()


def same_weights(a, b, tol=1e-12):
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=tol, atol=tol, err_msg=name)


def test_import_graphgrad_does_not_import_ray():
    code = "import sys, graphgrad, graphgrad.distributed; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("bad, match", [
    ({"workers": 0}, "workers must be a positive integer, got 0"),
    ({"restarts": 1}, "restarts=1 resumes from a checkpoint: pass checkpoint="),
    ({"timeout": 0}, "timeout must be a positive number"),
])
def test_bad_options_are_named_before_ray_starts(data, bad, match):
    model, opt, _ = model_and_optimizer()
    with pytest.raises(ValueError, match=match):
        fit_distributed(model, opt, data, epochs=1, progress=False, **bad)


def test_two_workers_give_the_one_process_curve(ray_local, data, one_process):
    # the summation order differs (two shard means weighted n_i/n vs one mean, gradients added
    # in another order), so values agree to rounding, ~1e-16 relative per step, not bit for bit
    expected, weights = one_process
    model, opt, schedule = model_and_optimizer()
    timings = StepTimings()
    history = fit(model, opt, data, epochs=EPOCHS, batch_size=16, schedule=schedule, val=data,
                  progress=False, workers=2)  # the one argument a user changes
    assert type(history) is type(expected)
    np.testing.assert_allclose(history.train_loss, expected.train_loss, rtol=1e-12)
    np.testing.assert_allclose(history.train_accuracy, expected.train_accuracy, rtol=1e-12)
    np.testing.assert_allclose(history.val_loss, expected.val_loss, rtol=1e-12)
    assert history.lr == expected.lr == [0.05, 0.025]
    same_weights(model.state_dict(), weights)  # the caller's model is the trained one
    assert timings.step == []  # only filled when passed


def test_timings_and_one_worker(ray_local, data, one_process):
    expected, weights = one_process
    model, opt, schedule = model_and_optimizer()
    timings = StepTimings()
    history = fit_distributed(model, opt, data, epochs=EPOCHS, batch_size=16, schedule=schedule,
                              val=data, progress=False, workers=1, timings=timings)
    np.testing.assert_allclose(history.train_loss, expected.train_loss, rtol=1e-12)
    same_weights(model.state_dict(), weights)
    assert len(timings.step) == EPOCHS * 4
    assert all(s >= w > 0 for s, w in zip(timings.step, timings.worker))
    assert all(c > 0 for c in timings.communication)


class DieOnce:
    """A loss that ends its worker process (as a crash would) at the k-th call on worker `rank`,
    once: the flag file is removed first, so a resumed run goes on."""

    def __init__(self, rank, call, flag):
        self.rank, self.call, self.flag, self.calls = rank, call, str(flag), 0

    def __call__(self, out, y):
        if get_rank() == self.rank:
            self.calls += 1
            if self.calls == self.call and os.path.exists(self.flag):
                os.remove(self.flag)
                os._exit(1)
        return cross_entropy(out, y)


def test_a_dead_worker_stops_the_run_naming_worker_and_step(ray_local, data, tmp_path):
    flag = tmp_path / "die"
    flag.touch()
    checkpoint = tmp_path / "ckpt.npz"
    model, opt, schedule = model_and_optimizer()
    start = time.monotonic()
    # 4 steps per epoch: the 7th call is epoch 2, step 3
    with pytest.raises(WorkerError, match=r"worker 1 of 2 died at epoch 2, step 3 of 4"):
        fit_distributed(model, opt, data, epochs=3, batch_size=16, schedule=schedule,
                        loss_fn=DieOnce(1, 7, flag), progress=False, checkpoint=checkpoint)
    assert time.monotonic() - start < 60  # an error, not a wait for the step timeout
    # the checkpoint is the complete one of epoch 1, as one process would have it
    reference, ref_opt, ref_schedule = model_and_optimizer()
    fit(reference, ref_opt, data, epochs=1, batch_size=16, schedule=ref_schedule, progress=False)
    saved = gg.load(checkpoint)
    assert int(saved["epoch"]) == 1
    same_weights(saved["model"], reference.state_dict())


def test_restarts_resume_from_the_checkpoint_and_end_as_one_process(ray_local, data,
                                                                    one_process, tmp_path):
    expected, weights = one_process
    flag = tmp_path / "die"
    flag.touch()
    model, opt, schedule = model_and_optimizer()
    history = fit_distributed(model, opt, data, epochs=EPOCHS, batch_size=16, schedule=schedule,
                              val=data, loss_fn=DieOnce(0, 6, flag), progress=False,
                              checkpoint=tmp_path / "ckpt.npz", restarts=1)
    assert not flag.exists()  # the worker did die
    np.testing.assert_allclose(history.train_loss, expected.train_loss, rtol=1e-12)
    assert history.lr == expected.lr
    same_weights(model.state_dict(), weights)


class Hang:
    def __call__(self, out, y):
        if get_rank() == 1:
            time.sleep(30)
        return cross_entropy(out, y)


def test_a_silent_worker_is_an_error_after_the_timeout(ray_local, data):
    model, opt, _ = model_and_optimizer()
    with pytest.raises(WorkerError, match=r"worker\(s\) \[1\] of 2 gave no answer within 1 s "
                                          r"at epoch 1, step 1 of 4"):
        fit_distributed(model, opt, data, epochs=1, batch_size=16, loss_fn=Hang(),
                        progress=False, timeout=1)


class NanAt:
    """A loss that is NaN at the k-th call on worker 1."""

    def __init__(self, call):
        self.call, self.calls = call, 0

    def __call__(self, out, y):
        loss = cross_entropy(out, y)
        if get_rank() == 1:
            self.calls += 1
            if self.calls == self.call:
                return loss * float("nan")
        return loss


def test_a_non_finite_loss_on_a_worker_stops_the_run(ray_local, data):
    model, opt, _ = model_and_optimizer()
    with pytest.raises(FloatingPointError, match=r"loss became nan at epoch 1, step 2 of 4 "
                                                 r"\(on worker 1\)"):
        fit_distributed(model, opt, data, epochs=1, batch_size=16, loss_fn=NanAt(2),
                        progress=False)
    assert all(np.isfinite(v).all() for v in model.state_dict().values())
