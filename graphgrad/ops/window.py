"""Window gates: the linear pairs under convolution and pooling.

- `unfold` (im2col) copies every window of a padded (N, C, *spatial) input into
  (N, C, *kernel, *out); `fold` adds windows back (overlaps sum). Each is the other's VJP.
- `window_sum` sums each window; `window_spread` adds each output value to its whole window.
  The same pair without materialising the windows (average and Lp pooling use it).
- `max_route` sends a window's gradient to the window's largest elements (ties share equally, the
  engine's max-gate rule) and `max_gather` is its adjoint. The winners depend on x only through
  a piecewise-constant choice, so x is a non-differentiable input of both.

All are linear in their first input, so the VJPs are each other and double backward works.
The static parameter `geometry` is a `WindowGeometry` (hashable); see `graphgrad.backend.windows`.
"""

from __future__ import annotations

from .._primitive import Primitive, primitive
from .._tensor import Tensor
from ..backend import windows
from ..backend.windows import WindowGeometry, window_geometry
from ..declare import declare
from ..errors import ShapeError

_unfold: Primitive = primitive(
    "unfold", symbol="unfold",
    forward=lambda xp, x, *, geometry: windows.unfold(xp, x, geometry),
    vjp=lambda g, out, x, *, geometry: (_fold(g, geometry=geometry),),
    doc="im2col: all windows (N, C, *kernel, *out); the VJP is fold",
)

_fold: Primitive = primitive(
    "fold", symbol="fold",
    forward=lambda xp, cols, *, geometry: windows.fold(xp, cols, geometry),
    vjp=lambda g, out, cols, *, geometry: (_unfold(g, geometry=geometry),),
    doc="col2im: windows added back where they came from; the VJP is unfold",
)

_window_sum: Primitive = primitive(
    "window_sum", symbol="Σwin",
    forward=lambda xp, x, *, geometry: windows.window_sum(xp, x, geometry),
    vjp=lambda g, out, x, *, geometry: (_window_spread(g, geometry=geometry),),
    doc="sum of each window (= unfold then sum over the kernel axes, without the copy)",
)

_window_spread: Primitive = primitive(
    "window_spread", symbol="spread",
    forward=lambda xp, y, *, geometry: windows.window_spread(xp, y, geometry),
    vjp=lambda g, out, y, *, geometry: (_window_sum(g, geometry=geometry),),
    doc="adjoint of window_sum: each value added to every position of its window",
)

max_route: Primitive = primitive(
    "max_route", symbol="route",
    forward=lambda xp, g, x, out, *, geometry: windows.max_route(xp, g, x, out, geometry),
    vjp=lambda gg, res, g, x, out, *, geometry: (
        max_gather(gg, x, out, geometry=geometry), None, None),
    nondiff=(1, 2),
    doc="max pooling's gradient: g to each window's winners (ties share); x, out choose them",
)

max_gather: Primitive = primitive(
    "max_gather", symbol="gather",
    forward=lambda xp, z, x, out, *, geometry: windows.max_gather(xp, z, x, out, geometry),
    vjp=lambda gg, res, z, x, out, *, geometry: (
        max_route(gg, x, out, geometry=geometry), None, None),
    nondiff=(1, 2),
    doc="adjoint of max_route: the mean of z over each window's winners",
)


def _geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation) -> WindowGeometry:
    if not isinstance(x, Tensor) or x.ndim < 3:
        shape = getattr(x, "shape", None)
        raise ShapeError(f"{op}: expected a Tensor of shape (N, C, *spatial), got shape {shape}")
    return window_geometry(op, x.shape[2:], kernel_size, stride, padding, dilation)


@declare
def unfold(x: Tensor, kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] = 1,
           padding: int | str | tuple[int, ...] | tuple[tuple[int, int], ...] = 0,
           dilation: int | tuple[int, ...] = 1) -> Tensor:
    """All kernel-sized windows of x (N, C, *spatial) as (N, C, *kernel, *out) (im2col;
    torch.nn.functional.unfold up to a reshape); gradient: fold(g), overlaps summed.

    Unlike PyTorch's `F.unfold` ((N, C*K, L)) the kernel and output axes stay separate; a
    `reshape` gives PyTorch's layout for free. Padding is zeros; spatial dims may be 1, 2 or 3.
    """
    geometry = _geometry("unfold", x, kernel_size, stride, padding, dilation)
    return _unfold(x, geometry=geometry)


@declare
def fold(cols: Tensor, output_size: tuple[int, ...], kernel_size: int | tuple[int, ...],
         stride: int | tuple[int, ...] = 1,
         padding: int | str | tuple[int, ...] | tuple[tuple[int, int], ...] = 0,
         dilation: int | tuple[int, ...] = 1) -> Tensor:
    """The adjoint of `unfold`: (N, C, *kernel, *out) windows summed back into
    (N, C, *output_size) (col2im; torch.nn.functional.fold up to a reshape); gradient:
    unfold(g)."""
    output_size = tuple(output_size)
    nd = len(output_size)
    geometry = window_geometry("fold", output_size, kernel_size, stride, padding, dilation)
    expected = tuple(cols.shape[:2]) + geometry.kernel + geometry.out_size
    if cols.ndim != 2 + 2 * nd or tuple(cols.shape) != expected:
        raise ShapeError(
            f"fold: windows of kernel {geometry.kernel} over output_size {output_size} need shape "
            f"(N, C, *kernel, *out) = {expected}, got {tuple(cols.shape)}"
        )
    return _fold(cols, geometry=geometry)


@declare
def window_sum(x: Tensor, kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] = 1,
               padding: int | str | tuple[int, ...] | tuple[tuple[int, int], ...] = 0,
               dilation: int | tuple[int, ...] = 1) -> Tensor:
    """Sum over each window, (N, C, *spatial) -> (N, C, *out), zero padding (avg_pool times the
    window size); gradient: g spread over each window."""
    return _window_sum(x, geometry=_geometry("window_sum", x, kernel_size, stride, padding,
                                             dilation))


unfold_with = _unfold
fold_with = _fold
window_sum_with = _window_sum
window_spread_with = _window_spread

__all__ = ["unfold", "fold", "window_sum", "max_route", "max_gather", "unfold_with", "fold_with",
           "window_sum_with", "window_spread_with"]
