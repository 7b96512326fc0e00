"""Ambient state, all of it: process-wide defaults, with ContextVars as scoped overrides.

Nothing else in graphgrad keeps global switches, and library code never reads environment
variables. Grad mode is per thread, as PyTorch's. ContextVars make the other context-manager
overrides thread- and asyncio-safe. The plain
setters (`set_default_dtype`, `set_num_threads`) change a process-wide default instead, as in
PyTorch: some ipykernel versions run each notebook cell in a fresh context and would drop a
setting stored only in a ContextVar.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import NamedTuple

import numpy as np


class Scope(NamedTuple):
    """One frame of a node's scope: an `nn` module call or a composite's gate expansion."""

    kind: str  # "module" or "composite"
    name: str
    uid: int
    label: str = ""  # what kind of unit: the module's class name ("Conv2d"), or the composite


_expand_composites: ContextVar[bool] = ContextVar("graphgrad_expand_composites", default=False)
_scope: ContextVar[tuple[Scope, ...]] = ContextVar("graphgrad_scope", default=())
_UNSET = object()  # a ContextVar holding this defers to the process-wide default
_default_dtype: ContextVar = ContextVar("graphgrad_default_dtype", default=_UNSET)
_num_threads: ContextVar = ContextVar("graphgrad_num_threads", default=_UNSET)
_process_defaults: dict[str, object] = {"dtype": "float32", "threads": None}
_scope_ids = itertools.count(1)



class _ThreadState(threading.local):
    """Grad mode is per thread, as PyTorch's: a notebook runs every cell in the same thread, so
    `gg.set_grad_enabled(False)` on its own line holds for the next cell too (a ContextVar set
    inside one cell's asyncio task would be dropped by some ipykernel versions), and a thread
    that graphgrad.compiler traces in starts with gradients on."""

    grad_enabled = True


_thread = _ThreadState()
# the per-node hot path reads it through a C-level partial: no Python frame
is_grad_enabled: Callable[[], bool] = functools.partial(getattr, _thread, "grad_enabled")


def set_grad_enabled_token(enabled: bool) -> bool:
    """Fast form for the backward sweep: set the mode, return the previous one to reset with."""
    previous = _thread.grad_enabled
    _thread.grad_enabled = enabled
    return previous


def reset_grad_enabled(previous: bool) -> None:
    _thread.grad_enabled = previous


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous = set_grad_enabled_token(enabled)
    try:
        yield
    finally:
        _thread.grad_enabled = previous
is_expanding_composites = _expand_composites.get
current_scope = _scope.get


@contextlib.contextmanager
def _set(var: ContextVar, value) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Run operations without recording the graph (inference, optimizer updates)."""
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Record the graph again inside a `no_grad()` block."""
    return _grad_mode(True)


class set_grad_enabled:
    """Turn graph recording on or off, as a call or as a context manager (as in PyTorch).

    `gg.set_grad_enabled(False)` on its own line takes effect at once for the calling thread
    (and stays, across notebook cells); `with gg.set_grad_enabled(False): ...` restores the
    previous mode on exit.
    """

    def __init__(self, enabled: bool) -> None:
        if not (enabled is True or enabled is False):
            raise TypeError(f"set_grad_enabled: expected True or False, got {enabled!r}")
        self._previous = set_grad_enabled_token(enabled)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        _thread.grad_enabled = self._previous


def expand_composites(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Make composites (sigmoid, conv2d, ...) build their primitive-gate subgraph.

    Use it to draw a composite gate by gate for a lecture, or to check a fused path against its
    expansion. Off by default: fused nodes are much faster.
    """
    return _set(_expand_composites, bool(enabled))


@contextlib.contextmanager
def name_scope(name: str, kind: str = "module", label: str = "") -> Iterator[Scope]:
    """Tag every node created inside with `Scope(kind, name, uid, label)`; the visualizer groups
    by it."""
    frame = Scope(kind, str(name), next(_scope_ids), str(label))
    token = _scope.set(_scope.get() + (frame,))
    try:
        yield frame
    finally:
        _scope.reset(token)


def _current(var: ContextVar, key: str):
    """The innermost context-manager override, else the process-wide default."""
    value = var.get()
    return _process_defaults[key] if value is _UNSET else value


def _set_default(var: ContextVar, key: str, value) -> None:
    """Change the process-wide default; inside an override block, that block sees it at once too
    (and the override's own value returns when the block exits)."""
    _process_defaults[key] = value
    if var.get() is not _UNSET:
        var.set(value)


def _dtype_name(dtype, caller: str) -> str:
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"{caller}: expected 'float32' or 'float64', got {dtype!r}")
    return str(dtype)


def get_default_dtype() -> str:
    """The dtype of tensors made from Python floats: "float32" or "float64"."""
    return _current(_default_dtype, "dtype")


def set_default_dtype(dtype: str) -> None:
    """Dtype of tensors made from Python floats (float32 by default, as in PyTorch and JAX).

    Process-wide, so it survives notebook cells; `with gg.default_dtype(...)` overrides it locally.
    """
    _set_default(_default_dtype, "dtype", _dtype_name(dtype, "set_default_dtype"))


def default_dtype(dtype: str) -> contextlib.AbstractContextManager[None]:
    """Context manager form of `set_default_dtype`: an override for the block only."""
    return _set(_default_dtype, _dtype_name(dtype, "default_dtype"))


def requested_threads() -> int | None:
    """Threads asked for by `set_num_threads` / `num_threads` (None: one per available core)."""
    return _current(_num_threads, "threads")


def _thread_count(count, caller: str) -> int | None:
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{caller}: expected a positive int (or None for every core), "
                         f"got {count!r}")
    return count


def set_num_threads(count: int | None) -> None:
    """Threads graphgrad's NumPy conv kernels run on (as `torch.set_num_threads`).

    None, the default, means one per core this process may run on. Process-wide, as PyTorch's;
    `with gg.num_threads(n)` overrides it locally; `gg.get_num_threads()` tells the value.
    """
    _set_default(_num_threads, "threads", _thread_count(count, "set_num_threads"))


def num_threads(count: int | None) -> contextlib.AbstractContextManager[None]:
    """Context manager form of `set_num_threads`: `with gg.num_threads(1): ...` (block only)."""
    return _set(_num_threads, _thread_count(count, "num_threads"))


# the default random generator: what randn, rand, randint (and nn.init, dropout) draw from when
# given no generator and no seed; fresh entropy until `manual_seed` seeds it
_default_generator: list[np.random.Generator] = [np.random.default_rng()]


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the process-wide default generator (torch.manual_seed) and return it.

    Why: `gg.manual_seed(0)` at the top of a script makes every draw that was not given its own
    generator or seed (factories, weight init, dropout masks) repeat from run to run.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be an int >= 0, got {seed!r}")
    _default_generator[0] = np.random.default_rng(int(seed))
    return _default_generator[0]


def default_generator() -> np.random.Generator:
    """The process-wide generator draws use when given no generator or seed (see manual_seed)."""
    return _default_generator[0]
