"""Matrix multiplication, with NumPy's broadcasting of batch axes and its 1-D conventions."""

from __future__ import annotations

from .._primitive import Primitive, primitive
from .._tensor import Tensor
from ..declare import TensorLike, declare
from ..errors import ArgumentError, ShapeError, user_site
from .structural import _reshape_to, swapaxes


def _matmul_vjp(g, out, x, y):
    """Only the gradients someone needs: a data batch x needs none, only the weights do."""
    return (_matmul(g, swapaxes(y, -1, -2)) if x.requires_grad else None,
            _matmul(swapaxes(x, -1, -2), g) if y.requires_grad else None)


_matmul: Primitive = primitive("matmul", symbol="@",
                    forward=lambda xp, x, y: xp.matmul(x, y),
                    vjp=_matmul_vjp)


def _matmul_of(x, y) -> Tensor:
    """x @ y (the `@` operator's path: no declaration wrapper)."""
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        from .._primitive import constant_like

        if not isinstance(x, Tensor) and not isinstance(y, Tensor):
            raise ArgumentError(f"matmul: expected at least one Tensor, got {type(x).__name__} "
                                f"and {type(y).__name__} (at {user_site()})")

        x = x if isinstance(x, Tensor) else constant_like(x, y)
        y = y if isinstance(y, Tensor) else constant_like(y, x)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes {x.shape} "
                         f"and {y.shape} (use * for scalars) (at {user_site()})")
    if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
        raise ShapeError(
            f"matmul: inner dimensions differ: shapes {x.shape} @ {y.shape} need "
            f"x.shape[-1] == y.shape[{-2 if y.ndim > 1 else 0}] (at {user_site()})"
        )
    x2 = _reshape_to(x, (1,) + x.shape) if x.ndim == 1 else x
    y2 = _reshape_to(y, y.shape + (1,)) if y.ndim == 1 else y
    out = _matmul(x2, y2)
    if x.ndim == 1 or y.ndim == 1:  # drop the added axes (both 1-D: (1, 1) -> (), as in NumPy)
        matrix = out.shape[-2:]
        if x.ndim == 1:
            matrix = matrix[1:]        # (..., 1, m) -> (..., m)
        if y.ndim == 1:
            matrix = matrix[:-1]       # (..., n, 1) -> (..., n)
        out = _reshape_to(out, out.shape[:-2] + matrix)
    return out


@declare(method=True)
def matmul(x: TensorLike, y: TensorLike) -> Tensor:
    """x @ y with batch axes broadcast; 1-D operands are promoted to matrices and the added axis
    removed (torch.matmul, np.matmul); gradient: g @ y^T to x, x^T @ g to y."""
    return _matmul_of(x, y)


@declare(method=True)
def mm(x: Tensor, y: Tensor) -> Tensor:
    """PyTorch's mm: the product of two matrices, no broadcasting; gradient as matmul's."""
    if x.ndim != 2 or y.ndim != 2:
        raise ShapeError(f"mm: expects two matrices (2-d), got shapes {x.shape} and {y.shape}; "
                         f"use matmul for vectors and batches")
    return _matmul_of(x, y)
