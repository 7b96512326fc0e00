"""Routes taken while tracing, where eager code turns values into constants in Python.

Two composites make an array on the host from a tensor's values and wrap it as a constant leaf:
dropout's random mask, and cross_entropy's one-hot rows of integer labels. Traced that way, the
first call's values would be folded into the code and reused forever (the same mask, the first
batch's labels). While a trace runs, both are routed through gates made here, run at every call.

Dropout:
Eager dropout makes its mask on the host and wraps it as a constant leaf; traced that way, the
first call's mask would be folded into the code and reused forever. While a trace runs, `dropout`
is routed here: the same checks and the same draws (`generator.random(shape) >= p`), but the
mask is the output of a `dropout_mask` primitive with no VJP, which the generated code calls on
every run (it is never folded nor shared).
"""

from __future__ import annotations

import sys

import numpy as np

from ..backend import random_generator
from ..primitive import primitive
from .codegen import RANDOM_OPS


def _mask_forward(xp, x, *, p: float, scale: float, generator, seed):
    rng = generator if generator is not None else random_generator(seed)
    keep = rng.random(tuple(x.shape)) >= p
    mask = xp.asarray(keep.astype(np.float64) * scale)
    return xp.astype(mask, x.dtype)


dropout_mask = primitive("dropout_mask", symbol="mask", forward=_mask_forward, vjp=None,
                         register=False, doc="dropout's random keep-mask, drawn at every call")
RANDOM_OPS.add(id(dropout_mask))


def _traced_dropout(original):
    def dropout(x, p: float = 0.5, training: bool = True, mode: str = "inverted",
                generator=None, seed=None):
        from .trace import tracing

        if tracing() is None or not training or p == 0.0:
            return original(x, p, training, mode, generator, seed)
        original(x, p, False, mode, None, None)  # the eager checks of p and mode, nothing drawn
        if generator is not None and seed is not None:
            return original(x, p, training, mode, generator, seed)  # raises the eager error
        scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
        # the trace runs the gate once; the generated code draws this call's mask again, so
        # the generator goes back to where it was (the call draws once, as in eager mode)
        state = generator.bit_generator.state if generator is not None else None
        try:
            return x * dropout_mask(x, p=p, scale=scale, generator=generator, seed=seed)
        finally:
            if state is not None:
                generator.bit_generator.state = state

    dropout.__wrapped__ = original
    dropout.__doc__ = original.__doc__
    return dropout


def _one_hot_forward(xp, labels, *, classes: int, dtype):
    if labels.size and (int(xp.min(labels)) < 0 or int(xp.max(labels)) >= classes):
        raise ValueError(f"cross_entropy: labels must lie in [0, {classes - 1}] for {classes} "
                         f"classes")
    axis_shape = (1, classes) + (1,) * (labels.ndim - 1)
    hits = xp.expand_dims(labels, axis=1) == xp.reshape(xp.arange(classes), axis_shape)
    return xp.astype(hits, dtype)


one_hot = primitive("one_hot", symbol="one-hot", forward=_one_hot_forward, vjp=None,
                    register=False, doc="integer labels (N, *d) as one-hot rows (N, C, *d)")


def _traced_target_distribution(original):
    def target_distribution(logits, targets):
        from ..tensor import Tensor
        from .trace import tracing

        if tracing() is None or not isinstance(targets, Tensor) or targets.shape == logits.shape \
                or targets.dtype.kind not in "iu":
            return original(logits, targets)
        label_shape = logits.shape[:1] + logits.shape[2:]
        if targets.shape != label_shape:
            return original(logits, targets)  # raises the eager error
        return one_hot(targets, classes=logits.shape[1], dtype=logits.data.dtype)

    target_distribution.__wrapped__ = original
    return target_distribution


_TARGETS = (("graphgrad", "dropout", _traced_dropout),
            ("graphgrad.composites", "dropout", _traced_dropout),
            ("graphgrad.composites.dropout", "dropout", _traced_dropout),
            ("graphgrad.composites.losses", "_target_distribution", _traced_target_distribution))


def install(saved: dict) -> None:
    """Route `gg.dropout` (and what nn.Dropout looks up) and cross_entropy's labels."""
    for module_name, attr, route in _TARGETS:
        module = sys.modules.get(module_name)
        if module is None or not callable(getattr(module, attr, None)):
            continue
        original = getattr(module, attr)
        saved[(module_name, attr)] = original
        setattr(module, attr, route(original))


def uninstall(saved: dict) -> None:
    for module_name, attr, _ in _TARGETS:
        original = saved.pop((module_name, attr), None)
        if original is not None:
            setattr(sys.modules[module_name], attr, original)


__all__ = ["dropout_mask", "one_hot", "install", "uninstall"]
