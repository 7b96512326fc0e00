"""`with gg.detect_anomaly():` stop at the first node that makes a NaN or an inf (PyTorch's name).

Today a NaN shows up in the loss, many nodes after the one that made it. Under this mode every
node checks its result as it is made: the first one whose finite inputs give a NaN or an inf
raises `AnomalyError` naming the op, the input shapes, a few offending values and the user's line
that created the node. In backward, every node checks what its VJP sends back: the first one
that turns a finite upstream gradient into a NaN or an inf (sqrt at 0: 0.5 / sqrt(0) = inf) is
named the same way, with the line that created the node in the forward pass.

A NaN that comes in is not a new anomaly (NaN in, NaN out): only the node that made it is named;
in backward, a node whose upstream gradient or forward values hold one is not blamed either.
Off, the engine pays one global lookup per node and one per backward sweep. The mode is
process-wide, as PyTorch's; the backward sweep suspends the forward checks in its own thread
only, so the gates of a VJP are judged as the VJP they belong to.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _primitive, autodiff
from .backend import is_floating, to_numpy
from .errors import AnomalyError, ArgumentError, format_site, user_site

_SHOWN = 3  # offending elements shown in a message


class _Checker:
    """The hook `apply` and `sweep` call while the mode is on (see `_primitive._anomaly`)."""

    def __init__(self) -> None:
        self._local = threading.local()

    # ----- backward suspends the forward checks of its own VJP gates ---------------------------
    def enter_backward(self) -> int:
        depth = getattr(self._local, "backward", 0)
        self._local.backward = depth + 1
        return depth

    def exit_backward(self, depth: int) -> None:
        self._local.backward = depth

    # ----- the checks ---------------------------------------------------------------------------
    def forward(self, op, args: tuple, params, data) -> None:
        if getattr(self._local, "backward", 0) or _finite(data, args[0].device.xp):
            return
        for t in args:
            if not _finite(t.data, t.device.xp):
                return  # NaN in, NaN out: the node that made it was named already (or is a leaf)
        shapes = ", ".join(str(tuple(t.shape)) for t in args)
        settings = f" with {dict(params)}" if params else ""
        raise AnomalyError(
            f"detect_anomaly: {op.name}{settings} produced {_kinds(data)} from finite inputs at "
            f"{user_site(1)} (input shapes {shapes}); "
            f"{_offending(data, 'output', [(f'input {i}', t.data) for i, t in enumerate(args)])}")

    def backward(self, node, g, input_grads: Sequence) -> None:
        xp = node.device.xp
        for slot, (parent, parent_grad) in enumerate(zip(node.inputs, input_grads)):
            if parent_grad is None or not parent.requires_grad or _finite(parent_grad.data, xp):
                continue
            if not _finite(g.data, xp) or not _finite(node.data, xp) or \
                    not all(_finite(t.data, t.device.xp) for t in node.inputs):
                return  # a NaN or inf that came in (upstream, or in the forward values): not new
            name = f" {node.name!r}" if node.name else ""
            name += f" with {dict(node.params)}" if node.params else ""
            known = [("upstream gradient", g.data), *((f"input {i}", t.data)
                                                      for i, t in enumerate(node.inputs)),
                     ("forward output", node.data)]
            raise AnomalyError(
                f"detect_anomaly: the backward of {node.op.name}{name} (the node created at "
                f"{format_site(node._site)}) produced {_kinds(parent_grad.data)} in the gradient "
                f"of its input {slot} (shape {tuple(parent.shape)}) from a finite upstream "
                f"gradient of shape {tuple(g.shape)}; "
                f"{_offending(parent_grad.data, 'gradient', known)}")


_CHECKER = _Checker()
_mode = [False, True]  # [enabled, check_nan], process-wide as PyTorch's


def _finite(data, xp) -> bool:
    if xp is np:
        if data.dtype.kind != "f":
            return True
        if isinstance(data, np.generic):  # a scalar node: no array, no reduction
            return math.isfinite(data)
        return bool(np.isfinite(data).all())
    return not is_floating(xp, data.dtype) or bool(xp.all(xp.isfinite(data)))


def _kinds(data) -> str:
    """'nan (2 of 6 elements)', 'inf and nan (...)': what the bad elements are."""
    array = np.asarray(to_numpy(data))
    nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    names = [n for n, count in (("-inf", int(np.isneginf(array).sum())),
                                ("inf", int(np.isposinf(array).sum())), ("nan", nan)) if count]
    return f"{' and '.join(names)} ({nan + inf} of {array.size} elements)"


def _offending(data, label: str, known: list[tuple[str, Any]]) -> str:
    """'output[0] = -inf where input 0 = 0.0; ...' for the first few bad elements. A known array
    that broadcasts to the result's shape is shown at the same index, any other by its values."""
    array = np.asarray(to_numpy(data))
    shape = array.shape
    lined = []
    for what, values in known:
        values = np.asarray(to_numpy(values))
        try:
            lined.append((what, np.broadcast_to(values, shape), True))
        except ValueError:
            lined.append((what, values, False))
    parts = []
    for index in list(zip(*np.nonzero(~np.isfinite(array))))[:_SHOWN]:
        index = tuple(int(i) for i in index)
        at = ", ".join(f"{what} = {values[index].item()!r}" for what, values, same in lined if same)
        where = f"[{', '.join(map(str, index))}]" if index else ""
        parts.append(f"{label}{where} = {array[index].item()!r}" + (f" where {at}" if at else ""))
    others = "; ".join(f"{what} (shape {values.shape}) = {_few(values)}"
                       for what, values, same in lined if not same)
    return "first offending elements: " + "; ".join(parts) + (f"; {others}" if others else "")


def _few(values: np.ndarray) -> str:
    flat = values.reshape(-1)
    text = ", ".join(repr(v) for v in flat[:2 * _SHOWN].tolist())
    return f"[{text}{', ...' if flat.size > 2 * _SHOWN else ''}]"


def _set_mode(enabled: bool, check_nan: bool) -> None:
    _mode[:] = [enabled, check_nan]
    _primitive._anomaly = autodiff._anomaly = _CHECKER if enabled and check_nan else None


def _check_flag(op: str, name: str, value) -> bool:
    if value is not True and value is not False and not isinstance(value, np.bool_):
        raise ArgumentError(f"{op}: {name} must be a bool (True or False), got "
                            f"{value!r} ({type(value).__name__})")
    return bool(value)


class detect_anomaly(contextlib.ContextDecorator):
    """`with gg.detect_anomaly():` raise AnomalyError at the first NaN or inf made from finite
    values, forward or backward, naming the op, the values and the user's line (torch's name).
    Also a decorator. On exit the previous mode returns. `check_nan=False`: the mode is on
    without the NaN/inf checks (in PyTorch it then only records forward tracebacks, which
    graphgrad keeps on every node anyway)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = _check_flag("detect_anomaly", "check_nan", check_nan)
        self._previous: list[tuple[bool, bool]] = []

    def __enter__(self) -> detect_anomaly:
        self._previous.append((_mode[0], _mode[1]))
        _set_mode(True, self.check_nan)
        return self

    def __exit__(self, *exc) -> None:
        _set_mode(*self._previous.pop())


class set_detect_anomaly:
    """Turn anomaly detection on or off (`torch.autograd.set_detect_anomaly`): takes effect when
    called; used as a context manager it restores the previous mode on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (_mode[0], _mode[1])
        _set_mode(_check_flag("set_detect_anomaly", "mode", mode),
                  _check_flag("set_detect_anomaly", "check_nan", check_nan))

    def __enter__(self) -> set_detect_anomaly:
        return self

    def __exit__(self, *exc) -> None:
        _set_mode(*self._previous)


def is_anomaly_enabled() -> bool:
    """Whether `detect_anomaly` / `set_detect_anomaly(True)` is in force (torch's name)."""
    return _mode[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether the mode in force checks for NaN and inf (torch's name)."""
    return _mode[0] and _mode[1]


__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_check_nan_enabled",
           "is_anomaly_enabled", "set_detect_anomaly"]
