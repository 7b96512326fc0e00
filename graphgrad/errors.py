"""Error classes and the helpers that make their messages name op, shapes, dtypes and site."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from types import FrameType
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class GraphgradError(Exception):
    """Base class of graphgrad's own errors."""


class ShapeError(GraphgradError, ValueError):
    """Shapes that an operation cannot combine."""


class ArgumentError(GraphgradError, TypeError):
    """An argument of the wrong kind for an op: None or a string where a Tensor or a number
    belongs, a float where an int does (no silent truncation), a truthy value for a flag."""


class ConfigError(GraphgradError, ValueError):
    """A layer or model built with values it cannot use (`nn.Conv2d(1, 2, 0)`): raised at
    construction, the message ends with the user's line that made the call."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} (at {user_site(2)})")


class DtypeError(GraphgradError, TypeError):
    """Dtypes mixed in one operation, or a dtype an operation does not support."""


class DeviceError(GraphgradError, RuntimeError):
    """Tensors on different devices in one operation, or an unknown device."""


class GraphFreedError(GraphgradError, RuntimeError):
    """A second backward through a graph whose links were freed by the first."""


class BackwardError(GraphgradError, RuntimeError):
    """backward() called in a way that has no meaning (non-scalar root without a gradient...)."""


class InPlaceError(GraphgradError, RuntimeError):
    """An in-place update (`w -= lr * w.grad`, `w.zero_()`) where it would change what the graph
    computed: on a node of the graph, or on a leaf that requires grad while grad mode is on."""


class AnomalyError(GraphgradError, RuntimeError):
    """Under `detect_anomaly()`: a node (forward) or a node's VJP (backward) made a NaN or an inf
    from finite values; the message names the op, the shapes, the values and the user's line."""


class RetraceWarning(UserWarning):
    """A compiled function traced again and again because a number it is called with keeps
    changing (numbers are part of its signature); torch.compile's recompile warning."""


def creation_site(skip: int = 2) -> tuple[str, int]:
    """(file, line) of the first caller outside graphgrad: recorded on every node, so it is kept
    raw (no string formatting) and formatted only when an error or a diagram shows it."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return ("<graphgrad>", 0)
    return (frame.f_code.co_filename, frame.f_lineno)


def format_site(site: tuple[str, int] | None) -> str | None:
    """'file.py:123', the file relative to the working folder when it lies inside it: messages
    and drawings (SVG tooltips) then read the same on every machine."""
    if site is None:
        return None
    return _format_site(site)


def _format_site(site: tuple[str, int]) -> str:
    path = site[0]
    if os.path.isabs(path):
        here = os.getcwd()
        if path.startswith(here + os.sep):
            path = os.path.relpath(path, here)
    return f"{path}:{site[1]}"


def user_site(skip: int = 2) -> str:
    """'file.py:123' of the first caller outside the graphgrad package (for error messages)."""
    return _format_site(creation_site(skip + 1))


def describe(tensors: Iterable[Any]) -> str:
    """'shapes (2, 3) and (4,), dtypes float32 and float32' for an error message."""
    shapes = " and ".join(str(tuple(t.shape)) for t in tensors)
    dtypes = " and ".join(str(t.dtype) for t in tensors)
    return f"shapes {shapes}, dtypes {dtypes}"
