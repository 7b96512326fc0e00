"""Sliding windows on arrays: the backend side of convolution and pooling (one import point).

Four modules, one concern each:
- `window_arrays`: geometry (`window_geometry`, `WindowGeometry`), padding, `unfold` (im2col) and
  its adjoint `fold` (col2im), and the reusable NumPy scratch buffer;
- `conv_kernels`: the three linear maps of a convolution (forward, input and weight gradients):
  which path runs, the generic array-API path, and `reference_conv` for tests;
- `conv_numpy`: their NumPy fast paths, chunks of images run on every core (`chunks`);
- `pool_kernels`: max and sum pooling and their gradients, on strided views (no window copy).

NumPy and any array-API namespace (CuPy, array_api_strict) run the same functions; NumPy-only
calls sit behind `_is_numpy` checks.
"""

from __future__ import annotations

from .conv_kernels import (
    conv_forward,
    conv_input_grad,
    conv_weight_grad,
    im2col_bytes,
    reference_conv,
)
from .pool_kernels import (
    max_gather,
    max_indices,
    max_route,
    pad_spatial_value,
    window_max,
    window_spread,
    window_sum,
)
from .window_arrays import (
    Pairs,
    WindowGeometry,
    crop_spatial,
    fold,
    normalize_padding,
    normalize_tuple,
    pad_spatial,
    release_workspace,
    unfold,
    window_geometry,
    workspace_bytes,
)

__all__ = [
    "Pairs", "WindowGeometry", "conv_forward", "conv_input_grad", "conv_weight_grad",
    "crop_spatial", "fold", "im2col_bytes", "max_gather", "max_indices", "max_route",
    "normalize_padding", "normalize_tuple", "pad_spatial", "pad_spatial_value", "reference_conv",
    "release_workspace", "unfold", "window_geometry", "window_max", "window_spread", "window_sum",
    "workspace_bytes",
]
