"""Primitive declaration, the registry, and application (the per-node hot path).

A primitive pairs a forward on arrays with a vector-Jacobian product written with graph ops:
the forward runs on the inputs' array namespace; the VJP builds Tensors, so a gradient is itself a
graph (double backward, gradient diagrams). The engine reduces every cotangent to its input's shape,
so no rule unbroadcasts by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import config
from .backend import CPU, get_device, is_floating, resolve_dtype
from .errors import (ArgumentError, DeviceError, DtypeError, GraphgradError, ShapeError,
                     creation_site, describe, user_site)
from . import _tensor as _tensor_module
from ._tensor import ONE as _ONE, Tensor

PRIMITIVES: dict[str, Primitive] = {}
_grad_enabled = config.is_grad_enabled
_current_scope = config.current_scope
_expanding = config.is_expanding_composites


class Primitive:
    """An operation of the graph: name, diagram symbol, forward on arrays, VJP on Tensors."""

    __slots__ = ("name", "symbol", "forward", "vjp", "nondiff", "composite", "doc", "mixed_dtypes",
                 "floating_only")

    def __init__(self, name: str, symbol: str, forward: Callable, vjp: Callable | None,
                 nondiff: Sequence[int] = (), mixed_dtypes: bool = False, doc: str = "",
                 floating_only: bool = False) -> None:
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.vjp = vjp
        self.nondiff = frozenset(nondiff)
        self.composite: Any = None  # set by composite(): the Composite this fused node stands for
        self.mixed_dtypes = mixed_dtypes
        self.floating_only = floating_only
        self.doc = doc

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Tensor:
        return apply(self, args, params)


def primitive(name: str, *, symbol: str | None = None, forward: Callable,
              vjp: Callable | None, nondiff: Sequence[int] = (), mixed_dtypes: bool = False,
              floating_only: bool = False, register: bool = True, doc: str = "") -> Primitive:
    """Declare (and register) a primitive gate. `vjp=None`: the output never carries gradient.

    `floating_only`: a one-input gate whose result is not an integer (exp, log, 1/x, ...). NumPy
    would turn an integer input into float64; graphgrad never promotes silently, so it is an
    error that says to convert the input.
    """
    op = Primitive(name, symbol or name, forward, vjp, nondiff, mixed_dtypes, doc, floating_only)
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
    if (type(value) is float or type(value) is int) and device is CPU:  # the common case, first
        dtype = reference.data.dtype
        one = _ONE.get(dtype)
        if one is not None:  # float32 or float64: one * value is dtype.type(value), sooner
            return _new_node(one * value, CPU)
        if dtype.kind == "f":
            return _new_node(dtype.type(value), CPU)
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
    try:
        if len(args) == 2 and not op.nondiff:  # `x + 1`, `2.0 * w`: the common case, first
            x, y = args
            if isinstance(x, Tensor):
                return x, constant_like(y, x)
            if isinstance(y, Tensor):
                return constant_like(x, y), y
        reference = None
        for index, arg in enumerate(args):
            if isinstance(arg, Tensor) and (reference is None or index not in op.nondiff):
                reference = arg
                if index not in op.nondiff:
                    break
        if reference is None:
            raise ArgumentError(f"{op.name}: expected at least one Tensor argument, "
                                f"got {args!r}")
        return tuple(_as_input(op, index, arg, reference) for index, arg in enumerate(args))
    except OverflowError as error:  # `x + 2**63` on int64: no silent wrap-around, name the op
        numbers = [arg for arg in args if isinstance(arg, int) and not isinstance(arg, bool)]
        raise ArgumentError(f"{op.name}: the number {numbers[0] if numbers else '?'} does not fit "
                            f"the dtype of the other input ({error}); pass a Tensor of a wider "
                            f"dtype or a smaller number") from None


def _as_input(op: Primitive, index: int, arg, reference: Tensor) -> Tensor:
    if isinstance(arg, Tensor):
        return arg
    if isinstance(arg, bool) and index in op.nondiff:  # a condition (where's mask) stays boolean
        return Tensor._leaf(reference.device.asarray(arg), reference.device)
    return constant_like(arg, reference)


def apply(op: Primitive, args: tuple, params) -> Tensor:
    """Run `op` forward and, when gradients are being recorded, link the result into the graph.

    This is the per-node hot path (every gate, forward and in every VJP): keep it lean. Python
    numbers among the arguments become constants with the dtype of the first differentiable
    Tensor argument. The common arities are spelled out: no argument lists are built for them.
    """
    for arg in args:
        if not isinstance(arg, Tensor):
            args = _with_constants(op, args)
            break
    first = args[0]
    device = first.device
    try:
        if len(args) == 2:
            x, y = first.data, args[1].data
            if args[1].device is not device or (y.dtype is not x.dtype and y.dtype != x.dtype):
                _check_compatible(op, args, device)
            data = op.forward(device.xp, x, y, **params) if params else \
                op.forward(device.xp, x, y)
        elif len(args) == 1:
            if op.floating_only:
                dtype = first.data.dtype
                if not (device is CPU and dtype.kind == "f") and not is_floating(device.xp, dtype):
                    _raise_not_floating(op, first)
            data = op.forward(device.xp, first.data, **params) if params else \
                op.forward(device.xp, first.data)
        else:
            for t in args:
                if t.device is not device or t.data.dtype != first.data.dtype:
                    _check_compatible(op, args, device)
                    break
            data = op.forward(device.xp, *[t.data for t in args], **params)
    except GraphgradError:
        raise
    except (ValueError, IndexError, TypeError) as error:
        _check_data_is_an_array(op, args)
        raise ShapeError(
            f"{op.name}: cannot apply to {describe(args)} with {dict(params) or 'no parameters'} "
            f"(at {user_site()}): {error}"
        ) from error
    if data.__class__ is Tensor:
        _check_data_is_an_array(op, args)
    if _anomaly is not None:  # gg.detect_anomaly(): off, this one global lookup is all it costs
        _anomaly.forward(op, args, params, data)
    out = _new_node(data, device)
    if not _grad_enabled():
        return out if _tracer is None else _tracer.record(out, op, args, params)
    if op.vjp is None:
        return _unrecorded(out, op, args, params)
    if op.nondiff:
        if not _any_differentiable_requires_grad(args, op.nondiff):
            return _unrecorded(out, op, args, params)
    else:
        for t in args:
            if t.requires_grad:
                break
        else:
            return _unrecorded(out, op, args, params)
    out.op = op
    out.inputs = args
    out.params = params
    out.requires_grad = True
    out.scope = _current_scope()
    # apply is called only by Primitive.__call__ and Tensor's operators: the frame three up is
    # their caller (a site inside graphgrad walks on to the user's code)
    out._site = creation_site(3)
    return out if _tracer is None else _tracer.record(out, op, args, params)


def _unrecorded(out: Tensor, op: Primitive, args: tuple, params) -> Tensor:
    """The result of a gate that carries no gradient: linked only for drawing or tracing."""
    if _expanding():
        _link_for_drawing(out, op, args, params)
    return out if _tracer is None else _tracer.record(out, op, args, params)


def _link_for_drawing(out: Tensor, op: Primitive, args: tuple, params) -> Tensor:
    """Under `expand_composites()` a gate that carries no gradient (`-target` inside a loss,
    the padding of an image inside conv) is still linked to its inputs, so the drawing shows
    the user's named inputs instead of an anonymous constant. It stays `requires_grad=False`:
    the backward sweep never enters it."""
    out.op = op
    out.inputs = args
    out.params = params
    out.scope = _current_scope()
    out._site = creation_site(5)
    return out


def _any_differentiable_requires_grad(args: tuple, nondiff: frozenset) -> bool:
    for index, t in enumerate(args):
        if t.requires_grad and index not in nondiff:
            return True
    return False


_new_node = Tensor._leaf
_tensor_module._apply = apply  # Tensor's operators call it directly
# While graphgrad.compiler traces (in any thread) its tracer is set here: `record(out, op, args,
# params)` links every result into the trace, also where no gradient is needed. The core does not
# import the compile package; the hot path pays one global lookup when nothing is traced.
_tracer = None
# While gg.detect_anomaly() is on, graphgrad.anomaly sets its checker here: `forward(op, args,
# params, data)` raises AnomalyError at the first node whose finite inputs give a NaN or an inf.
_anomaly: Any = None


def _check_data_is_an_array(op: Primitive, args: tuple) -> None:
    """`.data` is the raw array; a Tensor put there (`p.data += -lr * p.grad` on a scalar, where
    p.grad is a Tensor as in PyTorch) would nest graphs inside values: refused at the next use."""
    for t in args:
        if isinstance(t.data, Tensor):
            raise ArgumentError(
                f"{op.name}: an input's .data holds a Tensor, not an array "
                f"({t.name or 'a leaf'} of shape {t.data.shape}); it was assigned one, e.g. by "
                f"`p.data += -lr * p.grad` "
                f"(p.grad is a Tensor, as in PyTorch). Write `p.data += -lr * p.grad.data`, or "
                f"`with gg.no_grad(): p -= lr * p.grad`, or use gg.optim.SGD (at {user_site(4)})")


def _raise_not_floating(op: Primitive, x: Tensor) -> None:
    raise DtypeError(
        f"{op.name}: the input is {x.dtype}, shape {x.shape} (at {user_site(3)}); "
        f"{op.name} has no integer result and graphgrad never promotes silently: convert the "
        f"input first, e.g. x.astype('float32')"
    )


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
