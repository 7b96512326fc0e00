"""Data-parallel `fit` on Ray: N actors hold replicas of the model, each computes the gradient of
its shard of every global batch, the gradients are averaged and every replica takes the same step.

Why the reduction goes through Ray's object store (not `ray.util.collective`): its CPU backend is
Gloo, which needs pygloo or PyTorch's distributed package in every worker; graphgrad needs neither.
The driver gathers the workers' gradients (one flat array each), averages them weighted by shard
size, puts the average in the object store once and sends its reference with the next step to
every worker. The driver applies the same update to its own copy of the model (while the workers
compute the next batch), so after `fit` the caller's model is trained, exactly as with one process,
and validation, schedules, callbacks and checkpoints run on the driver only.

Equivalence with one process: the loss of a shard is its mean, so the mean over the global batch
is ``sum(n_i * mean_i) / n`` and its gradient is ``sum(n_i / n * grad_i)``: the uneven last batch
included, N workers compute what one process does, up to summation order (see docs/distributed.md).
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from graphgrad import config
from graphgrad._tensor import Tensor
from graphgrad.backend import to_numpy
from graphgrad.data.loader import DataLoader
from graphgrad.train import History, _as_loader, _default_loss, accuracy, evaluate

from ._session import WorkerError, ray_session

if TYPE_CHECKING:
    from graphgrad.nn.module import Module
    from graphgrad.optim.optimizer import Optimizer
    from graphgrad.optim.schedules import Schedule

__all__ = ["StepTimings", "fit", "get_rank"]

STARTUP_SECONDS = 120.0  # at least this long for the workers to start (a process, imports)
_RANK: int | None = None  # set in a worker process by its replica


def get_rank() -> int | None:
    """This worker's index (0..N-1) inside a data-parallel `fit`; None outside one (the driver)."""
    return _RANK


@dataclass
class StepTimings:
    """Seconds per data-parallel step, filled by ``fit(..., timings=StepTimings())``.

    ``step``: wall time from sending a step to having every gradient back; ``worker``: the
    slowest worker's own work in it (apply the last update, forward, backward); ``reduce``: the
    driver's weighted average and `ray.put`. What is not work is communication.
    """

    step: list[float] = field(default_factory=list)
    worker: list[float] = field(default_factory=list)
    reduce: list[float] = field(default_factory=list)

    @property
    def communication(self) -> list[float]:
        """Per step: serialisation, transfer and scheduling, plus the driver's reduction."""
        return [s - w + r for s, w, r in zip(self.step, self.worker, self.reduce)]


# ------------------------------------------------------------------------------ gradients
def _flat_gradients(params: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(all gradients in one host array, which parameters had one): one message per worker."""
    mask = np.array([p.grad is not None for p in params])
    parts = [to_numpy(p.grad.data if p.grad is not None else p.data * 0).ravel() for p in params]
    return np.concatenate(parts), mask


def _apply_update(optimizer, update: tuple[np.ndarray, np.ndarray, list[float]]) -> None:
    """Set the averaged gradients and take the optimizer step, with the rates of the moment the
    driver averaged them (a schedule may have moved since)."""
    flat, mask, lrs = update
    for group, lr in zip(optimizer.param_groups, lrs):
        group["lr"] = lr
    start = 0
    for p, has_grad in zip(optimizer.parameters, mask):
        size = int(np.prod(p.shape))
        if has_grad:
            values = flat[start : start + size].reshape(p.shape).astype(to_numpy(p.data).dtype)
            p.grad = Tensor(p.device.asarray(values), device=p.device)
        else:
            p.grad = None
        start += size
    optimizer.step()


def _fingerprint(params: Sequence) -> str:
    digest = hashlib.sha256()
    for p in params:
        digest.update(np.ascontiguousarray(to_numpy(p.data)).tobytes())
    return digest.hexdigest()


def pack(model, optimizer, *more) -> tuple:
    """What a worker needs, pickled as one object (the optimizer's parameters stay the model's)."""
    return (model, optimizer, optimizer.state_dict(), *more)


def unpack(payload: tuple) -> tuple:
    """(model, optimizer, *more) of `pack`. Optimizer state is keyed by id(parameter), and the
    unpickled parameters have new ids: it is reloaded by position."""
    model, optimizer, optimizer_state, *more = payload
    optimizer.load_state_dict(optimizer_state)
    return (model, optimizer, *more)


class _Replica:
    """One worker (a Ray actor): a replica of model and optimizer, its threads held to its CPUs."""

    def __init__(self, rank: int, payload: tuple) -> None:
        global _RANK
        _RANK = rank
        model, optimizer, loss_fn, accuracy_fn, step_fn = unpack(payload)
        self.model, self.optimizer = model, optimizer
        self.loss_fn, self.accuracy_fn = loss_fn, accuracy_fn
        self.step_fn = step_fn or forward_backward
        self.threads = max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))  # Ray's CPUs for us

    def ready(self) -> int:
        return os.getpid()

    def step(self, update, shard) -> tuple | None:
        """Apply the last averaged update, then (value, correct, count, grads, mask, seconds)."""
        start = time.perf_counter()
        with config.num_threads(self.threads):
            if update is not None:
                _apply_update(self.optimizer, update)
            if shard is None:
                return None
            value, correct = self.step_fn(self.model, self.optimizer, shard, self.loss_fn,
                                          self.accuracy_fn)
        if not math.isfinite(value):
            return value, correct, len(shard[0]), None, None, time.perf_counter() - start
        flat, mask = _flat_gradients(self.optimizer.parameters)
        return value, correct, len(shard[0]), flat, mask, time.perf_counter() - start

    def sync(self, update) -> str:
        """Apply a last update and return a fingerprint of the parameters (replicas must agree)."""
        with config.num_threads(self.threads):
            if update is not None:
                _apply_update(self.optimizer, update)
        return _fingerprint(self.optimizer.parameters)


def forward_backward(model: Module, optimizer: Optimizer, shard: Sequence[np.ndarray],
                     loss_fn: Callable[..., Tensor],
                     accuracy_fn: Callable[..., float] | None) -> tuple[float, float]:
    """The step a worker runs on its shard: forward, loss, backward (no optimizer step).

    Returns (mean loss, number correct). This is the seam for other step functions (a compiled
    step): ``fit(..., step_fn=...)`` passes one with this signature to every worker.
    """
    model.train()
    x, *targets = shard
    out = model(Tensor(x))
    loss = loss_fn(out, *targets)
    value = float(loss.item())
    if not math.isfinite(value):
        return value, float("nan")
    optimizer.zero_grad()
    loss.backward()
    correct = accuracy_fn(out, *targets) * len(x) if accuracy_fn is not None else float("nan")
    return value, correct


# ------------------------------------------------------------------------------ the workers
class _Workers:
    """The actors of one run and the driver's side of each step."""

    def __init__(self, ray, model, optimizer, functions: tuple, count: int, timeout: float,
                 timings: StepTimings | None) -> None:
        self.ray, self.model, self.optimizer = ray, model, optimizer
        self.functions, self.count, self.timeout, self.timings = functions, count, timeout, timings
        self.actors: list = []
        # (object ref, local copy) of the update the workers apply next
        self.pending: tuple[object, tuple | None] | None = None

    def start(self) -> None:
        payload = self.ray.put(pack(self.model, self.optimizer, *self.functions))
        actor = self.ray.remote(num_cpus=1, max_restarts=0)(_Replica)
        run = uuid.uuid4().hex[:8]
        self.actors = [actor.options(name=f"graphgrad-replica-{run}-{rank}").remote(rank, payload)
                       for rank in range(self.count)]
        self.pending = None
        self._gather([a.ready.remote() for a in self.actors], "while starting (is there a free "
                     f"CPU for each of the {self.count} workers? the cluster has "
                     f"{self.ray.cluster_resources().get('CPU', 0):g})",
                     max(self.timeout, STARTUP_SECONDS))

    def stop(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        self.pending = None

    def _gather(self, refs: list, where: str, timeout: float | None = None) -> list:
        """Results in rank order; a dead or silent worker raises WorkerError naming it."""
        ray, results = self.ray, [None] * len(refs)
        rank_of = {ref: rank for rank, ref in enumerate(refs)}
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1,
                                      timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                ranks = sorted(rank_of[ref] for ref in waiting)
                raise WorkerError(
                    f"fit: worker(s) {ranks} of {self.count} gave no answer within "
                    f"{timeout:g} s {where}; pass a larger timeout= if a step takes longer")
            for ref in ready:
                rank = rank_of[ref]
                try:
                    results[rank] = ray.get(ref)
                except ray.exceptions.RayActorError as error:
                    cause = str(error).strip().splitlines()[0] if str(error).strip() else ""
                    raise WorkerError(
                        f"fit: worker {rank} of {self.count} died {where} ({cause}); the "
                        f"model on the driver holds the last complete step. Pass checkpoint= "
                        f"and restarts= to graphgrad.distributed.fit to resume from the last "
                        f"epoch's checkpoint instead") from None
                except ray.exceptions.RayTaskError as error:  # the user's code raised in a worker
                    error.add_note(f"(raised on worker {rank} of {self.count} {where})")
                    raise
        return results

    def step(self, batch: tuple, where: str) -> list[tuple[int, tuple]]:
        """One global batch: shards out, gradients back, averaged; (rank, result) of each worker
        that had a shard."""
        rows = np.array_split(np.arange(len(batch[0])), self.count)
        shards = [tuple(a[index] for a in batch) if len(index) else None for index in rows]
        start = time.perf_counter()
        update_ref = self.pending[0] if self.pending is not None else None
        refs = [a.step.remote(update_ref, shard) for a, shard in zip(self.actors, shards)]
        self.sync_driver()  # the driver's replica takes the same step meanwhile
        answers = self._gather(refs, where)
        elapsed = time.perf_counter() - start
        ranked = [(rank, r) for rank, r in enumerate(answers) if r is not None]  # shard given
        results = [r for _, r in ranked]
        if not all(math.isfinite(r[0]) for r in results):
            return ranked
        reduce_start = time.perf_counter()
        total = sum(r[2] for r in results)
        flat = sum(r[3] * (r[2] / total) for r in results)
        mask = np.logical_or.reduce([r[4] for r in results])
        update = (flat, mask, [float(g["lr"]) for g in self.optimizer.param_groups])
        self.pending = (self.ray.put(update), update)
        if self.timings is not None:
            self.timings.step.append(elapsed)
            self.timings.worker.append(max(r[5] for r in results))
            self.timings.reduce.append(time.perf_counter() - reduce_start)
        return ranked

    def sync_driver(self) -> None:
        """Bring the driver's model up to date (the update the workers apply with their next
        step)."""
        if self.pending is not None and self.pending[1] is not None:
            _apply_update(self.optimizer, self.pending[1])
            self.pending = (self.pending[0], None)

    def finish(self) -> None:
        """Flush the last update to every worker and check that all replicas equal the driver's."""
        self.sync_driver()
        update_ref = self.pending[0] if self.pending is not None else None
        prints = self._gather([a.sync.remote(update_ref) for a in self.actors], "at the end")
        own = _fingerprint(self.optimizer.parameters)
        differ = [rank for rank, p in enumerate(prints) if p != own]
        if differ:
            raise WorkerError(f"fit: the replicas of worker(s) {differ} differ from the driver's "
                              "model after training (a non-deterministic step function?)")


# ------------------------------------------------------------------------------ checkpoints
@dataclass
class _Snapshot:
    """What a resume needs besides the checkpoint file: where the data order and schedule were."""

    epochs_done: int
    rng_state: Mapping[str, object]
    schedule_epoch: int | None


def _write_checkpoint(path: Path, model, optimizer, loader: DataLoader, schedule,
                      epochs_done: int) -> _Snapshot:
    from graphgrad.io import save

    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "epoch": np.asarray(epochs_done)}, path)  # atomic: a crash leaves the previous file
    return _Snapshot(epochs_done, copy.deepcopy(loader.generator.bit_generator.state),
                     None if schedule is None else schedule.epoch)


def _resume(path: Path, snapshot: _Snapshot, model, optimizer, loader: DataLoader, schedule,
            history: History) -> int:
    from graphgrad.io import load

    state = load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    loader.generator.bit_generator.state = copy.deepcopy(snapshot.rng_state)
    if schedule is not None:
        schedule.epoch = snapshot.schedule_epoch
    for name in history.__dataclass_fields__:
        del getattr(history, name)[snapshot.epochs_done:]
    return snapshot.epochs_done


# ------------------------------------------------------------------------------ fit
def _check_options(workers, restarts, checkpoint, timeout) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"fit: workers must be a positive integer, got {workers!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 0:
        raise ValueError(f"fit: restarts must be a non-negative integer, got {restarts!r}")
    if restarts and checkpoint is None:
        raise ValueError(f"fit: restarts={restarts} resumes from a checkpoint: pass checkpoint= "
                         "(a .npz path the driver writes after every epoch)")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"fit: timeout must be a positive number of seconds, got {timeout!r}")


def fit(
    model: Module,
    optimizer: Optimizer,
    train: DataLoader | Sequence[np.ndarray],
    *,
    epochs: int,
    workers: int = 2,
    address: str | None = None,
    loss_fn: Callable | None = None,
    val: Sequence[np.ndarray] | None = None,
    batch_size: int = 64,
    seed: int | None = 0,
    schedule: Schedule | None = None,
    accuracy_fn: Callable | None = accuracy,
    progress: bool = True,
    callback: Callable[[int, History], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
    restarts: int = 0,
    timeout: float = 300.0,
    timings: StepTimings | None = None,
    step_fn: Callable | None = None,
) -> History:
    """`graphgrad.train.fit` on ``workers`` Ray actors; the same arguments, the same `History`.

    ``loss_fn`` must average over the batch (cross_entropy and mse_loss do): shard gradients are
    weighted by shard size. ``address`` joins a Ray cluster (``"auto"``); without one, and when
    this process is not connected yet, a local Ray with ``workers`` CPUs runs for this call.
    ``checkpoint``: the driver writes model, optimizer and epoch there (atomically) after each
    epoch; with ``restarts=k`` a failed worker makes the run resume from it up to k times, else
    it raises `WorkerError`. ``timeout``: seconds a step may take before that is an error.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
    _check_options(workers, restarts, checkpoint, timeout)
    loss_fn = loss_fn or _default_loss()
    loader = _as_loader(train, batch_size, seed)
    if len(loader) == 0:
        raise ValueError(f"fit: the training data gives no batches ({loader.size} examples, "
                         f"batch_size {loader.batch_size}, drop_last={loader.drop_last})")
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    history = History()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * len(loader), unit="batch", leave=False, dynamic_ncols=True)
    with ray_session(address, workers) as ray:
        run = _Workers(ray, model, optimizer, (loss_fn, accuracy_fn, step_fn), workers, timeout,
                       timings)
        try:
            snapshot = (_write_checkpoint(checkpoint, model, optimizer, loader, schedule, 0)
                        if checkpoint is not None else None)
            epoch = 0
            while epoch < epochs:
                try:
                    if not run.actors:
                        run.start()
                    _train_epoch(run, loader, epoch, history, bar)
                except WorkerError:
                    run.stop()
                    if restarts == 0 or snapshot is None:
                        raise
                    restarts -= 1
                    assert checkpoint is not None  # (a snapshot exists only with one)
                    epoch = _resume(checkpoint, snapshot, model, optimizer, loader, schedule,
                                    history)
                    continue
                if val is not None:
                    val_loss, val_acc = evaluate(model, val[0], val[1], loss_fn)
                    history.val_loss.append(val_loss)
                    history.val_accuracy.append(val_acc)
                if schedule is not None:
                    schedule.step()
                epoch += 1
                if checkpoint is not None:
                    snapshot = _write_checkpoint(checkpoint, model, optimizer, loader, schedule,
                                                 epoch)
                if callback is not None:
                    callback(epoch - 1, history)
            run.finish()
        finally:
            run.stop()
            if bar is not None:
                bar.close()
            model.train()
    return history


def _train_epoch(run: _Workers, loader: DataLoader, epoch: int, history: History, bar) -> None:
    start = time.perf_counter()
    total_loss, total_correct, seen = 0.0, 0.0, 0
    for step, batch in enumerate(loader):
        batch = batch if isinstance(batch, tuple) else (batch,)
        where = f"at epoch {epoch + 1}, step {step + 1} of {len(loader)}"
        results = run.step(batch, where)
        for rank, (value, correct, count, *_) in results:
            if not math.isfinite(value):
                run.pending = None  # the driver keeps the weights that gave the last finite loss
                raise FloatingPointError(
                    f"fit: loss became {value} {where} (on worker {rank}); the model holds the "
                    f"weights of the last finite loss. Is the learning rate too large (now "
                    f"{run.optimizer.param_groups[0]['lr']:g})?")
            total_loss += value * count
            total_correct += correct
            seen += count
        if bar is not None:
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{total_loss / seen:.4f}", refresh=False)
    run.sync_driver()
    history.seconds.append(time.perf_counter() - start)
    history.train_loss.append(total_loss / seen)
    history.train_accuracy.append(total_correct / seen)
    history.lr.append(float(run.optimizer.param_groups[0]["lr"]))
