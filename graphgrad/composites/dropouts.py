"""Dropout: randomly silence units while training (Srivastava et al.), in the notes' two forms.

| mode              | training                     | evaluation (training=False) |
|-------------------|------------------------------|-----------------------------|
| "inverted"        | x * mask / (1 - p)           | x (unchanged)               |
| "scale_at_test"   | x * mask                     | x * (1 - p)                 |

`mask` keeps each element with probability 1 - p. Both make the expected training output equal
the evaluation output. "scale_at_test" is the notes' "after training, scale W to compensate";
"inverted" (PyTorch's) does the scaling while training, so evaluation costs nothing. Randomness
comes only from an explicit `generator` (numpy.random.Generator) or `seed`: runs are reproducible.
The mask is the output of `dropout_mask`, a gate with no gradient (the gradient is
g * mask (/ (1 - p))): drawn when the gate runs, so gg.compile's generated code draws a fresh
mask at every call instead of freezing the first one.
"""

from __future__ import annotations

import numpy as np

from .. import _tensor as _tensor_module
from .._primitive import primitive
from .._tensor import Tensor
from ..backend import random_generator
from ..declare import declare
from ..errors import ShapeError

MODES = ("inverted", "scale_at_test")


def _mask_forward(xp, x, *, p: float, scale: float, generator, seed):
    rng = generator if generator is not None else random_generator(seed)
    keep = rng.random(tuple(x.shape)) >= p
    mask = xp.asarray(keep.astype(np.float64) * scale)
    return xp.astype(mask, x.dtype)


dropout_mask = primitive("dropout_mask", symbol="mask", forward=_mask_forward, vjp=None,
                         register=False, doc="dropout's random keep-mask, drawn at every call")


@declare
def dropout(x: Tensor, p: float = 0.5, training: bool = True, mode: str = "inverted",
            generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """Zero each element with probability p while training (torch.nn.functional.dropout, whose
    scaling is mode="inverted"); see the module doc for the modes.

    p = 0.5 is the notes' choice for hidden units, 0.2 for inputs. Gradient: g times the same
    mask (and scale), no gradient through the mask.
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
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    tracer = _tensor_module._tracer
    # gg.compile's trace runs the gate once and the generated code draws this call's mask again:
    # the generator goes back to where it was, so a call draws once, as in eager mode
    state = generator.bit_generator.state if generator is not None and tracer is not None \
        and tracer.tracing() else None
    try:
        return x * dropout_mask(x, p=p, scale=scale, generator=generator, seed=seed)
    finally:
        if state is not None:
            generator.bit_generator.state = state


__all__ = ["dropout", "dropout_mask", "MODES"]
