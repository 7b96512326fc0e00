"""Dropout: randomly silence units while training (Srivastava et al.), in the notes' two forms.

| mode              | training                     | evaluation (training=False) |
|-------------------|------------------------------|-----------------------------|
| "inverted"        | x * mask / (1 - p)           | x (unchanged)               |
| "scale_at_test"   | x * mask                     | x * (1 - p)                 |

`mask` keeps each element with probability 1 - p. Both make the expected training output equal
the evaluation output. "scale_at_test" is the notes' "after training, scale W to compensate";
"inverted" (PyTorch's) does the scaling while training, so evaluation costs nothing. Randomness
comes only from an explicit `generator` (numpy.random.Generator) or `seed`: runs are reproducible.
The mask is a constant of the graph: the gradient is g * mask (/ (1 - p)).
"""

from __future__ import annotations

import numpy as np

from ..backend import random_generator
from ..errors import ShapeError
from ..tensor import Tensor

MODES = ("inverted", "scale_at_test")


def dropout(x: Tensor, p: float = 0.5, training: bool = True, mode: str = "inverted",
            generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """Zero each element with probability p while training; see the module doc for the modes.

    p = 0.5 is the notes' choice for hidden units, 0.2 for inputs.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ShapeError(f"dropout: p must be in [0, 1) (the fraction of units dropped), got {p!r}")
    if mode not in MODES:
        raise ShapeError(f"dropout: mode must be one of {MODES}, got {mode!r}")
    if not training:
        return x if mode == "inverted" or p == 0.0 else x * (1.0 - p)
    if p == 0.0:
        return x
    if generator is not None and seed is not None:
        raise ShapeError("dropout: give either a generator or a seed, not both")
    rng = generator if generator is not None else random_generator(seed)
    keep = rng.random(x.shape) >= p
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    mask = x.device.asarray(keep.astype(np.float64) * scale)
    mask = x.device.xp.astype(mask, x.data.dtype)
    return x * Tensor._leaf(mask, x.device)


__all__ = ["dropout", "MODES"]
