"""How to draw inputs for each composite (domains are data). Keyed by composite name."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad.testing import strategies as gst


def _elementwise(fn):
    def draw(data):
        shape = data.draw(gst.shapes(), label="shape")
        return fn, [data.draw(gst.arrays(shape, away_from_zero=0.05), label="x")]
    return draw


def _along_axis(fn):
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
        return (lambda t: fn(t, axis=axis)), [data.draw(gst.arrays(shape), label="x")]
    return draw


def _classification(loss, labels_as="int"):
    """Logits (N, C), or (N, C, d1, ...) with a label per position (PyTorch's K-d case)."""
    def draw(data):
        n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
        positions = data.draw(gst.shapes(max_dims=2, max_side=3), label="positions")
        logits = data.draw(gst.arrays((n, c) + positions), label="logits")
        labels = data.draw(hnp.arrays(np.int64, (n,) + positions, elements=st.integers(0, c - 1)),
                           label="labels")
        if labels_as == "onehot":
            labels = np.moveaxis(np.eye(c)[labels], -1, 1)
        return (lambda t: loss(t, labels)), [logits]
    return draw


def _regression(loss, domain="real"):
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        x = data.draw(gst.arrays(shape, domain), label="x")
        target = data.draw(gst.arrays(shape, "real"), label="target")
        if domain == "unit":  # probabilities in (0.05, 0.95); 0/1 targets
            x = 0.5 + 0.45 * x
            target = (target > 0).astype(np.float64)
        return (lambda t: loss(t, gg.tensor(target))), [x]
    return draw


COMPOSITE_SPECS = {
    "sigmoid": _elementwise(gg.sigmoid),
    "tanh": _elementwise(gg.tanh),
    "relu": _elementwise(gg.relu),  # away_from_zero keeps finite differences off the kink
    "softmax": _along_axis(gg.softmax),
    "log_softmax": _along_axis(gg.log_softmax),
    "cross_entropy": _classification(gg.cross_entropy),
    "mse_loss": _regression(gg.mse_loss),
    "binary_cross_entropy": _regression(gg.binary_cross_entropy, domain="unit"),
    "binary_cross_entropy_with_logits": _regression(
        lambda x, t: gg.binary_cross_entropy_with_logits(x, (t > 0).astype("float64"))),
}
SMOOTH = {"sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy", "mse_loss",
          "binary_cross_entropy"}

# convolution and pooling composites draw their own geometry (tests/composites/test_conv_specs.py)
from .test_conv_specs import CONV_POOL_SMOOTH, CONV_POOL_SPECS

COMPOSITE_SPECS.update(CONV_POOL_SPECS)
SMOOTH = SMOOTH | CONV_POOL_SMOOTH
