"""The few engine entry points the visualizer uses, in one place (the engine contract of
docs/design.md). Everything here only reads Tensors or builds fresh, detached ones."""

from __future__ import annotations

import contextlib

import numpy as np


def is_tensor(obj: object) -> bool:
    from graphgrad.tensor import Tensor

    return isinstance(obj, Tensor)


def to_numpy(array) -> np.ndarray:
    """A private, read-only NumPy copy of a backend array (or of a Tensor's data)."""
    if is_tensor(array):
        array = array.data
    try:
        from graphgrad.backend import to_numpy as backend_to_numpy

        out = np.array(backend_to_numpy(array), copy=True)
    except (ImportError, TypeError, AttributeError):
        out = np.array(array, copy=True)
    out.setflags(write=False)
    return out


def fresh(array: np.ndarray, requires_grad: bool = False):
    """A new leaf Tensor holding a copy of `array`: the tracer computes on these, never on the
    user's tensors."""
    import graphgrad as gg

    array = np.array(array, copy=True)
    return gg.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")


def no_grad():
    from graphgrad.config import no_grad as engine_no_grad

    return engine_no_grad()


def building_expansion():
    """Composites build their gate expansion, with graph recording on (we walk the result)."""
    from graphgrad import config

    stack = contextlib.ExitStack()
    stack.enter_context(config.expand_composites())
    if hasattr(config, "enable_grad"):
        stack.enter_context(config.enable_grad())
    return stack


def call_vjp(op, g: np.ndarray, out: np.ndarray, inputs: list[np.ndarray], params: dict,
             requires_grad: list[bool] | None = None):
    """Run `op.vjp` on fresh copies, without recording; NumPy cotangents (None: no gradient).

    The copies carry the originals' `requires_grad` flags (some rules, like pow's exponent, look
    at them)."""
    flags = requires_grad or [False] * len(inputs)
    with no_grad():
        copies = [fresh(x, flag) for x, flag in zip(inputs, flags)]
        result = op.vjp(fresh(g), fresh(out), *copies, **params)
    cotangents = []
    for item in result:
        if item is None:
            cotangents.append(None)
        else:
            cotangents.append(np.asarray(to_numpy(item), dtype=np.result_type(g.dtype, np.float32)))
    return cotangents


def call_forward(op, inputs: list[np.ndarray], params: dict) -> np.ndarray:
    from graphgrad.backend import get_device

    xp = get_device("cpu").xp
    return np.asarray(op.forward(xp, *[xp.asarray(x) for x in inputs], **params))


def sum_to(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Reduce a broadcast cotangent to `shape` (what the engine does after every VJP)."""
    array = np.asarray(array)
    if array.shape == tuple(shape):
        return array
    extra = array.ndim - len(shape)
    if extra > 0:
        array = array.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i] != 1)
    if axes:
        array = array.sum(axis=axes, keepdims=True)
    return np.broadcast_to(array, shape) if array.shape != tuple(shape) else array
