"""What a plain backward() keeps of a large array: its statistics, not its values.

After `backward()` without `retain_graph` the graph's structure stays walkable for drawing (as
PyTorch keeps `grad_fn` after freeing the saved tensors), but an intermediate array of more than
`KEEP_ELEMENTS` elements is replaced by an `ArraySummary`: memory stays flat over a training loop,
and a drawing still shows the shape, dtype and the statistics of every node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Array
from .errors import GraphFreedError

KEEP_ELEMENTS = 4096  # arrays up to this size are kept in full (every lecture circuit, 8x8 maps)


@dataclass(frozen=True)
class ArraySummary:
    """Shape, dtype and float64 statistics of an array whose values were released by backward."""

    shape: tuple[int, ...]
    dtype: np.dtype
    mean: float
    std: float
    min: float
    max: float
    norm: float
    nonfinite: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __array__(self, dtype=None, copy=None):
        raise GraphFreedError(
            f"the values of this {self.shape} {self.dtype} array were released by backward() "
            f"(only its statistics are kept: {self}); pass retain_graph=True to backward() to "
            f"keep every value")

    @classmethod
    def of(cls, array: Array, xp: Any) -> ArraySummary:
        """Five passes over the array (min, max, sum, spread, sum of squares) and one centred
        copy (this runs in every plain backward, for each large node: array methods, no
        wrappers). The drawing's statistics (`viz.labels.stats`) come from here too."""
        flat = array.reshape(-1)
        if flat.dtype.kind != "f":
            flat = flat.astype(xp.float64)
        size = flat.size
        low, high = float(flat.min()), float(flat.max())
        nonfinite = 0
        if not (math.isfinite(low) and math.isfinite(high)):
            finite = xp.isfinite(flat)
            nonfinite = size - int(xp.count_nonzero(finite))
            flat = flat[finite]
            if flat.size == 0:
                nan = math.nan
                return cls(tuple(array.shape), array.dtype, nan, nan, nan, nan, nan, nonfinite)
            low, high = float(flat.min()), float(flat.max())
        count = flat.size
        mean = float(flat.sum()) / count
        # the spread around the mean, not E[x^2] - mean^2: in float32 that difference cancels
        # (values 100 +- 0.01 gave std 0.033)
        centred = flat - mean
        spread = float(xp.vdot(centred, centred))
        return cls(tuple(array.shape), array.dtype, mean, math.sqrt(spread / count), low, high,
                   math.sqrt(float(xp.vdot(flat, flat))), nonfinite)

    def __str__(self) -> str:
        return (f"mean {self.mean:.4g} std {self.std:.4g} min {self.min:.4g} max {self.max:.4g}")


def keep(array: Array, xp: Any) -> Array | ArraySummary:
    """`array` itself when small, else its summary (what backward keeps of a value or gradient)."""
    if array.size <= KEEP_ELEMENTS:
        return array
    return ArraySummary.of(array, xp)
