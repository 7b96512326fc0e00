"""Deconvnet (Zeiler & Fergus 2014) and guided backpropagation (Springenberg et al. 2015).

Both map a class score or one unit's activation back to pixel space with the ordinary backward
pass of the engine, changing only the rule at each ReLU through gradient hooks (see
`graphgrad.inspection._backprop`): nothing is re-implemented, the transposed filters are conv's own
VJP (`conv_transpose`, the "deconvolution") and unpooling with switches is max pooling's own VJP.

    plain gradient   (saliency):  g * [x > 0]
    deconvnet:                    g * [g > 0]            (ReLU applied to the backward signal)
    guided backprop:              g * [g > 0] * [x > 0]  (both)

The switches of a pooling window whose units are all equal (typically all 0 after the ReLU)
are tied: the engine's max rule shares the signal equally among them, where Zeiler & Fergus's
switch would pick one position. This only matters for the deconvnet, whose backward signal is not
masked by the forward ReLU.

`layer=` with `unit=` starts from one unit of an intermediate layer: the notes' "for a given
neuron, set all activations to zero and backprop from there".
"""

from __future__ import annotations

import numpy as np

from ._backprop import backprop_to_input
from ._model import Images, Layer, Model, Target, Unit, as_batch, unbatch


def _run(model, x, target, layer, unit, rule) -> np.ndarray:
    _, single = as_batch(x)
    gradient, _, _ = backprop_to_input(model, x, target, layer=layer, unit=unit, rule=rule)
    return unbatch(gradient, single)


def guided_backprop(model: Model, x: Images, target: Target = None, *, layer: Layer | None = None,
                    unit: Unit = None) -> np.ndarray:
    """Guided backpropagation to the input (same shape as x): only positive signal that passes
    through active units flows back, giving sharp, edge-like reconstructions."""
    return _run(model, x, target, layer, unit, "guided")


def deconvnet(model: Model, x: Images, target: Target = None, *, layer: Layer | None = None,
              unit: Unit = None) -> np.ndarray:
    """Zeiler & Fergus's deconvnet reconstruction (same shape as x): unpool with the max-pool
    switches, rectify the backward signal, filter with the transposed kernels."""
    return _run(model, x, target, layer, unit, "deconvnet")


def backprop_variants(model: Model, x: Images, target: Target = None, *,
                      layer: Layer | None = None, unit: Unit = None) -> dict[str, np.ndarray]:
    """{'gradient', 'deconvnet', 'guided'}: the three reconstructions of the same objective."""
    return {rule: _run(model, x, target, layer, unit, rule)
            for rule in ("gradient", "deconvnet", "guided")}


__all__ = ["backprop_variants", "deconvnet", "guided_backprop"]
