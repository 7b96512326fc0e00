"""Primitive declaration, the registry, and application (the per-node hot path).

A primitive pairs a forward on arrays with a vector-Jacobian product written with graph ops:
the forward runs on the inputs' array namespace; the VJP builds Tensors, so a gradient is itself a
graph (double backward, gradient diagrams). The engine reduces every cotangent to its input's shape,
so no rule unbroadcasts by hand.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from . import config
from .backend import CPU, get_device, is_floating, resolve_dtype
from .errors import (DeviceError, DtypeError, GraphgradError, ShapeError, creation_site, describe,
                     user_site)
from . import tensor as _tensor_module
from .tensor import Tensor

PRIMITIVES: dict[str, "Primitive"] = {}
_grad_enabled = config.is_grad_enabled
_current_scope = config.current_scope


class Primitive:
    """An operation of the graph: name, diagram symbol, forward on arrays, VJP on Tensors."""

    __slots__ = ("name", "symbol", "forward", "vjp", "nondiff", "composite", "doc", "mixed_dtypes")

    def __init__(self, name: str, symbol: str, forward: Callable, vjp: Callable | None,
                 nondiff: Sequence[int] = (), mixed_dtypes: bool = False, doc: str = ""):
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.vjp = vjp
        self.nondiff = frozenset(nondiff)
        self.composite = None  # set by composite(): the Composite this fused node stands for
        self.mixed_dtypes = mixed_dtypes
        self.doc = doc

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args, **params) -> Tensor:
        return apply(self, args, params)


def primitive(name: str, *, symbol: str | None = None, forward: Callable,
              vjp: Callable | None, nondiff: Sequence[int] = (), mixed_dtypes: bool = False,
              register: bool = True, doc: str = "") -> Primitive:
    """Declare (and register) a primitive gate. `vjp=None`: the output never carries gradient."""
    op = Primitive(name, symbol or name, forward, vjp, nondiff, mixed_dtypes, doc)
    if register:
        if name in PRIMITIVES:
            raise GraphgradError(f"primitive {name!r} is declared twice")
        PRIMITIVES[name] = op
    return op


def constant_like(value, reference: Tensor) -> Tensor:
    """A Python number or array as a constant Tensor on `reference`'s device.

    Numbers (Python's, and NumPy scalars such as `np.float64(2.0)`) take the reference's dtype,
    as in PyTorch and JAX: `x32 * 2.0` stays float32. Arrays keep their own dtype.
    """
    device = reference.device
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # a NumPy scalar is a number, not an array with a dtype to keep
    if isinstance(value, (bool, int, float)):
        dtype = reference.data.dtype
        if device is CPU:
            if isinstance(value, float) and dtype.kind != "f":
                dtype = np.dtype(config.get_default_dtype())
            return Tensor._leaf(dtype.type(value), device)  # a NumPy scalar: the cheapest 0-d value
        xp = device.xp
        if isinstance(value, float) and not is_floating(xp, dtype):
            dtype = resolve_dtype(xp, config.get_default_dtype())
        return Tensor._leaf(device.asarray(value, dtype=dtype), device)
    return Tensor._leaf(device.asarray(value), device)


def _with_constants(op: Primitive, args: tuple) -> tuple:
    """Wrap Python numbers and arrays as constants shaped by the first differentiable Tensor."""
    reference = None
    for index, arg in enumerate(args):
        if isinstance(arg, Tensor) and (reference is None or index not in op.nondiff):
            reference = arg
            if index not in op.nondiff:
                break
    if reference is None:
        raise TypeError(f"{op.name}: expected at least one Tensor argument, got {args!r}")
    return tuple(_as_input(op, index, arg, reference) for index, arg in enumerate(args))


def _as_input(op: Primitive, index: int, arg, reference: Tensor) -> Tensor:
    if isinstance(arg, Tensor):
        return arg
    if isinstance(arg, bool) and index in op.nondiff:  # a condition (where's mask) stays boolean
        return Tensor._leaf(reference.device.asarray(arg), reference.device)
    return constant_like(arg, reference)


def apply(op: Primitive, args: tuple, params: dict) -> Tensor:
    """Run `op` forward and, when gradients are being recorded, link the result into the graph.

    This is the per-node hot path: keep it lean. Python numbers among the arguments become
    constants with the dtype of the first differentiable Tensor argument.
    """
    for arg in args:
        if not isinstance(arg, Tensor):
            args = _with_constants(op, args)
            break
    first = args[0]
    device = first.device
    if len(args) == 1:
        arrays = (first.data,)
    else:
        dtype = first.data.dtype
        for t in args:
            if t.device is not device or (t.data.dtype is not dtype and t.data.dtype != dtype):
                _check_compatible(op, args, device)
                break
        arrays = [t.data for t in args]
    try:
        data = op.forward(device.xp, *arrays, **params)
    except GraphgradError:
        raise
    except (ValueError, IndexError, TypeError) as error:
        raise ShapeError(
            f"{op.name}: cannot apply to {describe(args)} with {params or 'no parameters'} "
            f"(at {user_site()}): {error}"
        ) from error
    out = Tensor._leaf(data, device)
    if op.vjp is not None and _grad_enabled():
        nondiff = op.nondiff
        for index, t in enumerate(args):
            if t.requires_grad and (not nondiff or index not in nondiff):
                out.op = op
                out.inputs = args
                out.params = params
                out.requires_grad = True
                out.scope = _current_scope()
                out._site = creation_site()
                break
    return out


_tensor_module._apply = apply  # Tensor's operators call it directly


def _check_compatible(op: Primitive, inputs: tuple, device) -> None:
    for t in inputs:
        if t.device is not device:
            devices = " and ".join(str(u.device) for u in inputs)
            raise DeviceError(
                f"{op.name}: inputs live on different devices ({devices}) (at {user_site(3)}); "
                f"move them with .to(device) first"
            )
    if op.mixed_dtypes:
        return
    dtype = None
    for index, t in enumerate(inputs):
        if index in op.nondiff:
            continue
        if dtype is None:
            dtype = t.data.dtype
        elif t.data.dtype != dtype:
            raise DtypeError(
                f"{op.name}: inputs have different dtypes ({describe(inputs)}) "
                f"(at {user_site(3)}); convert one with .astype(...) so both match"
            )


__all__ = ["PRIMITIVES", "Primitive", "primitive", "apply", "constant_like", "CPU", "get_device"]
