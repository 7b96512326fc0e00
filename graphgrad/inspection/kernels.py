"""Kernels and activations: the lecture's first "baby-sitting" look inside a CNN.

- `first_layer_kernels`: the first convolution's weights (O, C, kh, kw). Trained ones "should have
  structure" (edges, blobs, Gabor-like stripes); noise means the net has not learned.
- `feature_maps`: the output of any layer for one input (or a batch).
- `kernel_correlation`: Pearson correlation between flattened kernels; features "should be
  uncorrelated", so large off-diagonal values flag redundant filters.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._model import (Images, Layer, Model, ModelError, as_batch, inspecting, layer_output,
                     run_traced, unbatch)


def first_layer_kernels(model: Model, x: Images | None = None) -> np.ndarray:
    """Weights (O, C, kh, kw) of the first convolution the input goes through.

    For an `nn.Module` without `x`: its first 4-d parameter. Otherwise (a plain function, or to be
    exact about the order of use) give an input `x`: the first conv node of the graph built on it.
    """
    if x is None:
        if not hasattr(model, "named_parameters"):
            raise ModelError("first_layer_kernels: give an input x for a model that is a plain "
                             "function (its conv weights are found in the graph built on x)")
        for _, p in model.named_parameters():
            if p.ndim == 4:
                return p.numpy().copy()
        raise ModelError("first_layer_kernels: the model has no 4-d (conv) parameter")
    batch, _ = as_batch(x)
    with inspecting(model):
        traced = run_traced(model, batch[:1])
    for node in traced.nodes:
        if node.op is not None and node.op.name == "conv":
            return node.inputs[1].numpy().copy()
    raise ModelError("first_layer_kernels: the graph built on x has no convolution")


def feature_maps(model: Model, x: Images, layer: Layer) -> np.ndarray:
    """The activations of `layer` for x: (C, H, W) for one image, (N, C, H, W) for a batch.

    `layer`: a module path ("conv1", "relu2"), an op selector ("relu:1") or a callable
    x -> Tensor. Any output shape is returned as is (a flattened layer gives (N, features)).
    """
    batch, single = as_batch(x)
    with inspecting(model):  # the graph is recorded (layers are found in it), weights frozen
        value, _ = layer_output(model, Tensor(batch, requires_grad=True), layer)
    return unbatch(value.numpy(), single)


def kernel_correlation(weight: Images) -> np.ndarray:
    """Pearson correlation (O, O) between the O flattened kernels of a conv weight (O, C, kh, kw).

    A constant kernel has no defined correlation: its row and column are NaN.
    """
    w = weight.numpy() if isinstance(weight, Tensor) else np.asarray(weight, dtype=np.float64)
    if w.ndim < 2:
        raise ModelError(f"kernel_correlation: expected kernels (O, ...), got shape {w.shape}")
    flat = w.reshape(w.shape[0], -1).astype(np.float64)
    centered = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centered, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = centered / norms[:, None]
        corr = unit @ unit.T
    corr[norms == 0, :] = np.nan
    corr[:, norms == 0] = np.nan
    return corr


def mean_abs_off_diagonal(corr: np.ndarray) -> float:
    """Mean |correlation| between distinct kernels (0: uncorrelated, 1: copies)."""
    mask = ~np.eye(len(corr), dtype=bool)
    return float(np.nanmean(np.abs(corr[mask]))) if len(corr) > 1 else 0.0


__all__ = ["feature_maps", "first_layer_kernels", "kernel_correlation", "mean_abs_off_diagonal"]
