"""Convolution: a sparse, weight-shared matrix multiply, built from the window gates.

A convolution is `unfold` (copy every window of the input) followed by one matmul with the
kernel reshaped to a matrix; that is its gate expansion. Three composites are the three linear
maps of one convolution and each other's VJPs (as in JAX's transposes and Chainer's
deconvolution), so gradients of any order stay fused:

    conv              y  = W @ unfold(x)         VJP: (conv_transpose(g, W), conv_weight_grad(x, g))
    conv_transpose    x' = fold(W^T @ y)         VJP: (conv(g, W), conv_weight_grad(g, y))
    conv_weight_grad  W' = y @ unfold(x)^T       VJP: (conv_transpose(y, g), conv(x, g))

Public functions (PyTorch names and NCHW layout): `conv1d`, `conv2d`, `conv_transpose2d`,
`local_conv2d` (unshared weights), `tiled_conv2d` (a set of kernels cycled across positions) and
`conv_output_shape`. Cross-correlation by default, like every library; `flip=True` flips the
kernel, which is the true convolution of the notes.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..backend import windows
from ..backend.windows import WindowGeometry, window_geometry
from ..declare import declare
from ..errors import ShapeError
from ..ops import getitem, matmul, pad, reshape, sum as reduce_sum, swapaxes, transpose
from ..ops.window import fold_with, unfold_with
from .registry import composite


# ----- the three linear maps ----------------------------------------------------------------------
def _conv_expand(x, w, *, geometry: WindowGeometry, groups: int):
    """unfold + reshape + matmul: the weight-shared matrix multiply of the notes."""
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    k, positions = math.prod(geometry.kernel), math.prod(geometry.out_size)
    cols = reshape(unfold_with(x, geometry=geometry), (n, groups, c // groups * k, positions))
    kernel = reshape(w, (groups, o // groups, c // groups * k))
    return reshape(matmul(kernel, cols), (n, o) + geometry.out_size)


def _conv_transpose_expand(y, w, *, geometry: WindowGeometry, groups: int):
    """matmul with the transposed kernel matrix, then fold (scatter-add the windows back)."""
    n, o, c = y.shape[0], y.shape[1], w.shape[1] * groups
    k, positions = math.prod(geometry.kernel), math.prod(geometry.out_size)
    kernel = reshape(w, (groups, o // groups, c // groups * k))
    cols = matmul(swapaxes(kernel, -1, -2), reshape(y, (n, groups, o // groups, positions)))
    return fold_with(reshape(cols, (n, c) + geometry.kernel + geometry.out_size), geometry=geometry)


def _conv_weight_grad_expand(x, y, *, geometry: WindowGeometry, groups: int):
    """Correlate the input windows with y, summed over the batch: the kernel's gradient."""
    n, c, o = x.shape[0], x.shape[1], y.shape[1]
    k, positions = math.prod(geometry.kernel), math.prod(geometry.out_size)
    cols = reshape(unfold_with(x, geometry=geometry), (n, groups, c // groups * k, positions))
    per_image = matmul(reshape(y, (n, groups, o // groups, positions)), swapaxes(cols, -1, -2))
    return reshape(reduce_sum(per_image, axis=0), (o, c // groups) + geometry.kernel)


# The VJPs skip a gradient nobody wants (a conv's data input rarely requires one).
def _conv_vjp(g, out, x, w, *, geometry: WindowGeometry, groups: int):
    gw = conv_weight_grad(x, g, geometry=geometry, groups=groups) if w.requires_grad else None
    gx = conv_transpose(g, w, geometry=geometry, groups=groups) if x.requires_grad else None
    return gx, gw


def _conv_transpose_vjp(g, out, y, w, *, geometry: WindowGeometry, groups: int):
    gy = conv(g, w, geometry=geometry, groups=groups) if y.requires_grad else None
    gw = conv_weight_grad(g, y, geometry=geometry, groups=groups) if w.requires_grad else None
    return gy, gw


def _conv_weight_grad_vjp(g, out, x, y, *, geometry: WindowGeometry, groups: int):
    gy = conv(x, g, geometry=geometry, groups=groups) if y.requires_grad else None
    gx = conv_transpose(y, g, geometry=geometry, groups=groups) if x.requires_grad else None
    return gx, gy


conv = composite(
    "conv", symbol="conv",
    expand=_conv_expand,
    forward=lambda xp, x, w, *, geometry, groups: windows.conv_forward(xp, x, w, geometry, groups),
    vjp=_conv_vjp,
    doc="N-d cross-correlation of x (N, C, *in) with w (O, C/groups, *kernel).",
)

conv_transpose = composite(
    "conv_transpose", symbol="convᵀ",
    expand=_conv_transpose_expand,
    forward=lambda xp, y, w, *, geometry, groups: windows.conv_input_grad(
        xp, y, w, geometry, groups),
    vjp=_conv_transpose_vjp,
    doc="Adjoint of conv in x (a transposed convolution); `geometry` is that of the conv.",
)

conv_weight_grad = composite(
    "conv_weight_grad", symbol="conv_w",
    expand=_conv_weight_grad_expand,
    forward=lambda xp, x, y, *, geometry, groups: windows.conv_weight_grad(
        xp, x, y, geometry, groups),
    vjp=_conv_weight_grad_vjp,
    doc="Adjoint of conv in w: the kernel gradient from the input x and the output gradient y.",
)


# ----- checks -------------------------------------------------------------------------------------
def _check_tensor(op: str, name: str, t, ndim: int, layout: str):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.ndim != ndim:
        raise ShapeError(f"{op}: {name} must have {ndim} axes {layout}, got shape {t.shape}")


def _check_groups(op: str, groups, channels: int, out_channels: int):
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r}")
    for what, count in (("input channels", channels), ("output channels", out_channels)):
        if count % groups:
            divisors = [d for d in range(1, count + 1) if count % d == 0]
            raise ShapeError(
                f"{op}: groups={groups} does not divide the {count} {what}; "
                f"groups must divide both (divisors of {count}: {divisors})"
            )


def _add_bias(op: str, y: Tensor, b, nd: int) -> Tensor:
    if b is None:
        return y
    if not isinstance(b, Tensor):
        raise TypeError(f"{op}: b must be a Tensor or None, got {type(b).__name__}")
    if b.shape != (y.shape[1],):
        raise ShapeError(f"{op}: bias must have shape ({y.shape[1]},) (one per output channel), "
                         f"got {b.shape}")
    return y + reshape(b, (1, y.shape[1]) + (1,) * nd)


def _flipped(w: Tensor, nd: int) -> Tensor:
    return getitem(w, (slice(None), slice(None)) + (slice(None, None, -1),) * nd)


# ----- public API ---------------------------------------------------------------------------------
# What the window arguments take (checked by the declarations; window_geometry checks the values):
# an int for every axis or one per axis; padding also "valid", "same" or (before, after) pairs.
Size = int | tuple[int, ...]
Padding = int | str | tuple[int | tuple[int, int], ...]


def conv_output_shape(input_size: Size, kernel_size: Size, stride: Size = 1,
                      padding: Padding = 0, dilation: Size = 1,
                      strict: bool = False) -> WindowGeometry:
    """Output size of a convolution or pooling window, and whether the stride tiles exactly.

    Returns a `WindowGeometry` (`out_size`, `exact` per axis, and the normalised `kernel`,
    `stride`, `padding` as (before, after) pairs, `dilation`). A stride that does not tile follows
    the floor convention (the last rows are dropped); `strict=True` raises instead, as the notes
    do: a 7x7 input with a 3x3 kernel and stride 3 "cannot".
    """
    if isinstance(input_size, int):
        input_size = (input_size,)
    return window_geometry("conv_output_shape", tuple(input_size), kernel_size, stride, padding,
                           dilation, strict=strict)


def _conv_nd(op: str, nd: int, x, w, b, stride, padding, dilation, groups, flip, strict):
    layout = "(N, C, " + ", ".join("HW"[-nd:] if nd <= 2 else "DHW") + ")"
    _check_tensor(op, "x", x, nd + 2, layout)
    _check_tensor(op, "w", w, nd + 2, "(C_out, C_in / groups, *kernel)")
    channels, out_channels = x.shape[1], w.shape[0]
    _check_groups(op, groups, channels, out_channels)
    if w.shape[1] * groups != channels:
        raise ShapeError(
            f"{op}: the input has {channels} channels but the kernel of shape {w.shape} expects "
            f"{w.shape[1]} x groups={groups} = {w.shape[1] * groups}; give a kernel of shape "
            f"({out_channels}, {channels // groups}, ...) or an input with "
            f"{w.shape[1] * groups} channels"
        )
    geometry = window_geometry(op, x.shape[2:], w.shape[2:], stride, padding, dilation, strict)
    if flip:
        w = _flipped(w, nd)
    return _add_bias(op, conv(x, w, geometry=geometry, groups=groups), b, nd)


@declare
def conv1d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: Size = 1, padding: Padding = 0,
           dilation: Size = 1, groups: int = 1, flip: bool = False,
           strict: bool = False) -> Tensor:
    """1-d cross-correlation of x (N, C, L) with w (C_out, C / groups, k), plus bias b
    (torch.nn.functional.conv1d); the arguments and the gradient are those of `conv2d`."""
    return _conv_nd("conv1d", 1, x, w, b, stride, padding, dilation, groups, flip, strict)


@declare
def conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: Size = 1, padding: Padding = 0,
           dilation: Size = 1, groups: int = 1, flip: bool = False,
           strict: bool = False) -> Tensor:
    """2-d cross-correlation of x (N, C, H, W) with w (C_out, C / groups, kh, kw), plus bias b
    (torch.nn.functional.conv2d): y[n, o, h, w] = b[o] + sum over c, i, j of
    x[n, c, s h + d i, s w + d j] w[o, c, i, j] (stride s, dilation d, after padding).

    `padding`: an int, a pair, ((top, bottom), (left, right)), "valid" (0) or "same" (stride 1
    only). `dilation` spaces the kernel taps (convolution "with holes"). `groups` splits the
    channels into independent convolutions. `flip=True` flips the kernel: the true convolution
    sum_m x[i - m] w[m] of the notes instead of the correlation sum_m x[i + m] w[m].
    `strict=True` rejects a stride that does not tile the padded input exactly.
    Gradient: conv_transpose2d(g, w) for x, the correlation of x with g for w, g summed over
    (N, H, W) for b; each is again a fused convolution, so gradients of any order stay fused.
    """
    return _conv_nd("conv2d", 2, x, w, b, stride, padding, dilation, groups, flip, strict)


@declare
def conv_transpose2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: Size = 1,
                     padding: Padding = 0, output_padding: Size = 0, groups: int = 1,
                     dilation: Size = 1) -> Tensor:
    """Transposed convolution (torch.nn.functional.conv_transpose2d): the adjoint of `conv2d`
    with the same w and geometry; its gradient in x is that conv2d.

    x (N, C_in, H, W), w (C_in, C_out / groups, kh, kw). Output size per axis:
    (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1. This is the
    "deconvolution" of deconvnet visualisations and conv2d's input gradient.
    """
    op = "conv_transpose2d"
    _check_tensor(op, "x", x, 4, "(N, C, H, W)")
    _check_tensor(op, "w", w, 4, "(C_in, C_out / groups, kh, kw)")
    if w.shape[0] != x.shape[1]:
        raise ShapeError(f"{op}: the input has {x.shape[1]} channels but the kernel of shape "
                         f"{w.shape} expects {w.shape[0]} (w is (C_in, C_out / groups, kh, kw))")
    _check_groups(op, groups, x.shape[1], w.shape[1] * groups)
    kernel = windows.normalize_tuple(w.shape[2:], 2, "kernel_size", op)
    stride_ = windows.normalize_tuple(stride, 2, "stride", op)
    dilation_ = windows.normalize_tuple(dilation, 2, "dilation", op)
    extra = windows.normalize_tuple(output_padding, 2, "output_padding", op, minimum=0)
    pads = windows.normalize_padding(padding, 2, kernel, dilation_, stride_, op)
    for e, s, d in zip(extra, stride_, dilation_):
        if e >= max(s, d):
            raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than the "
                             f"stride {stride_} or the dilation {dilation_}")
    out_size = tuple(
        (n - 1) * s - lo - hi + d * (k - 1) + e + 1
        for n, s, (lo, hi), d, k, e in zip(x.shape[2:], stride_, pads, dilation_, kernel, extra))
    if any(size < 1 for size in out_size):
        raise ShapeError(f"{op}: input {x.shape[2:]} with kernel {kernel}, stride {stride_} and "
                         f"padding {padding} gives an empty output {out_size}; use less padding")
    # The adjoint of the conv whose windows tile its padded input exactly: output_padding e takes
    # e rows off the high padding; where the padding is smaller, the rest are rows no input pixel
    # reaches (e may exceed the stride when the dilation is larger), appended as zeros.
    short = tuple(max(e - hi, 0) for e, (_, hi) in zip(extra, pads))
    geometry = window_geometry(
        op, tuple(size - z for size, z in zip(out_size, short)), kernel, stride_,
        tuple((lo, max(hi - e, 0)) for e, (lo, hi) in zip(extra, pads)), dilation_)
    y = conv_transpose(x, w, geometry=geometry, groups=groups)
    if any(short):
        y = pad(y, ((0, 0), (0, 0)) + tuple((0, z) for z in short))
    return _add_bias(op, y, b, 2)


@declare
def local_conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: Size = 1,
                 padding: Padding = 0, dilation: Size = 1) -> Tensor:
    """Unshared convolution (a locally connected layer): a different kernel at every position.

    x (N, C, H, W), w (C_out, OH, OW, C, kh, kw) — w[:, i, j] is the kernel of output position
    (i, j); b is (C_out,) or (C_out, OH, OW). Parameters: C_out * OH * OW * C * kh * kw.
    Built from gates: unfold, transpose, a batched matmul over positions, so its gradient is
    theirs (no PyTorch function; Keras's LocallyConnected2D).
    """
    op = "local_conv2d"
    _check_tensor(op, "x", x, 4, "(N, C, H, W)")
    _check_tensor(op, "w", w, 6, "(C_out, OH, OW, C, kh, kw)")
    n, c = x.shape[:2]
    if w.shape[3] != c:
        raise ShapeError(f"{op}: the input has {c} channels but the kernel of shape {w.shape} "
                         f"expects {w.shape[3]} (w is (C_out, OH, OW, C, kh, kw))")
    geometry = window_geometry(op, x.shape[2:], w.shape[4:], stride, padding, dilation)
    if tuple(w.shape[1:3]) != geometry.out_size:
        raise ShapeError(f"{op}: this geometry gives an output of {geometry.out_size} positions "
                         f"but w has kernels for {tuple(w.shape[1:3])}; give w the shape "
                         f"({w.shape[0]}, {geometry.out_size[0]}, {geometry.out_size[1]}, "
                         f"{c}, {w.shape[4]}, {w.shape[5]})")
    o = w.shape[0]
    positions, k = math.prod(geometry.out_size), math.prod(geometry.kernel)
    cols = reshape(unfold_with(x, geometry=geometry), (n, c * k, positions))
    cols = transpose(cols, (2, 0, 1))                                        # (L, N, C*K)
    kernels = reshape(transpose(w, (1, 2, 3, 4, 5, 0)), (positions, c * k, o))  # (L, C*K, O)
    y = transpose(matmul(cols, kernels), (1, 2, 0))                          # (N, O, L)
    y = reshape(y, (n, o) + geometry.out_size)
    if b is None:
        return y
    if b.shape == (o,):
        return y + reshape(b, (1, o, 1, 1))
    if b.shape == (o,) + geometry.out_size:
        return y + reshape(b, (1,) + b.shape)
    raise ShapeError(f"{op}: bias must have shape ({o},) or {(o,) + geometry.out_size}, "
                     f"got {b.shape}")


@declare
def tiled_conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: Size = 1,
                 padding: Padding = 0, dilation: Size = 1) -> Tensor:
    """Tiled convolution: a set of th x tw kernels cycled across the output positions.

    x (N, C, H, W), w (th, tw, C_out, C, kh, kw): output position (i, j) uses kernel
    w[i % th, j % tw], so immediate neighbours have different kernels while parameters are shared
    every th rows and tw columns. th = tw = 1 is `conv2d`; th x tw = the output size is
    `local_conv2d`. Built as a local convolution whose kernels are the tiled w (the gradient sums
    over the copies through the broadcast gate). No PyTorch function.
    """
    op = "tiled_conv2d"
    _check_tensor(op, "x", x, 4, "(N, C, H, W)")
    _check_tensor(op, "w", w, 6, "(th, tw, C_out, C, kh, kw)")
    if w.shape[3] != x.shape[1]:
        raise ShapeError(f"{op}: the input has {x.shape[1]} channels but the kernels of shape "
                         f"{w.shape} expect {w.shape[3]} (w is (th, tw, C_out, C, kh, kw))")
    geometry = window_geometry(op, x.shape[2:], w.shape[4:], stride, padding, dilation)
    th, tw = w.shape[:2]
    (oh, ow), rest = geometry.out_size, tuple(w.shape[2:])
    reps_h, reps_w = -(-oh // th), -(-ow // tw)
    tiled = reshape(w, (1, th, 1, tw) + rest).broadcast_to((reps_h, th, reps_w, tw) + rest)
    tiled = reshape(tiled, (reps_h * th, reps_w * tw) + rest)
    if (reps_h * th, reps_w * tw) != (oh, ow):
        tiled = getitem(tiled, (slice(0, oh), slice(0, ow)))
    local = transpose(tiled, (2, 0, 1, 3, 4, 5))                   # (C_out, OH, OW, C, kh, kw)
    return local_conv2d(x, local, b, stride=geometry.stride, padding=geometry.padding,
                        dilation=geometry.dilation)


__all__ = ["conv1d", "conv2d", "conv_transpose2d", "local_conv2d", "tiled_conv2d",
           "conv_output_shape", "conv", "conv_transpose", "conv_weight_grad"]
