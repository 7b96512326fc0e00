"""Tensor factories users know from NumPy and PyTorch (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from . import config
from .backend import dtype_name, get_device
from ._tensor import Tensor


def _make(array: np.ndarray, dtype, device, requires_grad: bool, name) -> Tensor:
    dtype = dtype_name(dtype or config.get_default_dtype())
    return Tensor(np.asarray(array, dtype=dtype), device=device, requires_grad=requires_grad,
                  name=name)


def _shape(shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape, dtype=None, device=None, requires_grad: bool = False, name=None) -> Tensor:
    return _make(np.zeros(_shape(shape)), dtype, device, requires_grad, name)


def ones(*shape, dtype=None, device=None, requires_grad: bool = False, name=None) -> Tensor:
    return _make(np.ones(_shape(shape)), dtype, device, requires_grad, name)


def full(shape, value: float, dtype=None, device=None, requires_grad: bool = False,
         name=None) -> Tensor:
    return _make(np.full(_shape((shape,)), value), dtype, device, requires_grad, name)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(t.device.xp.zeros_like(t.data), device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(t.device.xp.ones_like(t.data), device=t.device, requires_grad=requires_grad)


def arange(*args, dtype=None, device=None) -> Tensor:
    """NumPy's arange; a float range takes the default dtype (float32 unless changed)."""
    values = np.arange(*args, dtype=dtype)
    if dtype is None and values.dtype.kind == "f":
        values = values.astype(config.get_default_dtype())
    return Tensor(values, device=device)


def randn(*shape, generator: np.random.Generator | None = None, seed: int | None = None,
          dtype=None, device=None, requires_grad: bool = False, name=None) -> Tensor:
    """Standard normal values drawn on the host from an explicit generator or seed."""
    rng = generator if generator is not None else np.random.default_rng(seed)
    return _make(rng.standard_normal(_shape(shape)), dtype, get_device(device), requires_grad, name)
