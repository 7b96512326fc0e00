"""Pooling: combine each small window into one value (max routes the gradient, average spreads it).

Gate expansions, as the notes draw them:
- max pooling = unfold (padding -inf, so it never wins) + the max reduction gate: the gradient goes
  to the winner of each window; tied winners share it equally (the engine's max-gate rule);
- average pooling = unfold + mean (padding counts as zeros, PyTorch's count_include_pad=True);
- Lp pooling = (sum over the window of |x|^p)^(1/p); p = 2 is the notes' L2 pooling.
The fused paths loop over the kernel offsets on strided views and never copy the windows; their
VJPs are the window gates `max_route`, `window_spread` (linear, so double backward works).

Also: pooling over feature channels (`lp_pool_channels`, `max_pool_channels`) and `maxout`.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..backend import windows
from ..backend.windows import WindowGeometry, window_geometry
from ..declare import declare
from ..errors import ShapeError
from ..ops import (
    abs as abs_,
    max as reduce_max,
    mean,
    pad,
    power,
    reshape,
    sum as reduce_sum,
    transpose,
    where,
)
from ..ops.structural import check_axis
from ..ops.window import max_route, unfold_with, window_spread_with
from .registry import composite
from .conv import Size

# pooling pads with numbers only (no "same"): an int, one per axis, or (before, after) pairs
PoolPadding = int | tuple[int | tuple[int, int], ...]


def _kernel_axes(geometry: WindowGeometry) -> tuple[int, ...]:
    return tuple(range(2, 2 + len(geometry.kernel)))


def _unpadded(geometry: WindowGeometry) -> WindowGeometry:
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(geometry.in_size, geometry.padding))
    return geometry._replace(in_size=padded, padding=((0, 0),) * len(geometry.kernel))


# ----- max ----------------------------------------------------------------------------------------
def _max_pool_expand(x, *, geometry: WindowGeometry):
    if any(lo or hi for lo, hi in geometry.padding):
        x = pad(x, ((0, 0), (0, 0)) + geometry.padding, value=-math.inf)
    return reduce_max(unfold_with(x, geometry=_unpadded(geometry)), axis=_kernel_axes(geometry))


max_pool = composite(
    "max_pool", symbol="maxpool",
    expand=_max_pool_expand,
    forward=lambda xp, x, *, geometry: windows.window_max(xp, x, geometry),
    vjp=lambda g, out, x, *, geometry: (max_route(g, x, out, geometry=geometry),),
    doc="Max over each window; the gradient goes to the window's winner (ties share).",
)


# ----- average ------------------------------------------------------------------------------------
def _avg_pool_expand(x, *, geometry: WindowGeometry):
    return mean(unfold_with(x, geometry=geometry), axis=_kernel_axes(geometry))


def _avg_pool_vjp(g, out, x, *, geometry: WindowGeometry):
    return (window_spread_with(g, geometry=geometry) * (1.0 / math.prod(geometry.kernel)),)


avg_pool = composite(
    "avg_pool", symbol="avgpool",
    expand=_avg_pool_expand,
    forward=lambda xp, x, *, geometry: windows.window_sum(xp, x, geometry) / math.prod(
        geometry.kernel),
    vjp=_avg_pool_vjp,
    doc="Mean over each window (zero padding counted); the gradient is spread evenly.",
)


# ----- Lp -----------------------------------------------------------------------------------------
def _lp_pool_expand(x, *, geometry: WindowGeometry, p: float):
    windows_ = unfold_with(x, geometry=geometry)
    powered = windows_ * windows_ if p == 2 else power(abs_(windows_), p)
    total = reduce_sum(powered, axis=_kernel_axes(geometry))
    # an all-zero window: s^(1/p) has an infinite slope at 0 and 0 * inf = NaN; a "double where"
    # gives it gradient 0 there, as the fused VJP and PyTorch do
    positive = total > 0.0
    return where(positive, power(where(positive, total, 1.0), 1.0 / p), 0.0)


def _lp_pool_forward(xp, x, *, geometry: WindowGeometry, p: float):
    powered = x * x if p == 2 else xp.abs(x) ** p
    return windows.window_sum(xp, powered, geometry) ** (1.0 / p)


def _lp_pool_vjp(g, out, x, *, geometry: WindowGeometry, p: float):
    """d out / d x = sign(x) |x|^(p-1) / out^(p-1), with both singular points guarded.

    An all-zero window (out = 0) and x = 0 for p < 2 get gradient 0 (a subgradient); the guards
    are "double where"s, so no inf reaches the second derivative.
    """
    positive = out > 0.0
    safe_out = where(positive, out, 1.0)
    scaled = where(positive, g * power(safe_out, 1.0 - p), 0.0)
    spread = window_spread_with(scaled, geometry=geometry)
    if p == 2:
        return (x * spread,)
    if p == 1:
        slope = where(x > 0.0, 1.0, where(x < 0.0, -1.0, 0.0)).astype(x.dtype)
        return (slope * spread,)
    nonzero = x != 0.0
    safe_x = where(nonzero, x, 1.0)
    slope = where(nonzero, safe_x * power(abs_(safe_x), p - 2.0), 0.0)
    return (slope * spread,)


lp_pool = composite(
    "lp_pool", symbol="Lp pool",
    expand=_lp_pool_expand,
    forward=_lp_pool_forward,
    vjp=_lp_pool_vjp,
    doc="(sum over each window of |x|^p)^(1/p); p=2 is L2 pooling.",
)


# ----- public API ---------------------------------------------------------------------------------
def _pool_geometry(op: str, x, nd: int, kernel_size, stride, padding, dilation=1,
                   strict: bool = False) -> WindowGeometry:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: x must be a Tensor, got {type(x).__name__}")
    if x.ndim != nd + 2:
        raise ShapeError(f"{op}: expected x of shape (N, C, {', '.join('HW'[-nd:])}), "
                         f"got shape {x.shape}")
    if isinstance(padding, str):
        raise ShapeError(f"{op}: padding must be numbers for pooling, got {padding!r}")
    return window_geometry(op, x.shape[2:], kernel_size,
                           kernel_size if stride is None else stride, padding, dilation, strict)


@declare
def max_pool2d(x: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: PoolPadding = 0, dilation: Size = 1, return_indices: bool = False,
               strict: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each kh x kw window of x (N, C, H, W) (torch.nn.functional.max_pool2d); stride
    defaults to kernel_size. Gradient: g goes to each window's largest element (tied winners
    share it equally).

    Padding is -inf (never selected) and at most half the kernel, as in PyTorch. With
    `return_indices=True` also returns, per output, the flat index (into H*W) of the window's
    first largest element: the "switches" a deconvnet needs to unpool.
    """
    geometry = _pool_geometry("max_pool2d", x, 2, kernel_size, stride, padding, dilation, strict)
    for (lo, hi), k in zip(geometry.padding, geometry.kernel):
        if max(lo, hi) > k // 2:
            raise ShapeError(f"max_pool2d: padding {padding} must be at most half the kernel "
                             f"{geometry.kernel}, so every window holds an input element")
    out = max_pool(x, geometry=geometry)
    if not return_indices:
        return out
    indices = windows.max_indices(x.device.xp, x.data, geometry)
    return out, Tensor._leaf(indices, x.device)


@declare
def avg_pool2d(x: Tensor, kernel_size: Size, stride: Size | None = None,
               padding: PoolPadding = 0, strict: bool = False) -> Tensor:
    """Mean over each window of x (N, C, H, W) (torch.nn.functional.avg_pool2d; zero padding
    counts in the mean, PyTorch's count_include_pad=True). Gradient: g / (kh kw) spread over
    each window."""
    geometry = _pool_geometry("avg_pool2d", x, 2, kernel_size, stride, padding, 1, strict)
    return avg_pool(x, geometry=geometry)


def _check_p(op: str, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 1 or math.isinf(p):
        raise ShapeError(f"{op}: p must be a finite number >= 1 (p=2 is L2 pooling), got {p!r}")
    return float(p)


@declare
def lp_pool2d(x: Tensor, p: float, kernel_size: Size, stride: Size | None = None,
              padding: PoolPadding = 0, strict: bool = False) -> Tensor:
    """(sum over each window of |x|^p)^(1/p): L2 pooling of the notes for p = 2
    (torch.nn.functional.lp_pool2d). Gradient: g sign(x) |x|^(p-1) / out^(p-1).

    Unlike PyTorch's lp_pool2d this takes |x| (a true p-norm, so odd p is well defined) and
    allows zero padding. The gradient at an all-zero window is 0.
    """
    p = _check_p("lp_pool2d", p)
    geometry = _pool_geometry("lp_pool2d", x, 2, kernel_size, stride, padding, 1, strict)
    return lp_pool(x, geometry=geometry, p=p)


def _channels_as_signal(op: str, x: Tensor, axis: int):
    """x with `axis` moved last and flattened to (M, 1, C): a 1-d signal per position."""
    if not isinstance(x, Tensor) or x.ndim < 1:
        raise ShapeError(f"{op}: expected a Tensor with a channel axis, got {x!r}")
    axis = axis % x.ndim
    order = tuple(a for a in range(x.ndim) if a != axis) + (axis,)
    moved = transpose(x, order) if order != tuple(range(x.ndim)) else x
    lead = moved.shape[:-1]
    return reshape(moved, (math.prod(lead), 1, x.shape[axis])), lead, order


def _channels_back(y: Tensor, lead, order) -> Tensor:
    y = reshape(y, lead + (y.shape[-1],))
    if order == tuple(range(len(order))):
        return y
    inverse = tuple(order.index(a) for a in range(len(order)))
    return transpose(y, inverse)


@declare
def lp_pool_channels(x: Tensor, p: float = 2.0, size: int = 2, stride: int | None = None,
                     axis: int = 1) -> Tensor:
    """Lp pooling over feature channels: sqrt(sum_{k in N(j)} h_k^2) for p = 2 (the notes).

    Channel j of the output pools channels j*stride .. j*stride + size - 1 of x along `axis`
    (stride defaults to size: non-overlapping groups), at every spatial position.
    """
    op = "lp_pool_channels"
    p = _check_p(op, p)
    signal, lead, order = _channels_as_signal(op, x, axis)
    geometry = window_geometry(op, signal.shape[2:], size, size if stride is None else stride)
    return _channels_back(lp_pool(signal, geometry=geometry, p=p), lead, order)


@declare
def max_pool_channels(x: Tensor, size: int = 2, stride: int | None = None,
                      axis: int = 1) -> Tensor:
    """Max over groups of `size` feature channels (sliding by `stride`, default `size`) along
    `axis`, at every position; the gradient goes to each group's largest channel."""
    op = "max_pool_channels"
    signal, lead, order = _channels_as_signal(op, x, axis)
    geometry = window_geometry(op, signal.shape[2:], size, size if stride is None else stride)
    return _channels_back(max_pool(signal, geometry=geometry), lead, order)


@declare
def maxout(x: Tensor, pieces: int, axis: int = 1) -> Tensor:
    """Maxout (Goodfellow et al. 2013): the max over `pieces` consecutive channels.

    Output channel j = max(x[j*pieces], ..., x[j*pieces + pieces - 1]) along `axis`: like max
    pooling, but across feature maps (each piece a separately parameterised linear unit). Built
    from the reshape and max-reduction gates.
    """
    if not isinstance(pieces, int) or isinstance(pieces, bool) or pieces < 1:
        raise ShapeError(f"maxout: pieces must be a positive int, got {pieces!r}")
    axis = check_axis(axis, x.ndim, "maxout")
    channels = x.shape[axis]
    if channels % pieces:
        raise ShapeError(f"maxout: {channels} channels along axis {axis} do not split into groups "
                         f"of pieces={pieces}; use a divisor of {channels}")
    shape = x.shape[:axis] + (channels // pieces, pieces) + x.shape[axis + 1:]
    return reduce_max(reshape(x, shape), axis=axis + 1)


__all__ = ["max_pool2d", "avg_pool2d", "lp_pool2d", "lp_pool_channels", "max_pool_channels",
           "maxout", "max_pool", "avg_pool", "lp_pool"]
