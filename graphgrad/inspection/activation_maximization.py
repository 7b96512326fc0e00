"""Class model visualisation and activation maximisation (Simonyan et al. 2014; Yosinski et al.
2015), the notes' "numerically generate an image for a class":

    argmax_I  S_c(I) - lambda ||I||^2          (or any unit a_i(I) instead of S_c)

Fix the network, start from an image I0 (zeros, noise or a real image), and do gradient ascent
on the pixels: the same backpropagation as training, only the update goes to the input. The L2
penalty alone "introduces high frequency artifacts", so the notes add two regularisers: blur I
every few updates, and clip the pixels with small values or small contributions to zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ._backprop import backprop_to_input
from ._model import Images, Layer, Model, ModelError, Unit, gaussian_blur, input_dtype


class Visualization(NamedTuple):
    """The generated images (N, C, H, W) and the objective (S_c(I) or a_i(I)) per step
    (steps, N)."""

    images: np.ndarray
    objective: np.ndarray


def _dtype(model, init, dtype):
    """The images' dtype: given, else the model's parameters', else a given image's, else the
    default dtype (gg.get_default_dtype())."""
    if dtype is not None:
        return np.dtype(dtype)
    if not hasattr(model, "parameters") and not isinstance(init, str) and \
            np.asarray(init).dtype.kind == "f":
        return np.asarray(init).dtype
    return input_dtype(model)


def _initial(init, count: int, shape, seed: int, dtype) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if isinstance(init, str):
        if shape is None:
            raise ModelError("class_model: give shape=(C, H, W) with init='zeros' or 'noise'")
        if init == "zeros":
            return np.zeros((count,) + tuple(shape), dtype=dtype)
        if init == "noise":
            return (0.1 * rng.standard_normal((count,) + tuple(shape))).astype(dtype)
        raise ModelError(f"init must be 'zeros', 'noise' or an image array, got {init!r}")
    image = np.asarray(init, dtype=dtype)
    if image.ndim == 3:
        image = np.repeat(image[None], count, axis=0)
    if image.ndim != 4 or len(image) not in (1, count):
        raise ModelError(f"init image must be (C, H, W) or ({count}, C, H, W), got {image.shape}")
    return np.repeat(image, count, axis=0) if len(image) == 1 and count > 1 else image.copy()


def _clip_below(images: np.ndarray, values: np.ndarray, percentile: float) -> np.ndarray:
    """Zero the pixels (all channels) whose value, per image, is below the percentile."""
    if percentile <= 0:
        return images
    flat = values.reshape(len(values), -1)
    limits = np.percentile(flat, percentile, axis=1)[:, None, None]
    keep = values >= limits
    return images * keep[:, None, :, :]


def class_model(model: Model, target: int | Sequence[int] = 0, *, layer: Layer | None = None,
                unit: Unit = None, shape: tuple[int, ...] | None = None,
                init: str | Images = "zeros",
                steps: int = 200, lr: float = 1.0, l2: float = 0.01, blur_every: int = 0,
                blur_sigma: float = 0.5, clip_norm: float = 0.0, clip_contribution: float = 0.0,
                seed: int = 0, dtype: npt.DTypeLike | None = None) -> Visualization:
    """Gradient ascent on the input to maximise a class score (or one unit) minus l2 * ||I||^2.

    - `target`: a class or a list of classes (one image each, optimised together); with
      `layer=` (a module path or op selector), `unit` picks the unit of that layer instead
      (an index into one image's activations; a channel index maximises the whole map).
    - `init`: "zeros" (the notes' zero image), "noise", or a real image (C, H, W);
      `shape=(C, H, W)` is needed for "zeros" and "noise".
    - each step: I += lr * (dS/dI - 2 l2 I); every `blur_every` steps a Gaussian blur of
      `blur_sigma` pixels; `clip_norm` / `clip_contribution` (percentiles, 0 = off): pixels whose
      norm over channels / contribution |sum_c I * dS/dI| is below that percentile are set to 0.
    - `dtype`: of the images (default: the model's parameters', else the default dtype).
    """
    if steps < 1 or lr <= 0 or l2 < 0:
        raise ModelError(f"class_model: need steps >= 1, lr > 0 and l2 >= 0, got steps={steps}, "
                         f"lr={lr}, l2={l2}")
    for name, value in (("clip_norm", clip_norm), ("clip_contribution", clip_contribution)):
        if not 0 <= value < 100:
            raise ModelError(f"class_model: {name} is a percentile in [0, 100), got {value}")
    if layer is None:
        targets = np.atleast_1d(np.asarray(target))
        count = len(targets)
    else:
        targets, count = None, 1 if np.ndim(init) != 4 else np.shape(init)[0]
    images = _initial(init, count, shape, seed, _dtype(model, init, dtype))
    history = np.empty((steps, count))
    for step in range(steps):
        gradient, _, objective = backprop_to_input(model, images, targets, layer=layer, unit=unit)
        history[step] = objective
        if step == 0 and not np.any(gradient):
            warnings.warn("class_model: the gradient at the initial image is exactly zero (every "
                          "ReLU it reaches is inactive there), so the image cannot move; start "
                          "from init='noise' or a real image", RuntimeWarning, stacklevel=2)
        images = images + lr * (gradient - 2.0 * l2 * images)
        if blur_every and (step + 1) % blur_every == 0:
            images = gaussian_blur(images, blur_sigma)
        images = _clip_below(images, np.linalg.norm(images, axis=1), clip_norm)
        images = _clip_below(images, np.abs((images * gradient).sum(axis=1)), clip_contribution)
    return Visualization(images, history)


__all__ = ["Visualization", "class_model"]
