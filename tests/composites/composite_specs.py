"""How to draw inputs for each composite (domains are data). Keyed by composite name."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphgrad as gg
from graphgrad.testing import strategies as gst

# convolution, pooling and normalisation composites draw their own geometry and statistics
from .test_conv_specs import CONV_POOL_SMOOTH, CONV_POOL_SPECS
from .test_normalization import NORM_SMOOTH, NORM_SPECS


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


def _classification(loss, smoothing=False):
    """Logits (N, C), or (N, C, d1, ...) with a label per position (PyTorch's K-d case), with
    PyTorch's options drawn: class weights, ignored labels (-100 or a class), label smoothing,
    every reduction, the labels as an array or as a Tensor (the in-graph one-hot gate)."""
    def draw(data):
        n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
        positions = data.draw(gst.shapes(max_dims=2, max_side=3), label="positions")
        logits = data.draw(gst.arrays((n, c) + positions), label="logits")
        ignore_index = data.draw(st.sampled_from([-100, -100, 0, c - 1]), label="ignore_index")
        labels = data.draw(hnp.arrays(np.int64, (n,) + positions,
                                      elements=st.sampled_from(sorted({*range(c), ignore_index}))),
                           label="labels")
        labels.flat[0] = (ignore_index + 1) % c  # one position counts: no 0/0 under "mean"
        options = {"ignore_index": ignore_index,
                   "reduction": data.draw(st.sampled_from(["mean", "sum", "none"]), label="red")}
        if data.draw(st.booleans(), label="weighted"):
            options["weight"] = data.draw(hnp.arrays(np.float64, (c,), elements=st.floats(
                0.25, 2.0)), label="weight")
        if smoothing:
            options["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]),
                                                   label="label_smoothing")
        target = gg.tensor(labels) if data.draw(st.booleans(), label="as_tensor") else labels
        if smoothing and data.draw(st.booleans(), label="distribution"):  # (N, C, *d) targets
            scores = np.exp(data.draw(gst.arrays(logits.shape), label="target scores"))
            target, options["ignore_index"] = scores / scores.sum(axis=1, keepdims=True), -100
        return (lambda t: loss(t, target, **options)), [logits]
    return draw


def _regression(loss, domain="real", off_kink=False):
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        x = data.draw(gst.arrays(shape, domain), label="x")
        target = data.draw(gst.arrays(shape, "real"), label="target")
        if off_kink:  # |x - t| has a kink where they meet: finite differences straddle it
            x = np.where(np.abs(x - target) < 1e-3, target + 0.01, x)
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
    "cross_entropy": _classification(gg.cross_entropy, smoothing=True),
    "mse_loss": _regression(gg.mse_loss),
    "binary_cross_entropy": _regression(gg.binary_cross_entropy, domain="unit"),
    "binary_cross_entropy_with_logits": _regression(
        lambda x, t: gg.binary_cross_entropy_with_logits(x, (t > 0).astype("float64"))),
}


def _gelu(data):
    approximate = data.draw(st.sampled_from(["none", "tanh"]), label="approximate")
    return _elementwise(lambda t: gg.composites.gelu(t, approximate=approximate))(data)


def _softplus(data):
    beta = data.draw(st.sampled_from([0.5, 1.0, 3.0]), label="beta")
    return _elementwise(lambda t: gg.composites.softplus(t, beta=beta))(data)


def _kl_div(data):
    """Log-probabilities (any reals do for the math) against probabilities, some exactly 0."""
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    x = data.draw(gst.arrays(shape), label="x")
    target = data.draw(gst.arrays(shape, "positive"), label="target")
    target = np.where(target < 0.6, 0.0, target / 3.0)
    reduction = data.draw(st.sampled_from(["batchmean", "sum", "mean", "none"]), label="reduction")
    return (lambda t: gg.composites.kl_div(t, target, reduction=reduction)), [x]


def _margin(loss):
    """Scores (N, C) and labels; hypothesis keeps the scores off the hinge's kinks."""
    def draw(data):
        n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
        scores = data.draw(gst.arrays((n, c)), label="scores")
        labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)),
                           label="labels")
        for step in range(1, 4):  # hypothesis likes integers: s_j = s_y - 1 sits on the kink
            correct = scores[np.arange(n), labels][:, None]
            if not np.any(np.abs(scores - correct + 1.0) < 1e-3):
                break
            scores = scores + 0.0137 * step * np.arange(c)
        return (lambda t: loss(t, labels)), [scores]
    return draw


def _huber_like(loss):
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        x, target = data.draw(gst.arrays(shape), label="x"), data.draw(gst.arrays(shape), label="t")
        width = data.draw(st.sampled_from([0.5, 1.0, 2.0]), label="delta")
        diff = np.abs(x - target)
        x = np.where(np.abs(diff - width) < 1e-3, x + 0.01, x)  # off the kink at |d| = delta
        return (lambda t: loss(t, gg.tensor(target), "mean", width)), [x]
    return draw


COMPOSITE_SPECS.update({
    "leaky_relu": _elementwise(lambda t: gg.composites.leaky_relu(t, 0.1)),
    "elu": _elementwise(lambda t: gg.composites.elu(t, alpha=1.5)),
    "gelu": _gelu,
    "silu": _elementwise(gg.composites.silu),
    "softplus": _softplus,
    "nll_loss": _classification(gg.composites.nll_loss),
    "l1_loss": _regression(gg.composites.l1_loss, off_kink=True),
    "huber_loss": _huber_like(gg.composites.huber_loss),
    "smooth_l1_loss": _huber_like(gg.composites.smooth_l1_loss),
    "kl_div": _kl_div,
    "multi_margin_loss": _margin(gg.composites.multi_margin_loss),
    "svm_loss": _margin(gg.composites.svm_loss),
})
SMOOTH = {"sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy", "mse_loss",
          "binary_cross_entropy", "leaky_relu", "elu", "gelu", "silu", "softplus", "nll_loss",
          "kl_div"}

COMPOSITE_SPECS.update(CONV_POOL_SPECS)
SMOOTH = SMOOTH | CONV_POOL_SMOOTH

COMPOSITE_SPECS.update(NORM_SPECS)
SMOOTH = SMOOTH | NORM_SMOOTH
