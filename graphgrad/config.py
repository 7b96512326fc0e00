"""Ambient state, all of it: ContextVars behind context managers.

Nothing else in graphgrad keeps global switches, and library code never reads environment
variables. ContextVars make the switches thread- and asyncio-safe.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from contextvars import ContextVar
from typing import NamedTuple


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
_num_threads: ContextVar[int | None] = ContextVar("graphgrad_num_threads", default=None)
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


requested_threads = _num_threads.get  # -> int | None (None: one thread per available core)


def _thread_count(count, caller: str) -> int | None:
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{caller}: expected a positive int (or None for every core), got {count!r}")
    return count


def set_num_threads(count: int | None) -> None:
    """Threads graphgrad's NumPy conv kernels run on (as `torch.set_num_threads`).

    None, the default, means one per core this process may run on. Like every switch here it
    holds for the calling thread (and asyncio task); `gg.get_num_threads()` tells the value.
    """
    _num_threads.set(_thread_count(count, "set_num_threads"))


def num_threads(count: int | None):
    """Context manager form of `set_num_threads`: `with gg.num_threads(1): ...`."""
    return _set(_num_threads, _thread_count(count, "num_threads"))
