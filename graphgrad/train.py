"""Training made observable: `fit` with a progress bar, a `History` of losses and accuracies,
and the lecture's "baby-sitting" plots (loss and accuracy curves, first-layer kernels, confusion
matrix).

`fit` is a small loop you could write yourself (docs/training.md shows it); use it when a model
maps one input batch to one output and the loss is ``loss_fn(output, *targets)``. Multi-task
models pass a `loss_fn` that returns the weighted sum of their losses and an ``accuracy_fn``
(or none).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from graphgrad import config
from graphgrad._tensor import Tensor
from graphgrad.atomic import atomic_write
from graphgrad.data.loader import DataLoader
from graphgrad.optim.plateau import ReduceLROnPlateau

if TYPE_CHECKING:  # annotations only (matplotlib loads when a figure is asked for)
    from matplotlib.figure import Figure

    from graphgrad.nn.module import Module
    from graphgrad.optim.optimizer import Optimizer
    from graphgrad.optim.schedules import Schedule

__all__ = [
    "History",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fit",
    "plot_confusion_matrix",
    "plot_history",
    "predict",
]


@dataclass
class History:
    """Per-epoch records of a `fit` run (lists of floats; NaN where not measured)."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def as_dict(self) -> dict[str, list[float]]:
        return {name: list(getattr(self, name)) for name in self.__dataclass_fields__}


def _default_loss():
    from graphgrad.composites.losses import cross_entropy

    return cross_entropy


def accuracy(logits: Tensor | np.ndarray, labels: npt.ArrayLike) -> float:
    """Fraction of rows whose arg-max equals the label."""
    scores = logits.numpy() if isinstance(logits, Tensor) else np.asarray(logits)
    labels = np.asarray(labels)
    if scores.ndim != 2 or len(scores) != len(labels):
        raise ValueError(
            f"accuracy: expected scores (N, classes) and labels (N,), got {scores.shape} and "
            f"{labels.shape}"
        )
    return float(np.mean(scores.argmax(axis=1) == labels))


def probabilities(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of class scores (N, classes) as a NumPy array, overflow-safe."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def predict(model: Callable[..., Tensor], x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Model outputs for `x` as a NumPy array, in eval mode and without recording a graph."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        outputs = []
        with config.no_grad():
            for start in range(0, len(x), batch_size):
                out = model(Tensor(np.asarray(x[start : start + batch_size])))
                outputs.append(out.numpy())
        return np.concatenate(outputs)
    finally:
        if was_training and hasattr(model, "train"):
            model.train()


def evaluate(model: Callable[..., Tensor], x: np.ndarray, y: npt.ArrayLike,
             loss_fn: Callable | None = None, batch_size: int = 512) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` on (x, y), in eval mode."""
    loss_fn = loss_fn or _default_loss()
    scores = predict(model, x, batch_size)
    with config.no_grad():
        loss = float(loss_fn(Tensor(scores), np.asarray(y)).item())
    return loss, accuracy(scores, y)


def _as_loader(data, batch_size: int, seed: int | None) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) >= 2:
        return DataLoader(*data, batch_size=batch_size, shuffle=True, seed=seed)
    raise TypeError(
        "fit: train data must be a DataLoader or a tuple (x, y[, more targets]) of arrays, "
        f"got {type(data).__name__}"
    )


def fit(
    model: Module,
    optimizer: Optimizer,
    train: DataLoader | Sequence[np.ndarray],
    *,
    epochs: int,
    loss_fn: Callable | None = None,
    val: Sequence[np.ndarray] | None = None,
    batch_size: int = 64,
    seed: int | None = 0,
    schedule: Schedule | ReduceLROnPlateau | None = None,
    accuracy_fn: Callable | None = accuracy,
    progress: bool = True,
    callback: Callable[[int, History], None] | None = None,
    workers: int | None = None,  # N: data-parallel on N Ray workers (graphgrad.distributed.fit)
    address: str | None = None,  # with workers: the Ray cluster to join ("auto"); default local
    compile: bool = False,  # run the forward + loss step as gg.compile'd code (docs/compile.md)
    scheduler: Schedule | ReduceLROnPlateau | None = None,  # PyTorch's word for `schedule`
) -> History:
    """Train for `epochs` passes over `train`; return the per-epoch `History`.

    Each step: ``loss = loss_fn(model(x), *targets)``, ``zero_grad``, ``backward``, ``step``.
    ``train`` is a `DataLoader` or a tuple ``(x, y, ...)`` batched with ``batch_size`` and
    shuffled with ``seed``. ``val`` = (x, y) is evaluated after every epoch. ``schedule`` (a
    learning-rate schedule; ``scheduler=`` is the same argument) steps once per epoch; a
    `ReduceLROnPlateau` steps with the epoch's monitored metric: the validation loss when there
    is ``val``, else the training loss. The first non-finite loss stops training with
    a `FloatingPointError` naming the epoch, step and loss, after putting back the weights and
    optimizer state that gave the last finite loss (from before the last step). The learning
    rate is blamed (the lecture: "training fails? perhaps the learning rate is too large") only
    when the loss grew before it went non-finite.
    ``compile=True`` traces the forward and loss once per batch shape and train/eval mode and
    runs generated code after that (the same losses as eager mode, to rounding).
    """
    if scheduler is not None:
        if schedule is not None:
            raise ValueError("fit: got both schedule= and scheduler=; they are the same argument "
                             "(graphgrad's and PyTorch's word), give one")
        schedule = scheduler
    if isinstance(schedule, ReduceLROnPlateau) and (workers is not None or address is not None):
        raise ValueError("fit: ReduceLROnPlateau steps with each epoch's loss, which the "
                         "data-parallel fit (workers=, address=) does not pass it; use an epoch "
                         "schedule there, or train in one process")
    if compile and (workers is not None or address is not None):
        raise ValueError("fit: compile=True runs in this process; it does not combine with "
                         "workers= or address= (leave compile off for data-parallel training)")
    if workers is not None or address is not None:  # the same loop on Ray, docs/distributed.md
        from graphgrad.distributed import fit as fit_distributed

        assert not isinstance(schedule, ReduceLROnPlateau)  # refused above
        return fit_distributed(model, optimizer, train, epochs=epochs, loss_fn=loss_fn, val=val,
                               batch_size=batch_size, seed=seed, schedule=schedule,
                               accuracy_fn=accuracy_fn, progress=progress, callback=callback,
                               workers=2 if workers is None else workers, address=address)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
    loss_fn = loss_fn or _default_loss()
    forward = _step_forward(model, loss_fn, compile)
    loader = _as_loader(train, batch_size, seed)
    if len(loader) == 0:
        raise ValueError(
            f"fit: the training data gives no batches ({loader.size} examples, batch_size "
            f"{loader.batch_size}, drop_last={loader.drop_last}); use a smaller batch_size or "
            f"drop_last=False"
        )
    history = History()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * len(loader), unit="batch", leave=False, dynamic_ncols=True)
    guard = _FiniteGuard(model, optimizer)
    try:
        for epoch in range(epochs):
            model.train()
            start = time.perf_counter()
            total_loss, total_correct, seen = 0.0, 0.0, 0
            for step, batch in enumerate(loader):
                x, *targets = batch
                out, loss = forward(Tensor(x), *targets)
                value = float(loss.item())
                guard.check(value, epoch, step)
                optimizer.zero_grad()
                loss.backward()
                guard.before_step()
                optimizer.step()
                count = len(x)
                total_loss += value * count
                seen += count
                if accuracy_fn is not None:
                    total_correct += accuracy_fn(out, *targets) * count
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{value:.4f}", refresh=False)
            history.seconds.append(time.perf_counter() - start)
            history.train_loss.append(total_loss / seen)
            history.train_accuracy.append(
                total_correct / seen if accuracy_fn is not None else float("nan")
            )
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            if val is not None:
                val_loss, val_acc = evaluate(model, val[0], val[1], loss_fn)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_acc)
            if isinstance(schedule, ReduceLROnPlateau):  # validation loss, else training loss
                schedule.step(history.val_loss[-1] if val is not None else history.train_loss[-1])
            elif schedule is not None:
                schedule.step()
            if callback is not None:
                callback(epoch, history)
    finally:
        if bar is not None:
            bar.close()
        model.train()
    return history


def _step_forward(model, loss_fn: Callable, compiled: bool) -> Callable:
    """`(x, *targets) -> (model output, loss)`; compiled, one graph node per output."""
    def fit_step(x, *targets):
        out = model(x)
        return out, loss_fn(out, *targets)

    if not compiled:
        return fit_step
    from graphgrad.compiler import compile as compile_fn  # beside train, not in the engine core

    return compile_fn(fit_step)


class _FiniteGuard:
    """Stops `fit` at the first non-finite loss, with the last finite weights.

    Optimizer steps assign new arrays (never update in place), so keeping references to the
    arrays and state entries from before a step is a free snapshot.
    """

    def __init__(self, model, optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.snapshot: tuple[list, dict] | None = None
        self.first_loss: float | None = None
        self.last_loss: float | None = None

    def before_step(self) -> None:
        params = self.model.parameters()
        self.snapshot = ([(p, p.data) for p in params], dict(self.optimizer.state))

    def check(self, value: float, epoch: int, step: int) -> None:
        if math.isfinite(value):
            if self.first_loss is None:
                self.first_loss = value
            self.last_loss = value
            return
        where = f"fit: loss became {value} at epoch {epoch + 1}, step {step + 1}"
        if self.snapshot is None:
            weights = "no step was taken, so the weights are unchanged"
        else:  # the weights before the last step gave the last finite loss: put them back
            arrays, state = self.snapshot
            bad = [name for name, p in self.model.named_parameters()
                   if not np.isfinite(p.numpy()).all()]
            for p, data in arrays:
                p.data = data
            self.optimizer.state = state
            weights = ("the weights and optimizer state that gave the last finite loss are "
                       "restored" + (f" (the last step made {bad[:3]} non-finite)" if bad else ""))
        if (self.last_loss is not None and self.first_loss is not None
                and self.last_loss > self.first_loss):
            cause = (f"the loss grew from {self.first_loss:.4g} to {self.last_loss:.4g} first: "
                     f"try a smaller learning rate (now {self.optimizer.param_groups[0]['lr']:g})")
        elif self.last_loss is None:
            cause = ("it was the first step, so the model's output or the loss itself is "
                     "non-finite for this batch (a log(0), a division by zero, NaN in the data?)")
        else:
            cause = (f"the loss had not grown (last finite loss {self.last_loss:.4g}): look for "
                     f"a log(0), a division by zero or NaN in this batch")
        raise FloatingPointError(f"{where}; {weights}; {cause}")


def confusion_matrix(y_true: npt.ArrayLike, y_pred: npt.ArrayLike,
                     num_classes: int | None = None) -> np.ndarray:
    """counts[i, j] = how many examples of class i were predicted as j."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: {y_true.shape} labels vs {y_pred.shape} predictions")
    k = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    for name, values in (("label", y_true), ("prediction", y_pred)):
        bad = values[(values < 0) | (values >= k)]
        if bad.size:
            raise ValueError(
                f"confusion_matrix: {name} {int(bad[0])} is not a class in 0..{k - 1}"
                + (f" (num_classes={num_classes})" if num_classes else "")
            )
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


# --------------------------------------------------------------------------------- plots
def _pyplot():
    # matplotlib picks a non-interactive backend by itself when there is no display; figures
    # are only saved to files or returned, never shown here
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: History, path: str | Path | None = None) -> Figure | Path:
    """Loss and accuracy curves, train vs validation (the lecture's baby-sitting plots)."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, history.epochs + 1)
    ax_loss.plot(epochs, history.train_loss, "o-", label="train")
    if history.val_loss:
        ax_loss.plot(epochs, history.val_loss, "s-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.plot(epochs, history.train_accuracy, "o-", label="train")
    if history.val_accuracy:
        ax_acc.plot(epochs, history.val_accuracy, "s-", label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy (a big gap = overfitting)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _finish(plt, fig, path)


def plot_confusion_matrix(counts: np.ndarray, path: str | Path | None = None,
                          labels: Sequence[str] | None = None) -> Figure | Path:
    """Counts as a heat map with the numbers written in, true class on rows."""
    plt = _pyplot()
    counts = np.asarray(counts)
    k = counts.shape[0]
    labels = list(labels) if labels is not None else [str(i) for i in range(k)]
    fig, ax = plt.subplots(figsize=(0.5 * k + 2, 0.5 * k + 1.5))
    image = ax.imshow(counts, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                color = "white" if counts[i, j] > counts.max() / 2 else "black"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=color,
                        fontsize=8)
    ax.set(xticks=range(k), yticks=range(k), xticklabels=labels, yticklabels=labels,
           xlabel="predicted", ylabel="true", title="confusion matrix (test)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _finish(plt, fig, path)


def _finish(plt, fig, path):
    if path is None:
        return fig
    with atomic_write(path) as handle:  # never a half-written figure
        fig.savefig(handle, dpi=110, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)
    return Path(path)
