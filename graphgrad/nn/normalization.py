"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm (PyTorch's defaults).

Thin Modules over `graphgrad.composites.normalization`. Batch norm keeps its running mean and
variance as buffers (`Module.register_buffer`): saved by `state_dict()`, restored by
`load_state_dict()`, moved by `.to()`, never trained, and used instead of the batch's statistics
after `model.eval()`.
"""

from __future__ import annotations

import numpy as np

from graphgrad._tensor import Tensor
from graphgrad.composites.normalization import batch_norm, group_norm, layer_norm
from graphgrad.errors import ConfigError, ShapeError
from graphgrad.nn._arguments import Count, FloatDtype, Layer, NonNegative, Unit
from graphgrad.nn.module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]


def _affine_parameters(module: Module, shape: tuple[int, ...], affine: bool, bias: bool,
                       dtype: FloatDtype) -> None:
    module.weight = Parameter(np.ones(shape, dtype=dtype)) if affine else None
    module.bias = Parameter(np.zeros(shape, dtype=dtype)) if affine and bias else None


class _BatchNorm(Layer):
    """Shared by BatchNorm1d/2d: they differ only in the input ranks they accept."""

    ranks: tuple[int, ...] = ()
    layout = ""
    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None  # buffers; None when track_running_stats=False
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: Count, eps: NonNegative = 1e-5,
                 momentum: Unit | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, dtype: FloatDtype = "float32") -> None:
        super().__init__()
        self.num_features = int(num_features)
        # momentum None: a cumulative average, as PyTorch's
        self.eps, self.momentum = float(eps), None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine_parameters(self, (self.num_features,), self.affine, True, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches counted (PyTorch's start)."""
        for buffer, fill in ((self.running_mean, 0), (self.running_var, 1),
                             (self.num_batches_tracked, 0)):
            if buffer is not None:
                buffer.data = buffer.device.xp.full_like(buffer.data, fill)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            raise ShapeError(f"{name}({self.num_features}): expected input of shape "
                             f"{self.layout.format(c=self.num_features)}, got {x.shape}")
        counter = self.num_batches_tracked if self.training else None
        factor = 0.0 if self.momentum is None else self.momentum
        if counter is not None and self.momentum is None:  # cumulative average, as PyTorch
            factor = 1.0 / (float(counter.data) + 1.0)
        # without running statistics the batch's own are used in eval mode too (PyTorch's rule)
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        out = batch_norm(x, self.running_mean if keep else None,
                         self.running_var if keep else None, self.weight, self.bias,
                         training=use_batch, momentum=factor, eps=self.eps)
        if counter is not None:
            counter.data = counter.device.asarray(counter.data + 1, dtype=counter.data.dtype)
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs: per feature C, statistics over N (and L)."""

    ranks = (2, 3)
    layout = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Spatial batch norm over (N, C, H, W) images: per channel, statistics over N, H and W."""

    ranks = (4,)
    layout = "(N, {c}, H, W)"


class LayerNorm(Layer):
    """Layer norm over each sample's trailing `normalized_shape` axes; weight (ones) and bias
    (zeros) of that shape when `elementwise_affine`. The same in training and eval."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, normalized_shape: Count | tuple[Count, ...], eps: NonNegative = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, *,
                 dtype: FloatDtype = "float32") -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        _affine_parameters(self, self.normalized_shape, self.elementwise_affine, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps:g}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Layer):
    """Group norm: the channels of (N, C, *) in `num_groups` groups, each standardised over its
    channels and space; per-channel weight and bias when `affine`. Independent of the batch."""

    weight: Parameter | None
    bias: Parameter | None

    def __init__(self, num_groups: Count, num_channels: Count, eps: NonNegative = 1e-5,
                 affine: bool = True, *, dtype: FloatDtype = "float32") -> None:
        super().__init__()
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        if self.num_channels % self.num_groups:
            raise ConfigError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps, self.affine = float(eps), bool(affine)
        _affine_parameters(self, (self.num_channels,), self.affine, True, dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input "
                             f"of shape (N, {self.num_channels}, *), got {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps:g}, affine={self.affine}"
