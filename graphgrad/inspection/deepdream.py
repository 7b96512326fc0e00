"""Deep dream (Mordvintsev et al. 2015): feed a real image and amplify a whole layer.

Instead of one class score, maximise the energy 1/2 ||a(I)||^2 of every activation of a layer,
starting from a real input: "lower layers detect edges etc., on optimization such features will
get boosted up; slightly higher layers start to overinterpret shapes in images". Each step is a
gradient-ascent step normalised by the mean absolute gradient (so `lr` is in pixel units),
optionally with a random shift of the image (jitter) to avoid grid artifacts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._backprop import backprop_to_input, energy_seed
from ._model import Images, Layer, Model, ModelError, as_batch, unbatch


class Dream(NamedTuple):
    """The dreamed image(s), shaped like the input, and the layer energy per step (steps, N)."""

    images: np.ndarray
    energy: np.ndarray


def deep_dream(model: Model, x: Images, layer: Layer, *, steps: int = 20, lr: float = 0.05,
               jitter: int = 0,
               seed: int = 0) -> Dream:
    """Amplify whatever `layer` (module path, op selector or callable) sees in x."""
    if steps < 1 or lr <= 0 or jitter < 0:
        raise ModelError(f"deep_dream: need steps >= 1, lr > 0, jitter >= 0; got steps={steps}, "
                         f"lr={lr}, jitter={jitter}")
    batch, single = as_batch(x)
    images = batch.copy()
    rng = np.random.default_rng(seed)
    energy = np.empty((steps, len(images)))
    for step in range(steps):
        dy, dx = rng.integers(-jitter, jitter + 1, size=2) if jitter else (0, 0)
        shifted = np.roll(images, (dy, dx), axis=(2, 3))
        gradient, _, objective = backprop_to_input(model, shifted, layer=layer, seed=energy_seed)
        gradient = np.roll(gradient, (-dy, -dx), axis=(2, 3))
        energy[step] = objective
        scale = np.abs(gradient).reshape(len(images), -1).mean(axis=1) + 1e-12
        images = images + lr * gradient / scale[:, None, None, None]
    return Dream(unbatch(images, single), energy)


__all__ = ["Dream", "deep_dream"]
