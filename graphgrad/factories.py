"""Tensor factories users know from NumPy and PyTorch (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from . import config
from .backend import dtype_name, get_device
from .errors import ArgumentError, user_site
from ._tensor import Tensor


def _make(array: np.ndarray, dtype, device, requires_grad: bool, name) -> Tensor:
    dtype = dtype_name(dtype or config.get_default_dtype())
    return Tensor(np.asarray(array, dtype=dtype), device=device, requires_grad=requires_grad,
                  name=name)


def _shape(shape: tuple, op: str = "zeros") -> tuple[int, ...]:
    """`zeros(2, 3)` (PyTorch) and `zeros((2, 3))` (NumPy) alike; sizes are ints >= 0."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ArgumentError(f"{op}: sizes must be ints >= 0, got {n!r} in shape {shape!r} "
                                f"(at {user_site()})")
    return tuple(int(n) for n in shape)


def zeros(*shape: int | tuple[int, ...], dtype=None, device=None, requires_grad: bool = False,
          name: str | None = None) -> Tensor:
    """A tensor of zeros: `gg.zeros(2, 3)` or `gg.zeros((2, 3))` (torch.zeros, np.zeros)."""
    return _make(np.zeros(_shape(shape, "zeros")), dtype, device, requires_grad, name)


def ones(*shape: int | tuple[int, ...], dtype=None, device=None, requires_grad: bool = False,
         name: str | None = None) -> Tensor:
    """A tensor of ones: `gg.ones(2, 3)` or `gg.ones((2, 3))` (torch.ones, np.ones)."""
    return _make(np.ones(_shape(shape, "ones")), dtype, device, requires_grad, name)


def full(shape: int | tuple[int, ...], value: float, dtype=None, device=None,
         requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A tensor filled with `value` (torch.full, np.full)."""
    return _make(np.full(_shape((shape,), "full"), value), dtype, device, requires_grad, name)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros of `t`'s shape, dtype and device (torch.zeros_like)."""
    return Tensor(t.device.xp.zeros_like(t.data), device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones of `t`'s shape, dtype and device (torch.ones_like)."""
    return Tensor(t.device.xp.ones_like(t.data), device=t.device, requires_grad=requires_grad)


def arange(*args, dtype=None, device=None) -> Tensor:
    """NumPy's arange; a float range takes the default dtype (float32 unless changed)."""
    values = np.arange(*args, dtype=dtype)
    if dtype is None and values.dtype.kind == "f":
        values = values.astype(config.get_default_dtype())
    return Tensor(values, device=device)


def randn(*shape: int | tuple[int, ...], generator: np.random.Generator | None = None,
          seed: int | None = None, dtype=None, device=None, requires_grad: bool = False,
          name: str | None = None) -> Tensor:
    """Standard normal values drawn on the host from an explicit generator or seed."""
    rng = generator if generator is not None else np.random.default_rng(seed)
    return _make(rng.standard_normal(_shape(shape, "randn")), dtype, get_device(device),
                 requires_grad, name)
