"""Layers: Linear, Conv2d, pooling, Dropout, Flatten, activations, Maxout.

Each layer is a thin Module over one functional op (`gg.conv2d`, `gg.max_pool2d`, ...), so the
graph shows the op's fused node inside the layer's scope, with the layer's Parameters named
``conv1.weight``/``conv1.bias``. Weights follow PyTorch's layout: Linear (out, in), Conv2d
(out, in/groups, kh, kw), inputs NCHW.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, Parameter

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Identity",
    "LPPool2d",
    "Linear",
    "MaxPool2d",
    "Maxout",
    "ReLU",
    "Sigmoid",
    "Tanh",
]


def _op(name: str) -> Callable:
    """A functional op by its public name, looked up when first needed (ops load lazily)."""
    import graphgrad

    fn = getattr(graphgrad, name, None)
    if fn is None:
        import importlib

        for module_name in ("composites.conv", "composites.pooling", "composites.dropout",
                            "composites.activations", "ops"):
            try:
                module = importlib.import_module(f"graphgrad.{module_name}")
            except ImportError:
                continue
            fn = getattr(module, name, None)
            if fn is not None:
                break
    if fn is None:
        raise NotImplementedError(f"graphgrad.{name} is not available in this build of graphgrad")
    return fn


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def _conv_padding(padding, kernel, dilation, stride):
    """Conv2d's padding: whatever `gg.conv2d` accepts (an int, a pair, ((top, bottom), (left,
    right)), "same" or "valid"), checked now so a bad value fails at the constructor line.
    Strings are kept as given (the output size then follows the input, as in PyTorch)."""
    from graphgrad.backend.window_arrays import normalize_padding

    pairs = normalize_padding(padding, 2, kernel, dilation, stride, "Conv2d")
    if isinstance(padding, str):
        return padding
    if all(lo == hi for lo, hi in pairs):
        return pairs[0][0], pairs[1][0]
    return pairs


def _positive(value: int, name: str, layer: str) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _init_weight(init, shape, rng, dtype) -> np.ndarray:
    array = initializers.resolve(init)(shape, initializers.make_rng(rng), dtype=dtype)
    array = np.asarray(array)
    if array.shape != tuple(shape):
        raise ValueError(f"init returned shape {array.shape}, expected {tuple(shape)}")
    return array


class Linear(Module):
    """``y = x @ weight.T + bias`` with weight (out_features, in_features).

    ``init`` is 'he' (default, for ReLU nets), 'xavier', 'gaussian' (the lecture's 0.001·randn),
    or a callable ``init(shape, rng, dtype=...)``; biases start at zero. ``rng`` is a NumPy
    generator or a seed.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 init: str | Callable = "he", rng=None, dtype: str = "float32") -> None:
        super().__init__()
        self.in_features = _positive(in_features, "in_features", "Linear")
        self.out_features = _positive(out_features, "out_features", "Linear")
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(_init_weight(init, shape, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): input has {x.shape[-1]} "
                f"features (shape {x.shape}), expected {self.in_features}"
            )
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in every framework) over NCHW inputs."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, *, init: str | Callable = "he",
                 rng=None, dtype: str = "float32") -> None:
        super().__init__()
        self.in_channels = _positive(in_channels, "in_channels", "Conv2d")
        self.out_channels = _positive(out_channels, "out_channels", "Conv2d")
        self.groups = _positive(groups, "groups", "Conv2d")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                f"be divisible by groups ({groups})"
            )
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.dilation = _pair(dilation, "dilation")
        self.padding = _conv_padding(padding, self.kernel_size, self.dilation, self.stride)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(_init_weight(init, shape, rng, dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d({self.in_channels}, {self.out_channels}): expected input of shape "
                f"(N, {self.in_channels}, H, W), got {x.shape}"
            )
        return _op("conv2d")(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation, groups=self.groups)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            text += f", stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text


class _Pool2d(Module):
    op_name = ""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        self.padding = _pair(padding, "padding")

    def forward(self, x):
        return _op(self.op_name)(x, self.kernel_size, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}" + (
            f", padding={self.padding}" if self.padding != (0, 0) else ""
        )


class MaxPool2d(_Pool2d):
    """Max over each window (the lecture's most common pooling). As in PyTorch, `dilation`
    spaces the window out and `return_indices=True` also returns the winners' flat indices
    (the "switches" a deconvnet unpools with)."""

    op_name = "max_pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = _pair(dilation, "dilation")
        self.return_indices = bool(return_indices)

    def forward(self, x):
        return _op(self.op_name)(x, self.kernel_size, stride=self.stride, padding=self.padding,
                                 dilation=self.dilation, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            f", dilation={self.dilation}" if self.dilation != (1, 1) else "") + (
            ", return_indices=True" if self.return_indices else "")


class AvgPool2d(_Pool2d):
    """Mean over each window."""

    op_name = "avg_pool2d"


class LPPool2d(Module):
    """``(Σ x^p)^(1/p)`` over each window; p = 2 is the lecture's L2 pooling."""

    def __init__(self, p: float, kernel_size, stride=None) -> None:
        super().__init__()
        if not 1 <= p < float("inf"):
            raise ValueError(f"LPPool2d: p must be a finite number >= 1 (2: L2 pooling), got {p!r}")
        self.p = float(p)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")

    def forward(self, x):
        return _op("lp_pool2d")(x, self.p, self.kernel_size, stride=self.stride)

    def extra_repr(self) -> str:
        return f"p={self.p:g}, kernel_size={self.kernel_size}, stride={self.stride}"


class Dropout(Module):
    """Dropout (the lecture's "randomly set some neurons to zero").

    ``mode="inverted"`` (default): in training, zero each unit with probability p and scale the
    rest by 1/(1−p); in eval mode, the identity. ``mode="scale_at_test"``: no scaling in
    training, outputs multiplied by (1−p) in eval mode (the original paper's form).
    ``rng``: generator or seed for the masks.
    """

    def __init__(self, p: float = 0.5, *, mode: str = "inverted", rng=None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p!r}")
        if mode not in ("inverted", "scale_at_test"):
            raise ValueError(f"Dropout: mode must be 'inverted' or 'scale_at_test', got {mode!r}")
        self.p = float(p)
        self.mode = mode
        self.rng = initializers.make_rng(rng)

    def forward(self, x):
        if self.p == 0.0 or (not self.training and self.mode == "inverted"):
            return x
        return _op("dropout")(x, self.p, training=self.training, mode=self.mode,
                              generator=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p:g}" + (f", mode={self.mode!r}" if self.mode != "inverted" else "")


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): from axis `start_dim` to the end."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return x.flatten(self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}" if self.start_dim != 1 else ""


class Identity(Module):
    def forward(self, x):
        return x


class ReLU(Module):
    def forward(self, x):
        return _op("relu")(x)


class Sigmoid(Module):
    def forward(self, x):
        return _op("sigmoid")(x)


class Tanh(Module):
    def forward(self, x):
        return _op("tanh")(x)


class Maxout(Module):
    """Max over groups of ``pieces`` consecutive channels (axis 1): C channels -> C/pieces."""

    def __init__(self, pieces: int) -> None:
        super().__init__()
        self.pieces = _positive(pieces, "pieces", "Maxout")

    def forward(self, x):
        if x.shape[1] % self.pieces:
            raise ValueError(
                f"Maxout({self.pieces}): {x.shape[1]} channels are not divisible by {self.pieces}"
            )
        return _op("maxout")(x, self.pieces)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"
