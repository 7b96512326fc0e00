"""Many independent trainings at once: an ensemble's members, or a grid of learning rates, each
a Ray task running the ordinary single-process `fit`; results come back into the caller's
models and optimizers and as the usual `History` objects."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.data.loader import DataLoader
from graphgrad.train import History

from ._session import WorkerError, ray_session
from .data_parallel import pack, unpack

__all__ = ["fit_many"]


def _fit_one(payload: tuple, train, seed: int | None, options: dict) -> tuple:
    """The task: one `fit` in a worker process; returns what the driver copies back."""
    from graphgrad.train import fit

    model, optimizer, schedule = unpack(payload)
    history = fit(model, optimizer, train, seed=seed, schedule=schedule, progress=False, **options)
    return (history, model.state_dict(), optimizer.state_dict(),
            None if schedule is None else schedule.epoch)


def _seeds(seed, count: int) -> list:
    if seed is None or isinstance(seed, int):
        return [seed] * count
    seeds = list(seed)
    if len(seeds) != count:
        raise ValueError(f"fit_many: {count} runs but {len(seeds)} seeds ({seeds})")
    return seeds


def fit_many(
    runs: Sequence[tuple],
    train: DataLoader | Sequence[np.ndarray],
    *,
    epochs: int,
    workers: int = 2,
    address: str | None = None,
    seed: int | Sequence[int] | None = 0,
    timeout: float | None = None,
    **fit_options: Any,
) -> list[History]:
    """Train every ``(model, optimizer)`` or ``(model, optimizer, schedule)`` of ``runs`` with
    `graphgrad.train.fit`, at most ``workers`` at a time as Ray tasks; one `History` per run.

    The caller's models, optimizers and schedules end in the trained state, as after sequential
    `fit` calls. ``seed`` (the batch order) is shared, or one per run. Other keywords (loss_fn,
    val, batch_size, ...) go to every `fit`. ``timeout`` bounds the whole call in seconds. A
    crashed worker raises `WorkerError` naming the run (tasks are not retried: a retry would
    silently train a model twice as long as its neighbours in a sweep that compares them).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"fit_many: workers must be a positive integer, got {workers!r}")
    runs = [tuple(run) for run in runs]
    for index, run in enumerate(runs):
        if len(run) not in (2, 3):
            raise ValueError(f"fit_many: run {index} must be (model, optimizer) or (model, "
                             f"optimizer, schedule), got {len(run)} items")
    seeds = _seeds(seed, len(runs))
    options = {"epochs": epochs, **fit_options}
    with ray_session(address, workers) as ray:
        task = ray.remote(num_cpus=1, max_retries=0)(_fit_one)
        data = ray.put(train)  # once, shared by every task
        deadline = None if timeout is None else time.monotonic() + timeout
        waiting: list = []
        index_of: dict = {}
        results: list[Any] = [None] * len(runs)
        todo = list(range(len(runs)))
        while todo or waiting:
            while todo and len(waiting) < workers:
                index = todo.pop(0)
                model, optimizer, *schedule = runs[index]
                ref = task.remote(pack(model, optimizer, schedule[0] if schedule else None),
                                  data, seeds[index], options)
                index_of[ref] = index
                waiting.append(ref)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, waiting = ray.wait(waiting, num_returns=1, timeout=left)
            if not ready:
                for ref in waiting:
                    ray.cancel(ref, force=True)
                raise WorkerError(f"fit_many: runs {sorted(index_of[r] for r in waiting)} were "
                                  f"not done within timeout={timeout:g} s")
            for ref in ready:
                index = index_of[ref]
                try:
                    results[index] = ray.get(ref)
                except ray.exceptions.RayTaskError as error:
                    error.add_note(f"(raised by run {index} of fit_many)")
                    raise
                except ray.exceptions.RayError as error:  # the worker process died
                    raise WorkerError(f"fit_many: the worker of run {index} died "
                                      f"({str(error).strip()[:200]})") from None
    histories = []
    for (model, optimizer, *schedule), (history, weights, state, epoch) in zip(runs, results):
        model.load_state_dict(weights)
        optimizer.load_state_dict(state)
        if schedule:
            schedule[0].epoch = epoch
        histories.append(history)
    return histories
