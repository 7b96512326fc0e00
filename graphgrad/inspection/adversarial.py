"""Adversarial examples: small input changes that flip a confident prediction.

- `fgsm` (Goodfellow et al. 2015), the fast gradient sign method: one step
  x_adv = x + eps * sign(dL/dx) on the cross-entropy L of the true label.
- `targeted_perturbation` (Szegedy et al. 2014), the notes' problem
      argmin ||dx||  subject to  f(x + dx) = y_target,
  solved by the penalty method: minimise lambda ||dx||^2 + CE(f(x + dx), y_target) by gradient
  descent (Adam on dx), with a per-image bisection on lambda (a larger lambda gives a smaller dx)
  keeping the smallest successful dx, then a line search on the scale s in (0, 1] of that dx (the
  smallest s still classified as the target).

Both report the success rate and the perturbation norms. The input is not clipped to a pixel
range (the digits are standardised, so any real value is an image); clip yourself if needed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._backprop import backprop_to_input
from ._model import Images, Model, ModelError, Target, as_batch, scores, softmax, targets_for


class AttackResult(NamedTuple):
    """What an attack did to each of N images.

    `success`: FGSM: the prediction on the adversarial image is not the true label (counted only
    for images the model got right); targeted: the prediction is the target. `probability_before`
    / `_after`: of the true label (FGSM) or of the target (targeted).
    """

    adversarial: np.ndarray
    perturbation: np.ndarray
    predicted: np.ndarray
    success: np.ndarray
    l2: np.ndarray
    linf: np.ndarray
    probability_before: np.ndarray
    probability_after: np.ndarray
    counted: np.ndarray  # images the success rate is over

    @property
    def success_rate(self) -> float:
        counted = self.counted.sum()
        return float(self.success[self.counted].sum() / counted) if counted else float("nan")

    @property
    def mean_l2(self) -> float:
        """Mean L2 norm of the successful perturbations (NaN when none succeeded)."""
        ok = self.success & self.counted
        return float(self.l2[ok].mean()) if ok.any() else float("nan")

    def summary(self) -> str:
        return (f"success rate {self.success_rate:.1%} of {int(self.counted.sum())} images, "
                f"mean L2 {self.mean_l2:.3g}, mean Linf {float(self.linf.mean()):.3g}")


def _labels(y, n: int, name: str) -> np.ndarray:
    values = np.asarray(y)
    if values.ndim == 0:
        values = np.full(n, int(values))
    if values.shape != (n,) or values.dtype.kind not in "iu":
        raise ModelError(f"{name} must be an int or {n} ints (one per image), got {y!r}")
    return values.astype(np.int64)


def _ce_seed(labels: np.ndarray):
    """dCE/dscores = softmax(scores) - onehot(labels): the cross-entropy's gradient seed."""
    def seed(values: np.ndarray) -> np.ndarray:
        g = softmax(values.astype(np.float64))
        g[np.arange(len(labels)), labels] -= 1.0
        return g
    return seed


def _norms(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flat = delta.reshape(len(delta), -1).astype(np.float64)
    return np.linalg.norm(flat, axis=1), np.abs(flat).max(axis=1)


def loss_gradient(model: Model, x: Images, y: Target) -> np.ndarray:
    """d CE(f(x), y) / dx for a batch (N, C, H, W): the direction that raises the loss of y."""
    batch, _ = as_batch(x)
    labels = _labels(y, len(batch), "y")
    gradient, _, _ = backprop_to_input(model, batch, seed=_ce_seed(labels))
    return gradient


def fgsm(model: Model, x: Images, y: Target, eps: float = 0.25) -> AttackResult:
    """Fast gradient sign method: x + eps * sign(dCE(f(x), y)/dx) for each image (N, C, H, W)."""
    if not eps > 0:
        raise ModelError(f"fgsm: eps must be positive, got {eps!r}")
    batch, _ = as_batch(x)
    labels = _labels(y, len(batch), "y")
    before = softmax(scores(model, batch).astype(np.float64))
    delta = (eps * np.sign(loss_gradient(model, batch, labels))).astype(batch.dtype)
    adversarial = batch + delta
    after = softmax(scores(model, adversarial).astype(np.float64))
    predicted = after.argmax(axis=1)
    rows = np.arange(len(batch))
    l2, linf = _norms(delta)
    return AttackResult(adversarial, delta, predicted, predicted != labels, l2, linf,
                        before[rows, labels], after[rows, labels], before.argmax(axis=1) == labels)


def targeted_perturbation(model: Model, x: Images, target: Target, *, steps: int = 60,
                          lr: float = 0.05,
                          penalty: float = 1.0, search_steps: int = 6,
                          line_search_steps: int = 12) -> AttackResult:
    """The smallest dx (L2) found that makes the model predict `target` for each image.

    `penalty`: the first lambda; each of `search_steps` rounds runs `steps` Adam steps of size
    `lr` on lambda ||dx||^2 + CE(f(x + dx), target), then moves lambda up (success: try a
    smaller dx) or down (failure), geometrically. The best success is then shortened by
    bisection on its scale (`line_search_steps`). Images already predicted as the target
    succeed with dx = 0.
    """
    if steps < 1 or search_steps < 1 or lr <= 0 or penalty <= 0:
        raise ModelError("targeted_perturbation: need steps >= 1, search_steps >= 1, lr > 0 and "
                         f"penalty > 0; got {steps}, {search_steps}, {lr}, {penalty}")
    batch, _ = as_batch(x)
    n = len(batch)
    targets = _labels(target, n, "target")
    before = softmax(scores(model, batch).astype(np.float64))
    rows = np.arange(n)
    classes = before.shape[1]
    targets_for(targets, n, classes=classes)  # range check
    lam = np.full(n, float(penalty))
    low, high = np.zeros(n), np.full(n, np.inf)
    best = np.zeros_like(batch)
    best_norm = np.where(before.argmax(axis=1) == targets, 0.0, np.inf)
    seed = _ce_seed(targets)
    for _ in range(search_steps):
        delta = np.zeros_like(batch, dtype=np.float64)
        m, v = np.zeros_like(delta), np.zeros_like(delta)
        for t in range(1, steps + 1):
            gradient, _, _ = backprop_to_input(model, (batch + delta).astype(batch.dtype),
                                               seed=seed)
            g = gradient + 2.0 * lam[:, None, None, None] * delta
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            delta -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        delta = delta.astype(batch.dtype)
        hit = scores(model, batch + delta).argmax(axis=1) == targets
        norms, _ = _norms(delta)
        better = hit & (norms < best_norm)
        best[better], best_norm[better] = delta[better], norms[better]
        low = np.where(hit, lam, low)
        high = np.where(hit, high, lam)
        lam = np.where(np.isinf(high), lam * 10.0,
                       np.where(low == 0, lam / 10.0, np.sqrt(np.maximum(low, 1e-12) * high)))
    found = np.isfinite(best_norm) & (best_norm > 0)
    if found.any() and line_search_steps:
        lo, hi = np.zeros(n), np.ones(n)                 # hi: a scale known to succeed
        for _ in range(line_search_steps):
            mid = (lo + hi) / 2
            hit = scores(model, batch + mid[:, None, None, None].astype(batch.dtype) * best
                         ).argmax(axis=1) == targets
            hi = np.where(found & hit, mid, hi)
            lo = np.where(found & ~hit, mid, lo)
        best = (hi[:, None, None, None] * best).astype(batch.dtype)
    adversarial = batch + best
    after = softmax(scores(model, adversarial).astype(np.float64))
    predicted = after.argmax(axis=1)
    l2, linf = _norms(best)
    return AttackResult(adversarial, best, predicted, predicted == targets, l2, linf,
                        before[rows, targets], after[rows, targets], np.ones(n, dtype=bool))


__all__ = ["AttackResult", "fgsm", "loss_gradient", "targeted_perturbation"]
