"""Ambient state, all of it: ContextVars behind context managers.

Nothing else in graphgrad keeps global switches, and library code never reads environment
variables. ContextVars make the switches thread- and asyncio-safe.
"""

from __future__ import annotations

import contextlib
import itertools
from contextvars import ContextVar
from typing import Iterator, NamedTuple


class Scope(NamedTuple):
    """One frame of a node's scope: an `nn` module call or a composite's gate expansion."""

    kind: str  # "module" or "composite"
    name: str
    uid: int
    label: str = ""  # what kind of unit: the module's class name ("Conv2d"), or the composite


_grad_enabled: ContextVar[bool] = ContextVar("graphgrad_grad_enabled", default=True)
_expand_composites: ContextVar[bool] = ContextVar("graphgrad_expand_composites", default=False)
_scope: ContextVar[tuple[Scope, ...]] = ContextVar("graphgrad_scope", default=())
_default_dtype: ContextVar[str] = ContextVar("graphgrad_default_dtype", default="float32")
_scope_ids = itertools.count(1)

is_grad_enabled = _grad_enabled.get
set_grad_enabled_token = _grad_enabled.set  # fast form for the backward sweep: returns a token
reset_grad_enabled = _grad_enabled.reset
is_expanding_composites = _expand_composites.get
current_scope = _scope.get


@contextlib.contextmanager
def _set(var: ContextVar, value) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def no_grad():
    """Run operations without recording the graph (inference, optimizer updates)."""
    return _set(_grad_enabled, False)


def enable_grad():
    """Record the graph again inside a `no_grad()` block."""
    return _set(_grad_enabled, True)


def set_grad_enabled(enabled: bool):
    return _set(_grad_enabled, bool(enabled))


def expand_composites(enabled: bool = True):
    """Make composites (sigmoid, conv2d, ...) build their primitive-gate subgraph.

    Use it to draw a composite gate by gate for a lecture, or to check a fused path against its
    expansion. Off by default: fused nodes are much faster.
    """
    return _set(_expand_composites, bool(enabled))


@contextlib.contextmanager
def name_scope(name: str, kind: str = "module", label: str = "") -> Iterator[Scope]:
    """Tag every node created inside with `Scope(kind, name, uid, label)`; the visualizer groups by it."""
    frame = Scope(kind, str(name), next(_scope_ids), str(label))
    token = _scope.set(_scope.get() + (frame,))
    try:
        yield frame
    finally:
        _scope.reset(token)


get_default_dtype = _default_dtype.get  # -> str: "float32" or "float64"


def set_default_dtype(dtype: str) -> None:
    """Dtype of tensors made from Python floats (float32 by default, as in PyTorch and JAX)."""
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"set_default_dtype: expected 'float32' or 'float64', got {dtype!r}")
    _default_dtype.set(str(dtype))


def default_dtype(dtype: str):
    """Context manager form of `set_default_dtype`."""
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"default_dtype: expected 'float32' or 'float64', got {dtype!r}")
    return _set(_default_dtype, str(dtype))
