"""Separable filters (Sironi et al. 2014, in the notes): a 2-D kernel as a sum of 1-D ones.

A rank-1 kernel K = u v^T is separable: convolving with it is a vertical 1-D pass (u) then a
horizontal one (v), kh + kw multiplies per pixel instead of kh * kw. Any kernel is a sum of
rank-1 kernels (its SVD, K = sum_i s_i u_i v_i^T); keeping the r largest terms is the best rank-r
approximation in the Frobenius norm (Eckart-Young). Here each kernel (one per output and input
channel) is approximated on its own (Sironi et al. also share one separable basis across the
bank; that variant is not implemented).

- `separable_approximation`: the rank-r approximation of every kernel, and the 1-D factors;
- `rank_errors`: the relative error ||W - W_r|| / ||W|| of the whole layer for r = 1 .. min(kh, kw);
- `separable_conv2d`: the approximated layer run as 1-D convolutions (r vertical + r horizontal
  passes per channel pair), equal to conv2d with the rank-r weights;
- `accuracy_with_rank`: the model's accuracy with one conv layer's weights replaced by their
  rank-r approximations, for each r: the accuracy cost of the speed-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .._tensor import Tensor
from ._model import Images, Model, ModelError, scores


class SeparableFactors(NamedTuple):
    """K[o, c] ~ sum_r vertical[o, c, r, :, None] * horizontal[o, c, r, None, :] (singular value
    folded into both factors as its square root); `weight` is that sum (O, C, kh, kw)."""

    vertical: np.ndarray     # (O, C, r, kh)
    horizontal: np.ndarray   # (O, C, r, kw)
    weight: np.ndarray       # (O, C, kh, kw)


def _weight(weight) -> np.ndarray:
    w = weight.numpy() if isinstance(weight, Tensor) else np.asarray(weight)
    if w.ndim == 2:
        w = w[None, None]
    if w.ndim != 4:
        raise ModelError(f"expected a kernel (kh, kw) or a conv weight (O, C, kh, kw), got shape "
                         f"{w.shape}")
    return w


def separable_approximation(weight: Images, rank: int) -> SeparableFactors:
    """The best rank-`rank` approximation of each 2-D kernel of `weight` (O, C, kh, kw)."""
    w = _weight(weight)
    full = min(w.shape[2:])
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 1 <= rank <= full:
        raise ModelError(f"rank must be an int in 1..{full} (min(kh, kw)), got {rank!r}")
    u, s, vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)   # batched over (O, C)
    root = np.sqrt(s[..., :rank])
    vertical = np.swapaxes(u[..., :, :rank] * root[..., None, :], -1, -2)  # (O, C, r, kh)
    horizontal = vt[..., :rank, :] * root[..., :, None]                     # (O, C, r, kw)
    approx = np.einsum("ocrh,ocrw->ochw", vertical, horizontal)
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return SeparableFactors(vertical.astype(dtype), horizontal.astype(dtype), approx.astype(dtype))


def rank_errors(weight: Images) -> np.ndarray:
    """Relative error ||W - W_r||_F / ||W||_F of the whole layer for r = 1 .. min(kh, kw)."""
    w = _weight(weight).astype(np.float64)
    s = np.linalg.svd(w, compute_uv=False)                                   # (O, C, min)
    total = float((s ** 2).sum())
    if total == 0:
        return np.zeros(s.shape[-1])
    tail = np.cumsum((s ** 2)[..., ::-1], axis=-1)[..., ::-1].sum(axis=(0, 1))  # sum_{i >= r}
    return np.sqrt(np.append(tail[1:], 0.0) / total)


def separable_conv2d(x: Tensor, factors: SeparableFactors, bias: Tensor | None = None,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                     dilation: int | tuple[int, int] = 1) -> Tensor:
    """Run the rank-r layer as 1-D convolutions: vertical (kh x 1) then horizontal (1 x kw).

    For input channel c, output o and term r: x_c * u_ocr (vertical), then * v_ocr
    (horizontal, one per channel: a depthwise convolution), summed over c and r. The result
    equals `conv2d(x, factors.weight, bias, stride, padding, dilation)`.
    """
    from ..composites.conv import conv2d

    vertical = np.asarray(factors.vertical)
    horizontal = np.asarray(factors.horizontal)
    o, c, r, kh = vertical.shape
    kw = horizontal.shape[-1]
    if x.ndim != 4 or x.shape[1] != c:
        raise ModelError(f"separable_conv2d: expected x of shape (N, {c}, H, W), got {x.shape}")
    sh, sw = (stride, stride) if isinstance(stride, (int, np.integer)) else stride
    dh, dw = (dilation, dilation) if isinstance(dilation, (int, np.integer)) else dilation
    ph, pw = (padding, padding) if isinstance(padding, (int, np.integer)) else padding
    # vertical pass: each input channel c feeds its own O*r intermediate maps (grouped conv)
    w1 = np.transpose(vertical, (1, 0, 2, 3)).reshape(c * o * r, 1, kh, 1)
    mid = conv2d(x, Tensor(w1.astype(x.dtype)), stride=(sh, 1), padding=(ph, 0),
                 dilation=(dh, 1), groups=c)
    # horizontal pass: one 1 x kw filter per intermediate map (depthwise)
    w2 = np.transpose(horizontal, (1, 0, 2, 3)).reshape(c * o * r, 1, 1, kw)
    out = conv2d(mid, Tensor(w2.astype(x.dtype)), stride=(1, sw), padding=(0, pw),
                 dilation=(1, dw), groups=c * o * r)
    n, _, oh, ow = out.shape
    out = out.reshape((n, c, o, r, oh, ow)).sum(axis=(1, 3))
    if bias is not None:
        b = bias if isinstance(bias, Tensor) else Tensor(np.asarray(bias, dtype=x.dtype))
        out = out + b.reshape((1, o, 1, 1))
    return out


def accuracy_with_rank(model: Model, parameter: str, x: np.ndarray, y: npt.ArrayLike,
                       ranks: Sequence[int] | None = None) -> dict[int, float]:
    """{rank: accuracy} with the conv weight named `parameter` ("conv1.weight") replaced by its
    rank-r approximation for each r (r = min(kh, kw) is the exact layer); restored afterwards."""
    if not hasattr(model, "named_parameters"):
        raise ModelError("accuracy_with_rank needs an nn.Module (a parameter is swapped by name)")
    params = dict(model.named_parameters())
    if parameter not in params:
        conv = [n for n, p in params.items() if p.ndim == 4]
        raise ModelError(f"no parameter {parameter!r}; conv weights: {conv}")
    p = params[parameter]
    original = p.data
    w = p.numpy()
    ranks = range(1, min(w.shape[2:]) + 1) if ranks is None else ranks
    labels = np.asarray(y)
    result = {}
    try:
        for rank in ranks:
            p.data = p.device.asarray(separable_approximation(w, int(rank)).weight.astype(w.dtype))
            result[int(rank)] = float(np.mean(scores(model, x).argmax(axis=1) == labels))
    finally:
        p.data = original
    return result


__all__ = ["SeparableFactors", "accuracy_with_rank", "rank_errors", "separable_approximation",
           "separable_conv2d"]
