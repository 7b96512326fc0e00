"""Running sums and products along an axis: the cumsum and prod gates.

Both VJPs are written with graph ops, so second derivatives (and gradient diagrams) work:
cumsum's is the reversed cumsum of g; prod's multiplies g by the product of the *other* entries,
built with a where on an identity mask (not out / x, which is 0/0 where an entry is 0).
"""

from __future__ import annotations

import numpy as np

from .._primitive import Primitive, primitive
from .._tensor import Tensor
from ..declare import declare, resolve_keepdims
from .elementwise import _where
from .structural import _broadcast_to, _expand_dims, _index, _reshape_to, check_axis, \
    expand_reduced


def _flip(x: Tensor, axis: int) -> Tensor:
    """x reversed along `axis` (a basic getitem, so it has a gradient and runs on any device)."""
    return _index(x, (slice(None),) * axis + (slice(None, None, -1),))


def _cumsum_forward(xp, x, *, axis):
    if hasattr(xp, "cumsum"):  # NumPy and CuPy
        return xp.cumsum(x, axis=axis, dtype=x.dtype)
    return xp.cumulative_sum(x, axis=axis, dtype=x.dtype)  # the array API's name


_cumsum: Primitive = primitive(
    "cumsum", symbol="cumsum", forward=_cumsum_forward,
    vjp=lambda g, out, x, *, axis: (_flip(_cumsum(_flip(g, axis), axis=axis), axis),),
    doc="running sum; every input reaches all later outputs, so its gradient sums g from the end")


@declare(method=True)
def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sum along `dim`: out[i] = x[0] + ... + x[i] (torch.cumsum, np.cumsum); gradient:
    the reversed running sum of g (x[i] reaches every out[j] with j >= i)."""
    return _cumsum(x, axis=check_axis(dim, x.ndim, "cumsum"))


def _others_product(x: Tensor, axis: int) -> Tensor:
    """For each entry, the product of the other entries along `axis` (exact when some are 0).

    The entries repeated along a new axis, the diagonal replaced by 1, multiplied out: n times
    the memory of x for an axis of size n, the price of a gradient that needs no division."""
    n = x.shape[axis]
    eye = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (x.ndim - axis - 1))
    mask = Tensor._leaf(x.device.asarray(eye), x.device)
    return _prod(_where(mask, 1.0, _expand_dims("prod", x, axis)), axis=axis + 1,
                 keepdims=False)


def _prod_vjp(g, out, x, *, axis, keepdims):
    upstream = _broadcast_to(expand_reduced(g, x.ndim, (axis,), keepdims), shape=x.shape)
    return (upstream * _others_product(x, axis),)


_prod: Primitive = primitive(
    "prod", symbol="Π",
    forward=lambda xp, x, *, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims,
                                                     dtype=x.dtype),
    vjp=_prod_vjp, doc="product along an axis; gradient: g times the product of the others")


@declare(method=True)
def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product of the entries along `dim`, or of all of them for None (torch.prod, np.prod);
    gradient: g times the product of the other entries (correct where x has zeros)."""
    keepdims = resolve_keepdims("prod", keepdim, None)
    if dim is None:
        flat = _prod(_reshape_to(x, (-1,)), axis=0, keepdims=False)
        return _reshape_to(flat, (1,) * x.ndim) if keepdims else flat
    return _prod(x, axis=check_axis(dim, x.ndim, "prod"), keepdims=keepdims)
