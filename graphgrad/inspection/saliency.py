"""Class saliency maps (Simonyan, Vedaldi & Zisserman 2014), as in the lecture notes.

Near an image I0 the class score is roughly linear, S_c(I) ~ w^T I + b with w = dS_c/dI at I0,
so |w| ranks the pixels by their influence on the score; with several colour channels take the
max over channels. S_c is the unnormalised score (before softmax), as the notes insist: the
softmax probability can rise by lowering the other classes instead.
"""

from __future__ import annotations

import numpy as np

from ._backprop import backprop_to_input
from ._model import Images, Model, Target, as_batch, unbatch


def input_gradient(model: Model, x: Images, target: Target = None) -> np.ndarray:
    """dS_c/dI: the gradient of the class score with respect to the input, same shape as x.

    `target`: the class c (an int, one int per image, or None for the predicted class).
    """
    _, single = as_batch(x)
    gradient, _, _ = backprop_to_input(model, x, target)
    return unbatch(gradient, single)


def saliency_map(model: Model, x: Images, target: Target = None) -> np.ndarray:
    """|dS_c/dI| maximised over channels: (H, W) for one image (C, H, W), (N, H, W) for a batch."""
    _, single = as_batch(x)
    gradient, _, _ = backprop_to_input(model, x, target)
    return unbatch(np.abs(gradient).max(axis=1), single)


__all__ = ["input_gradient", "saliency_map"]
