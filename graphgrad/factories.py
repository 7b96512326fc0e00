"""Tensor factories users know from NumPy and PyTorch (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from . import config
from .backend import Device, dtype_name, get_device
from .declare import check_argument, check_dtype
from .errors import ArgumentError, user_site
from ._tensor import Tensor

# a dtype as NumPy spells it: a name ("float32"), a np.dtype or a scalar type (np.float64)
DType = str | np.dtype | type


def _checked(op: str, dtype, requires_grad: bool = False) -> None:
    """`dtype=()` or `requires_grad="no"` is an error naming `op`, not a silent default."""
    check_argument(op, "requires_grad", requires_grad, bool)
    if dtype is not None:
        check_dtype(op, dtype)


def _make(op: str, array: np.ndarray, dtype, device, requires_grad: bool, name) -> Tensor:
    _checked(op, dtype, requires_grad)
    dtype = dtype_name(dtype if dtype is not None else config.get_default_dtype())
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


def zeros(*shape: int | tuple[int, ...], dtype: DType | None = None,
          device: str | Device | None = None, requires_grad: bool = False,
          name: str | None = None) -> Tensor:
    """A tensor of zeros: `gg.zeros(2, 3)` or `gg.zeros((2, 3))` (torch.zeros, np.zeros)."""
    return _make("zeros", np.zeros(_shape(shape, "zeros")), dtype, device, requires_grad, name)


def ones(*shape: int | tuple[int, ...], dtype: DType | None = None,
         device: str | Device | None = None, requires_grad: bool = False,
         name: str | None = None) -> Tensor:
    """A tensor of ones: `gg.ones(2, 3)` or `gg.ones((2, 3))` (torch.ones, np.ones)."""
    return _make("ones", np.ones(_shape(shape, "ones")), dtype, device, requires_grad, name)


def full(shape: int | tuple[int, ...], value: float, dtype: DType | None = None,
         device: str | Device | None = None, requires_grad: bool = False,
         name: str | None = None) -> Tensor:
    """A tensor filled with `value` (torch.full, np.full)."""
    return _make("full", np.full(_shape((shape,), "full"), value), dtype, device, requires_grad,
                 name)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros of `t`'s shape, dtype and device (torch.zeros_like)."""
    _checked("zeros_like", None, requires_grad)
    return Tensor(t.device.xp.zeros_like(t.data), device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones of `t`'s shape, dtype and device (torch.ones_like)."""
    _checked("ones_like", None, requires_grad)
    return Tensor(t.device.xp.ones_like(t.data), device=t.device, requires_grad=requires_grad)


def arange(*args: float, dtype: DType | None = None,
           device: str | Device | None = None) -> Tensor:
    """NumPy's arange; a float range takes the default dtype (float32 unless changed)."""
    _checked("arange", dtype)
    values = np.arange(*args, dtype=dtype)
    if dtype is None and values.dtype.kind == "f":
        values = values.astype(config.get_default_dtype())
    return Tensor(values, device=device)


def randn(*shape: int | tuple[int, ...], generator: np.random.Generator | None = None,
          seed: int | None = None, dtype: DType | None = None,
          device: str | Device | None = None, requires_grad: bool = False,
          name: str | None = None) -> Tensor:
    """Standard normal values (torch.randn), drawn on the host from `generator`, a fresh
    generator seeded by `seed`, or else the default generator (`gg.manual_seed`)."""
    draws = _rng("randn", generator, seed).standard_normal(_shape(shape, "randn"))
    return _make("randn", draws, dtype, get_device(device), requires_grad, name)


def _rng(op: str, generator: np.random.Generator | None, seed: int | None
         ) -> np.random.Generator:
    if generator is not None and seed is not None:
        raise ArgumentError(f"{op}: give a generator or a seed, not both")
    if generator is not None:
        return generator
    return np.random.default_rng(seed) if seed is not None else config.default_generator()


def rand(*shape: int | tuple[int, ...], generator: np.random.Generator | None = None,
         seed: int | None = None, dtype: DType | None = None,
         device: str | Device | None = None, requires_grad: bool = False,
         name: str | None = None) -> Tensor:
    """Uniform values in [0, 1) (torch.rand, np.random.random), drawn as `randn` draws."""
    return _make("rand", _rng("rand", generator, seed).random(_shape(shape, "rand")), dtype,
                 get_device(device), requires_grad, name)


def randint(low: int, high: int | tuple[int, ...] | None = None,
            size: int | tuple[int, ...] | None = None, *,
            generator: np.random.Generator | None = None, seed: int | None = None,
            dtype: DType | None = None, device: str | Device | None = None,
            name: str | None = None) -> Tensor:
    """Integers uniform in [low, high) (torch.randint): `randint(low, high, size)`, or
    `randint(high, size)` as PyTorch; int64 unless `dtype` says otherwise; drawn as `randn`."""
    _checked("randint", dtype)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        size = tuple(high)
        low, high = 0, low
    if size is None or high is None:
        raise ArgumentError(f"randint: expected randint(low, high, size) or randint(high, size), "
                            f"got low={low!r}, high={high!r}, size={size!r}")
    for label, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, (int, np.integer)):
            raise ArgumentError(f"randint: {label} must be an int, got {bound!r}")
    if not low < high:  # type: ignore[operator]
        raise ArgumentError(f"randint: needs low < high, got low={low}, high={high}")
    values = _rng("randint", generator, seed).integers(low, high, _shape((size,), "randint"))
    return Tensor(values.astype(dtype_name(dtype or "int64")), device=get_device(device),
                  name=name)


def eye(n: int, m: int | None = None, *, dtype: DType | None = None,
        device: str | Device | None = None, requires_grad: bool = False,
        name: str | None = None) -> Tensor:
    """The n x m identity matrix (m = n by default): ones on the diagonal (torch.eye, np.eye)."""
    rows, cols = _shape((n, n if m is None else m), "eye")
    return _make("eye", np.eye(rows, cols), dtype, get_device(device), requires_grad, name)


def linspace(start: float, end: float, steps: int, *, dtype: DType | None = None,
             device: str | Device | None = None, requires_grad: bool = False,
             name: str | None = None) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (torch.linspace,
    np.linspace)."""
    for label, bound in (("start", start), ("end", end)):
        if isinstance(bound, bool) or not isinstance(bound, (int, float, np.integer, np.floating)):
            raise ArgumentError(f"linspace: {label} must be a number, got {bound!r}")
    (count,) = _shape((steps,), "linspace")
    return _make("linspace", np.linspace(start, end, count), dtype, get_device(device),
                 requires_grad, name)
