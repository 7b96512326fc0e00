"""Occlusion maps (Zeiler & Fergus 2014): does the net look at the object, or at its context?

Slide a square occluder over the image and record the probability of the class at each position.
Where covering the image makes the probability drop, the network relied on those pixels. All the
occluded copies of an image are scored in batches, so a map costs a few forward passes.
"""

from __future__ import annotations

import numpy as np

from ._model import (Images, Model, ModelError, Target, as_batch, scores, softmax, targets_for,
                     unbatch)


def occluder_positions(size: int, stride: int) -> np.ndarray:
    """Centres of the occluder along one axis: 0, stride, 2*stride, ... < size."""
    return np.arange(0, size, stride)


def _check(name: str, value, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
            not 1 <= value <= limit:
        raise ModelError(f"occlusion_map: {name} must be an int in 1..{limit} (the image side), "
                         f"got {value!r}")
    return int(value)


def occlusion_map(model: Model, x: Images, target: Target = None, *, patch: int = 3,
                  stride: int = 1, fill: float | str = "mean",
                  batch_size: int = 512) -> np.ndarray:
    """Probability of `target` with a patch x patch occluder centred on each grid position.

    Returns (rows, cols) for one image (C, H, W), (N, rows, cols) for a batch; cell (r, c) is the
    occluder centred on pixel (r * stride, c * stride), clipped at the border, so with stride 1
    the map is aligned with the image. `fill`: the occluder's value, a number or "mean" (each
    image's mean per channel: a grey square). `target`: class per image (None: the predicted).
    """
    batch, single = as_batch(x)
    n, channels, height, width = batch.shape
    patch = _check("patch", patch, max(height, width))
    stride = _check("stride", stride, max(height, width))
    if isinstance(fill, str):
        if fill != "mean":
            raise ModelError(f"occlusion_map: fill must be a number or 'mean', got {fill!r}")
        fills = batch.mean(axis=(2, 3))                              # (N, C)
    else:
        fills = np.full((n, channels), float(fill), dtype=batch.dtype)
    targets = targets_for(target, n, scores(model, batch) if target is None else None)
    rows = occluder_positions(height, stride)
    cols = occluder_positions(width, stride)
    before = (patch - 1) // 2
    result = np.empty((n, len(rows), len(cols)), dtype=np.float64)
    for i in range(n):
        copies = np.repeat(batch[i:i + 1], len(rows) * len(cols), axis=0)
        k = 0
        for r in rows:
            top, bottom = max(r - before, 0), min(r - before + patch, height)
            for c in cols:
                left, right = max(c - before, 0), min(c - before + patch, width)
                copies[k, :, top:bottom, left:right] = fills[i][:, None, None]
                k += 1
        probs = softmax(scores(model, copies, batch_size).astype(np.float64))[:, targets[i]]
        result[i] = probs.reshape(len(rows), len(cols))
    return unbatch(result, single)


__all__ = ["occlusion_map", "occluder_positions"]
