"""Heatmap thumbnails of feature maps, kernels and gradients, embedded in graph-style nodes.

Colours come from matplotlib's colormaps (viridis for values, a diverging map centred on zero for
gradients); the pixels are written with Pillow (no figure, so a thumbnail costs about a
millisecond). Files are named by a hash of their content, so the DOT source is stable.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

import numpy as np

from ..atomic import atomic_write

_DEFAULT_DIR: list[str] = []
MAX_TILES = 6
TARGET = 32  # pixel height of one feature-map or kernel tile
MATRIX = 96  # pixel size of the longer side of a matrix heatmap
MAX_COLUMNS = 128  # a wider matrix is averaged into this many column bins
MIN_HEIGHT = 16  # pixel height of a thin matrix strip at least


def _default_dir() -> str:
    if not _DEFAULT_DIR:
        _DEFAULT_DIR.append(tempfile.mkdtemp(prefix="graphgrad-thumbs-"))
    return _DEFAULT_DIR[0]


def tiles(array: np.ndarray, is_kernel: bool) -> list[np.ndarray] | None:
    """The 2-D images to show: channels of the first sample, one kernel per output channel, or
    any matrix of 16 or more elements (a (batch, features) activation as a strip: every tensor
    node with a picture gets one, not only the input)."""
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 4:
        return [a[i, 0] for i in range(min(a.shape[0], MAX_TILES))] if is_kernel else \
            [a[0, c] for c in range(min(a.shape[1], MAX_TILES))]
    if a.ndim == 3:
        return [a[c] for c in range(min(a.shape[0], MAX_TILES))]
    if a.ndim == 2 and a.size >= 16:
        if a.shape[1] > MAX_COLUMNS:  # a (batch, features) strip: features averaged into bins
            a = np.stack([part.mean(axis=1) for part in np.array_split(a, MAX_COLUMNS, axis=1)], 1)
        return [a]
    return None


def heatmap(images: list[np.ndarray], which: str) -> np.ndarray:
    """RGB uint8 strip of the tiles, one shared colour scale, 2-pixel white gaps."""
    import matplotlib

    finite = [im[np.isfinite(im)] for im in images]
    values = np.concatenate([f.ravel() for f in finite]) if finite else np.zeros(1)
    values = values if values.size else np.zeros(1)
    if which == "grad":
        bound = float(np.max(np.abs(values))) or 1.0
        lo, hi, cmap = -bound, bound, matplotlib.colormaps["RdBu_r"]
    else:
        lo, hi, cmap = float(values.min()), float(values.max()), matplotlib.colormaps["viridis"]
    span = (hi - lo) or 1.0
    strips = []
    for image in images:
        if len(images) == 1:  # a thin strip gets taller pixels so it stays visible
            scale = max(1, MATRIX // max(image.shape))
            tall = max(scale, MIN_HEIGHT // max(image.shape[0], 1))
        else:
            scale = tall = max(1, TARGET // max(image.shape[0], 1))
        norm = np.clip((np.nan_to_num(image, nan=lo) - lo) / span, 0, 1)
        rgb = (cmap(norm)[..., :3] * 255).astype(np.uint8)
        rgb = np.repeat(np.repeat(rgb, tall, axis=0), scale, axis=1)
        strips.append(rgb)
    height = max(s.shape[0] for s in strips)
    gap = np.full((height, 2, 3), 255, np.uint8)
    padded = []
    for strip in strips:
        if strip.shape[0] < height:
            pad = np.full((height - strip.shape[0], strip.shape[1], 3), 255, np.uint8)
            strip = np.concatenate([strip, pad], axis=0)
        padded += [strip, gap]
    return np.concatenate(padded[:-1], axis=1)


def thumbnail(array: np.ndarray, which: str, is_kernel: bool,
              directory: str | None = None) -> str | None:
    """Path of a PNG heatmap of `array` (None when it has no 2-D structure to show)."""
    images = tiles(array, is_kernel)
    if not images:
        return None
    from PIL import Image

    rgb = heatmap(images, which)
    digest = hashlib.sha1(rgb.tobytes() + str(rgb.shape).encode()).hexdigest()[:16]
    directory = directory or _default_dir()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"thumb_{digest}.png")
    if not os.path.exists(path):
        with atomic_write(path) as handle:
            Image.fromarray(rgb).save(handle, format="PNG")
    return os.path.abspath(path)
