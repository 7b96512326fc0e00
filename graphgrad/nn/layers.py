"""Layers: Linear, Conv1d/2d, ConvTranspose2d, pooling, Dropout(2d), Embedding, Flatten, Maxout.

Each layer is a thin Module over one functional op (`gg.conv2d`, `gg.max_pool2d`, ...), so the
graph shows the op's fused node inside the layer's scope, with the layer's Parameters named
``conv1.weight``/``conv1.bias``. Weights follow PyTorch's layout: Linear (out, in), Conv2d
(out, in/groups, kh, kw), inputs NCHW.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

import numpy as np
import numpy.typing as npt

from graphgrad._tensor import Tensor
from graphgrad.errors import ConfigError
from graphgrad.backend import dtype_name
from graphgrad.backend.window_arrays import normalize_padding
from graphgrad.composites.conv import Padding, Size, conv1d, conv2d, conv_transpose2d
from graphgrad.composites.dropouts import dropout
from graphgrad.composites.pooling import PoolPadding, avg_pool2d, lp_pool2d, max_pool2d, maxout
from graphgrad.errors import ShapeError
from graphgrad.nn import init as initializers
from graphgrad.nn._arguments import MAX_SIZE, Count, FloatDtype, Layer, Probability, Rule
from graphgrad.nn.activation import ReLU, Sigmoid, Tanh  # noqa: F401  (their old home)
from graphgrad.nn.init import Rng
from graphgrad.nn.module import Parameter
from graphgrad.ops import getitem, mean, stack

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "Conv1d", "Conv2d", "ConvTranspose2d", "Dropout",
    "Dropout2d", "Embedding", "Flatten", "Identity", "LPPool2d", "Linear", "MaxPool2d", "Maxout",
    "ReLU", "Sigmoid", "Tanh",
]


# LPPool2d's p: the norm of each window
Power = Annotated[float, Rule(lambda p: 1 <= p < math.inf, "a finite number >= 1 (2: L2 pooling)")]


def _tuple(value, n: int, name: str, layer: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or n ints (kernel_size, stride, ...), each in [minimum, 2**62), checked at the
    constructor so `Conv2d(1, 2, 0)` names the layer and the argument. (How many ints depends on
    the layer, 1 for Conv1d and 2 for Conv2d: more than an annotation can say.)"""
    values = (value,) * n if isinstance(value, (int, np.integer)) else value
    if (isinstance(values, (tuple, list)) and len(values) == n
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                    and minimum <= v < MAX_SIZE for v in values)):
        return tuple(int(v) for v in values)
    many = "a pair of ints" if n == 2 else f"{n} ints"
    raise ConfigError(f"{layer}: {name} must be an int or {many} below 2**62, each >= {minimum}, "
                      f"got {value!r}")


def _pair(value, name: str, layer: str = "", minimum: int = 1) -> tuple[int, int]:
    return _tuple(value, 2, name, layer or "layer", minimum)  # type: ignore[return-value]


def _conv_padding(padding, nd: int, kernel, dilation, stride, layer: str):
    """A conv layer's padding: whatever the functional op accepts (an int, one per axis,
    (low, high) pairs, "same" or "valid"), checked now so a bad value fails at the constructor
    line. Strings are kept as given (the output size then follows the input, as in PyTorch)."""
    pairs = normalize_padding(padding, nd, kernel, dilation, stride, layer)
    if isinstance(padding, str):
        return padding
    if all(lo == hi for lo, hi in pairs):
        return tuple(lo for lo, _ in pairs)
    return pairs


def _init_weight(init, shape, rng, dtype) -> np.ndarray:
    array = initializers.resolve(init)(shape, initializers.make_rng(rng), dtype=dtype)
    array = np.asarray(array)
    if array.shape != tuple(shape):
        raise ConfigError(f"init returned shape {array.shape}, expected {tuple(shape)}")
    return array


class Linear(Layer):
    """``y = x @ weight.T + bias`` with weight (out_features, in_features).

    ``init`` is 'he' (default, for ReLU nets), 'xavier', 'gaussian' (the lecture's 0.001·randn),
    or a callable ``init(shape, rng, dtype=...)``; biases start at zero. ``rng`` is a NumPy
    generator or a seed.
    """

    def __init__(self, in_features: Count, out_features: Count, bias: bool = True, *,
                 init: str | Callable = "he", rng: Rng = None,
                 dtype: FloatDtype = "float32") -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(_init_weight(init, shape, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ConfigError(
                f"Linear({self.in_features}, {self.out_features}): input has {x.shape[-1]} "
                f"features (shape {x.shape}), expected {self.in_features}"
            )
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class _ConvNd(Layer):
    """Shared by Conv1d and Conv2d: weight (out, in / groups, *kernel), NC* inputs; `op` is the
    functional convolution."""

    nd, layout = 2, ""
    op: Callable

    def __init__(self, in_channels: Count, out_channels: Count, kernel_size: Size,
                 stride: Size = 1, padding: Padding = 0, dilation: Size = 1, groups: Count = 1,
                 bias: bool = True, *, init: str | Callable = "he", rng: Rng = None,
                 dtype: FloatDtype = "float32") -> None:
        super().__init__()
        layer, nd = type(self).__name__, self.nd
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.groups = int(groups)
        if in_channels % groups or out_channels % groups:
            raise ConfigError(
                f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                f"be divisible by groups ({groups})"
            )
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", layer)
        self.stride = _tuple(stride, nd, "stride", layer)
        self.dilation = _tuple(dilation, nd, "dilation", layer)
        self.padding = _conv_padding(padding, nd, self.kernel_size, self.dilation, self.stride,
                                     layer)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(_init_weight(init, shape, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None

    def _check_input(self, x: Tensor, channels: int) -> None:
        if x.ndim != self.nd + 2 or x.shape[1] != channels:
            raise ShapeError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}): expected input "
                f"of shape {self.layout.format(c=channels)}, got {x.shape}"
            )

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x, self.in_channels)
        return type(self).op(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation, groups=self.groups)

    def extra_repr(self) -> str:
        ones, zeros = (1,) * self.nd, (0,) * self.nd
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != ones:
            text += f", stride={self.stride}"
        if self.padding != zeros:
            text += f", padding={self.padding!r}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over (N, C, L) signals; weight (out, in/groups, k)."""

    nd, layout, op = 1, "(N, {c}, L)", staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as in every framework) over NCHW inputs."""

    nd, layout, op = 2, "(N, {c}, H, W)", staticmethod(conv2d)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution ("deconvolution", learned upsampling): the adjoint of Conv2d with
    the same geometry. Weight (in, out/groups, kh, kw) as PyTorch's; output size
    (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1."""

    layout, op = "(N, {c}, H, W)", staticmethod(conv_transpose2d)

    def __init__(self, in_channels: Count, out_channels: Count, kernel_size: Size,
                 stride: Size = 1, padding: Padding = 0, output_padding: Size = 0,
                 groups: Count = 1, bias: bool = True, dilation: Size = 1, *,
                 init: str | Callable = "he", rng: Rng = None,
                 dtype: FloatDtype = "float32") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, init=init, rng=rng, dtype=dtype)
        if isinstance(self.padding, str):
            raise ConfigError(f"ConvTranspose2d: padding must be ints, got {padding!r}")
        self.output_padding = _tuple(output_padding, 2, "output_padding", "ConvTranspose2d", 0)
        shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(_init_weight(init, shape, rng, dtype))

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x, self.in_channels)
        return type(self).op(x, self.weight, self.bias, stride=self.stride,
                             padding=self.padding, output_padding=self.output_padding,
                             groups=self.groups, dilation=self.dilation)

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", output_padding={self.output_padding}"
                                       if self.output_padding != (0, 0) else "")


class _Pool2d(Layer):
    op: Callable

    def __init__(self, kernel_size: Size, stride: Size | None = None,
                 padding: PoolPadding = 0) -> None:
        super().__init__()
        layer = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", layer)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", layer)
        self.padding = _pair(padding, "padding", layer, minimum=0)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).op(x, self.kernel_size, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}" + (
            f", padding={self.padding}" if self.padding != (0, 0) else ""
        )


class MaxPool2d(_Pool2d):
    """Max over each window (the lecture's most common pooling). As in PyTorch, `dilation`
    spaces the window out and `return_indices=True` also returns the winners' flat indices
    (the "switches" a deconvnet unpools with)."""

    op = staticmethod(max_pool2d)

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: PoolPadding = 0,
                 dilation: Size = 1, return_indices: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = _pair(dilation, "dilation", "MaxPool2d")
        self.return_indices = bool(return_indices)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:  # type: ignore[override]
        # (override: with return_indices=True the winners' indices come back too, as in torch)
        return max_pool2d(x, self.kernel_size, stride=self.stride, padding=self.padding,
                          dilation=self.dilation, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            f", dilation={self.dilation}" if self.dilation != (1, 1) else "") + (
            ", return_indices=True" if self.return_indices else "")


class AvgPool2d(_Pool2d):
    """Mean over each window."""

    op = staticmethod(avg_pool2d)


class LPPool2d(Layer):
    """``(Σ x^p)^(1/p)`` over each window; p = 2 is the lecture's L2 pooling."""

    def __init__(self, p: Power, kernel_size: Size, stride: Size | None = None) -> None:
        super().__init__()
        self.p = float(p)
        self.kernel_size = _pair(kernel_size, "kernel_size", "LPPool2d")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", "LPPool2d")

    def forward(self, x: Tensor) -> Tensor:
        return lp_pool2d(x, self.p, self.kernel_size, stride=self.stride)

    def extra_repr(self) -> str:
        return f"p={self.p:g}, kernel_size={self.kernel_size}, stride={self.stride}"


class Dropout(Layer):
    """Dropout (the lecture's "randomly set some neurons to zero").

    ``mode="inverted"`` (default): in training, zero each unit with probability p and scale the
    rest by 1/(1−p); in eval mode, the identity. ``mode="scale_at_test"``: no scaling in
    training, outputs multiplied by (1−p) in eval mode (the original paper's form).
    ``rng``: generator or seed for the masks.
    """

    def __init__(self, p: Probability = 0.5, *, mode: str = "inverted", rng: Rng = None) -> None:
        super().__init__()
        if mode not in ("inverted", "scale_at_test"):
            raise ConfigError(f"Dropout: mode must be 'inverted' or 'scale_at_test', got {mode!r}")
        self.p = float(p)
        self.mode = mode
        self.rng = initializers.make_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        if self.p == 0.0 or (not self.training and self.mode == "inverted"):
            return x
        return dropout(x, self.p, training=self.training, mode=self.mode,
                              generator=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p:g}" + (f", mode={self.mode!r}" if self.mode != "inverted" else "")


class Flatten(Layer):
    """(N, C, H, W) -> (N, C·H·W): from axis `start_dim` to the end."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}" if self.start_dim != 1 else ""


class Identity(Layer):
    """Returns its input unchanged (a placeholder where a layer is optional, as torch's)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Maxout(Layer):
    """Max over groups of ``pieces`` consecutive channels (axis 1): C channels -> C/pieces."""

    def __init__(self, pieces: Count) -> None:
        super().__init__()
        self.pieces = int(pieces)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] % self.pieces:
            raise ConfigError(
                f"Maxout({self.pieces}): {x.shape[1]} channels are not divisible by {self.pieces}"
            )
        return maxout(x, self.pieces)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


class AdaptiveAvgPool2d(Layer):
    """Average pooling to a fixed output size (oh, ow) whatever the input size; output_size 1
    is global average pooling. Cell i along an axis of length n averages rows
    floor(i n / o) to ceil((i + 1) n / o), as PyTorch's; one avg_pool2d when o divides n.
    `None` in output_size keeps that axis's input size."""

    def __init__(self, output_size: Count | tuple[Count | None, Count | None]) -> None:
        super().__init__()
        self.output_size = (output_size, output_size) \
            if not isinstance(output_size, (tuple, list)) else tuple(output_size)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ShapeError(f"AdaptiveAvgPool2d: expected input of shape (N, C, H, W), got "
                             f"{x.shape}")
        h, w = x.shape[2:]
        oh, ow = (n if o is None else int(o) for o, n in zip(self.output_size, (h, w)))
        if h % oh == 0 and w % ow == 0:
            return avg_pool2d(x, (h // oh, w // ow))
        rows = []
        for i in range(oh):
            top, bottom = (i * h) // oh, -((-(i + 1) * h) // oh)
            cells = [mean(x[:, :, top:bottom, (j * w) // ow:-((-(j + 1) * w) // ow)],
                          axis=(2, 3)) for j in range(ow)]
            rows.append(stack(cells, axis=-1))
        return stack(rows, axis=-2)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Embedding(Layer):
    """A lookup table: row i of weight (num_embeddings, embedding_dim) for each index i.

    forward(indices) takes an int array or Tensor of any shape and returns shape
    (*indices.shape, embedding_dim); the gradient scatters back into the rows used. Weights
    start N(0, 1) as PyTorch's; the row `padding_idx` starts at zero and gets no gradient."""

    def __init__(self, num_embeddings: Count, embedding_dim: Count,
                 padding_idx: int | None = None, *, rng: Rng = None,
                 dtype: FloatDtype = "float32") -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ConfigError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx!r}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        table = initializers.make_rng(rng).standard_normal(
            (self.num_embeddings, self.embedding_dim)).astype(dtype)
        if padding_idx is not None:
            table[padding_idx] = 0
        self.weight = Parameter(table)

    def forward(self, indices: Tensor | npt.ArrayLike) -> Tensor:
        index = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
        if index.dtype.kind not in "iu":
            raise ShapeError(f"Embedding: indices must be integers, got dtype {index.dtype}")
        if index.size and (index.min() < 0 or index.max() >= self.num_embeddings):
            raise ShapeError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): indices "
                             f"must be in [0, {self.num_embeddings}), got values from "
                             f"{index.min()} to {index.max()}")
        rows = getitem(self.weight, index)
        if self.padding_idx is not None:  # a zero factor: the padding row gets no gradient
            keep = (index != self.padding_idx)[..., None].astype(dtype_name(rows.data.dtype))
            rows = rows * Tensor(self.weight.device.asarray(keep), device=self.weight.device)
        return rows

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Dropout2d(Layer):
    """Channel dropout (PyTorch's Dropout2d) for (N, C, H, W): in training each whole channel
    of each sample is zeroed with probability p and the rest scaled by 1/(1-p); identity in
    eval mode. Neighbouring pixels are correlated, so dropping single ones regularises little."""

    def __init__(self, p: Probability = 0.5, *, rng: Rng = None) -> None:
        super().__init__()
        self.p = float(p)
        self.rng = initializers.make_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ShapeError(f"Dropout2d: expected input of shape (N, C, H, W), got {x.shape}")
        if not self.training or self.p == 0.0:
            return x
        keep = (self.rng.random((x.shape[0], x.shape[1], 1, 1)) >= self.p) / (1.0 - self.p)
        return x * Tensor(x.device.asarray(keep, dtype=x.data.dtype), device=x.device)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"
