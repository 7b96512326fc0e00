"""`import graphgrad.nn.functional as F`: the functional forms under torch.nn.functional's names.

Most are graphgrad's own ops, re-exported (their signatures already follow PyTorch's). Where
PyTorch's positional order or meaning differs from graphgrad's NumPy-style op, the function here
follows PyTorch, so a snippet written for torch computes the same thing:

- `pad(x, (left, right, top, bottom, ...))` pads the *last* axes first (torch's flat pad
  tuple); `gg.pad` takes NumPy's `pad_width`, one pair per axis from the first.
- `unfold`/`fold` take `dilation, padding, stride` in torch's order.
- `linear`, `embedding`, `adaptive_avg_pool2d` and `normalize`, which graphgrad has only as
  modules or compositions, are here too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphgrad._tensor import Tensor
from graphgrad.composites import (avg_pool2d, batch_norm, binary_cross_entropy,
                                  binary_cross_entropy_with_logits, conv1d, conv2d,
                                  conv_transpose2d, cross_entropy, dropout, elu, gelu, group_norm,
                                  huber_loss, kl_div, l1_loss, layer_norm, leaky_relu, log_softmax,
                                  lp_pool2d, max_pool2d, mse_loss, multi_margin_loss, nll_loss,
                                  relu, sigmoid, silu, smooth_l1_loss, softmax, softplus, tanh)
from graphgrad.declare import TensorLike
from graphgrad.errors import ArgumentError, ShapeError
from graphgrad.nn.layers import AdaptiveAvgPool2d
from graphgrad.ops import fold as _fold
from graphgrad.ops import getitem, maximum, norm, one_hot
from graphgrad.ops import pad as _pad
from graphgrad.ops import unfold as _unfold

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose2d", "cross_entropy",
    "dropout", "elu", "embedding", "fold", "gelu", "group_norm", "huber_loss", "kl_div", "l1_loss",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "lp_pool2d", "max_pool2d", "mse_loss",
    "multi_margin_loss", "nll_loss", "normalize", "one_hot", "pad", "relu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softplus", "tanh", "unfold",
]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias (torch.nn.functional.linear; weight is (out, in), as nn.Linear's);
    gradient: through the matmul and the add."""
    if weight.ndim != 2 or input.shape[-1:] != weight.shape[1:]:
        raise ShapeError(f"linear: weight must be (out_features, in_features) with in_features "
                         f"= the input's last axis; got input {input.shape}, weight "
                         f"{weight.shape}")
    y = input @ weight.T
    return y if bias is None else y + bias


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding in torch's spelling: `pad` holds (before, after) pairs for the last axis,
    then the one before it, ... (`(1, 1, 2, 2)` pads W by 1 and H by 2 of an NCHW tensor).
    Gradient: g with the border cut off."""
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    if isinstance(pad, (int, np.integer)) or len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ArgumentError(f"pad: pad must hold (before, after) pairs for at most {input.ndim} "
                            f"trailing axes (torch's order: last axis first), got {pad!r}")
    pairs = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        pairs[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return _pad(input, tuple(pairs), value=value)


def unfold(input: Tensor, kernel_size: int | tuple[int, ...], dilation: int | tuple[int, ...] = 1,
           padding: int | tuple[int, ...] = 0, stride: int | tuple[int, ...] = 1) -> Tensor:
    """im2col as torch's: (N, C, H, W) -> (N, C*kh*kw, L), arguments in torch's order (dilation,
    padding, stride). `gg.unfold` keeps the axes apart: (N, C, kh, kw, oh, ow)."""
    cols = _unfold(input, kernel_size, stride=stride, padding=padding, dilation=dilation)
    n, c, kh, kw, oh, ow = cols.shape
    return cols.reshape(n, c * kh * kw, oh * ow)


def fold(input: Tensor, output_size: int | tuple[int, int], kernel_size: int | tuple[int, int],
         dilation: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0,
         stride: int | tuple[int, ...] = 1) -> Tensor:
    """col2im as torch's: (N, C*kh*kw, L) summed back into (N, C, *output_size), arguments in
    torch's order; the adjoint of `unfold`."""
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    pair = (lambda v: (v, v) if isinstance(v, int) else tuple(v))  # noqa: E731
    (dh, dw), (ph, pw), (sh, sw) = pair(dilation), pair(padding), pair(stride)
    oh = (size[0] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (size[1] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    n, ck, length = input.shape
    if ck % (kh * kw) or length != oh * ow:
        raise ShapeError(f"fold: input {input.shape} does not fit kernel {(kh, kw)} and output "
                         f"{size}: expected (N, C*{kh * kw}, {oh * ow})")
    cols = input.reshape(n, ck // (kh * kw), kh, kw, oh, ow)
    return _fold(cols, size, (kh, kw), stride=stride, padding=padding, dilation=dilation)


def embedding(input: TensorLike, weight: Tensor) -> Tensor:
    """Row i of `weight` for each integer index i of `input` (torch.nn.functional.embedding);
    gradient: scattered back into the rows used."""
    index = np.asarray(input.numpy() if isinstance(input, Tensor) else input)
    if index.dtype.kind not in "iu":
        raise ArgumentError(f"embedding: indices must be integers, got dtype {index.dtype}")
    return getitem(weight, index)


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None]
                        ) -> Tensor:
    """Average pooling to a fixed output size, 1 for global average pooling
    (torch.nn.functional.adaptive_avg_pool2d); the rule of nn.AdaptiveAvgPool2d."""
    return AdaptiveAvgPool2d.forward(AdaptiveAvgPool2d(output_size), input)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p along dim, eps) (torch.nn.functional.normalize); gradient: through
    the norm, which has gradient 0 at the zero vector."""
    return input / maximum(norm(input, p, dim=dim, keepdim=True), eps)
