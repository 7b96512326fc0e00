"""Convolution as a matrix: "W is made up of offset copies of A" (the notes, Kaynig & Jones).

A convolution layer is a linear map, so it equals one matrix W acting on the flattened input:
y.ravel() = W @ x.ravel() (+ the bias). W is sparse (each output sees only its window: "local
connectivity") and weight-shared (every row holds the same kernel A, shifted: "parameter
sharing"); for one channel and stride 1 it is a block-Toeplitz matrix (Toeplitz blocks).
`conv_matrix` builds W explicitly for a small layer, so both facts can be seen and checked.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._tensor import Tensor
from ._model import ModelError


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise ModelError(f"conv_matrix: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length along one axis (PyTorch's formula): the matrix has one row per output."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_matrix(weight: Tensor | npt.ArrayLike, input_shape: tuple[int, int, int],
                stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                dilation: int | tuple[int, int] = 1) -> np.ndarray:
    """The dense matrix (O*OH*OW, C*H*W) of conv2d with `weight` (O, C, kh, kw) on inputs of
    `input_shape` (C, H, W): row (o, i, j) holds kernel o placed at output position (i, j)
    (cross-correlation, zero padding, PyTorch's geometry). Rows and columns are in C order."""
    w = weight.numpy() if isinstance(weight, Tensor) else np.asarray(weight)
    if w.ndim != 4:
        raise ModelError(f"conv_matrix: weight must be (O, C, kh, kw), got shape {w.shape}")
    if len(input_shape) != 3 or input_shape[0] != w.shape[1]:
        raise ModelError(f"conv_matrix: input_shape must be (C, H, W) with C = {w.shape[1]} "
                         f"(the kernel's channels), got {tuple(input_shape)}")
    o, c, kh, kw = w.shape
    _, h, wd = (int(v) for v in input_shape)
    (sh, sw), (ph, pw), (dh, dw) = (_pair(stride, "stride"), _pair(padding, "padding"),
                                    _pair(dilation, "dilation"))
    oh, ow = conv_output_size(h, kh, sh, ph, dh), conv_output_size(wd, kw, sw, pw, dw)
    if oh < 1 or ow < 1:
        raise ModelError(f"conv_matrix: the kernel {kh}x{kw} (dilation {dh, dw}) does not fit the "
                         f"input {h}x{wd} with padding {ph, pw}")
    if o * oh * ow * c * h * wd > 50_000_000:
        raise ModelError(f"conv_matrix: the matrix would have {o * oh * ow} x {c * h * wd} "
                         "entries; it is meant for small layers")
    matrix = np.zeros((o, oh, ow, c, h, wd), dtype=w.dtype if w.dtype.kind == "f" else float)
    out_i, out_j = np.arange(oh), np.arange(ow)
    for ki in range(kh):
        rows = out_i * sh - ph + ki * dh                        # input row under tap ki
        ok_i = (rows >= 0) & (rows < h)
        for kj in range(kw):
            cols = out_j * sw - pw + kj * dw
            ok_j = (cols >= 0) & (cols < wd)
            ii, jj = np.meshgrid(out_i[ok_i], out_j[ok_j], indexing="ij")
            ri, cj = np.meshgrid(rows[ok_i], cols[ok_j], indexing="ij")
            for channel in range(c):
                matrix[:, ii, jj, channel, ri, cj] = w[:, channel, ki, kj][:, None, None]
    return matrix.reshape(o * oh * ow, c * h * wd)


__all__ = ["conv_matrix", "conv_output_size"]
