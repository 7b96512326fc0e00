"""Tracing: run the user's function once on stand-in leaves and keep the graph it builds.

While a trace runs, every primitive application is linked into the graph, even when no input
requires grad, when `no_grad()` is on, or when the op has no VJP (comparisons): the generated code
must recompute all of it from the inputs at every call, never reuse a value of the first call.
The core calls the tracer set in `graphgrad._primitive._tracer` and `graphgrad._tensor._tracer`
while any trace runs (see `_install`); calls from threads that are not tracing pass straight
through.
"""

from __future__ import annotations

import contextlib
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field

from .. import _primitive as _primitive_module, _tensor as _tensor_module
from .._tensor import Tensor
from ..backend import CPU
from ..errors import GraphgradError, user_site

_tracing: ContextVar[str | None] = ContextVar("graphgrad_compile_tracing", default=None)
tracing = _tracing.get  # -> the name of the function being traced, or None
# while tracing: every node made, and {id(detached copy): (copy, original)} (`.detach()` shares
# the array: the copy stands for the original, it is not a constant of the first call)
_tape: ContextVar[tuple[list, dict] | None] = ContextVar("graphgrad_compile_tape", default=None)


class ConcretizationError(GraphgradError, RuntimeError):
    """A traced function read a tensor's value in Python (`if x.item() > 0`, `bool(x)`)."""


class _Tracer:
    """What the core calls while a trace runs somewhere; it acts only in the tracing thread."""

    @staticmethod
    def tracing() -> bool:
        """Whether this thread is tracing (dropout restores its generator after the trace)."""
        return _tracing.get() is not None

    @staticmethod
    def record(out: Tensor, op, args: tuple, params) -> Tensor:
        """Link `out` even where the engine would not (no grad needed, `no_grad()`, no VJP)."""
        if _tracing.get() is None:
            return out
        if out.op is None:  # still part of the code: recomputed at every call
            out.op = op
            out.inputs = args
            out.params = params
        tape = _tape.get()
        if tape is not None:
            tape[0].append(out)
        return out

    @staticmethod
    def read(tensor: Tensor, method_name: str) -> None:
        traced = _tracing.get()
        if traced is not None:
            raise ConcretizationError(
                f"compile({traced}): {method_name}() reads the value of a tensor of shape "
                f"{tensor.shape} while tracing (at {user_site(2)}). The compiled code runs without "
                f"Python in between, so control flow cannot depend on values: use gg.where(cond, "
                f"a, b) for value-dependent choices, pass the value as a plain Python argument "
                f"(it becomes part of the cache key), or call the function without gg.compile")

    @staticmethod
    def detached(copy: Tensor, original: Tensor) -> None:
        tape = _tape.get()
        if tape is not None and _tracing.get() is not None:
            tape[1][id(copy)] = (copy, original)


_TRACER = _Tracer()
_lock = threading.Lock()
_active = 0


@contextlib.contextmanager
def _install():
    """Switch the core's tracing checks on while any trace runs (nestable, thread-safe)."""
    global _active
    with _lock:
        if _active == 0:
            _primitive_module._tracer = _TRACER
            _tensor_module._tracer = _TRACER
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _primitive_module._tracer = None
                _tensor_module._tracer = None


@dataclass
class Trace:
    """What one traced call built: stand-in leaves, the result tree, captured tensors."""

    name: str
    arg_leaves: list[Tensor]              # one stand-in per Tensor argument, in order
    outputs: list[Tensor]                 # the flattened result
    tree: object                          # how to rebuild the result from `outputs`
    start_seq: int                        # leaves numbered at least this were made by the trace
    tape: tuple = ([], {})                # see `_tape`
    captured: list[Tensor] = field(default_factory=list)
    fn: object = None                     # the traced function (its scope names captured tensors)


def _leaf_like(t: Tensor, name: str | None) -> Tensor:
    leaf = Tensor._leaf(t.data, t.device)
    leaf.requires_grad = t.requires_grad
    leaf.name = name
    return leaf


def flatten(value, tensors: list) -> object:
    """The tree of `value` with each Tensor replaced by its index in `tensors` (appended)."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return ("T", len(tensors) - 1)
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(flatten(v, tensors) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((k, flatten(v, tensors)) for k, v in value.items()))
    return ("C", value)


def unflatten(tree, tensors: list):
    kind, body = tree
    if kind == "T":
        return tensors[body]
    if kind == "C":
        return body
    if kind is dict:
        return {k: unflatten(v, tensors) for k, v in body}
    return kind(unflatten(v, tensors) for v in body)


def run_trace(fn, name: str, args: list, tensor_positions: list[int], arg_names: list[str],
              kwargs: dict) -> Trace:
    """Call `fn` once on stand-ins for the Tensor arguments, recording everything it computes."""
    leaves = []
    call_args = list(args)
    for position, arg_name in zip(tensor_positions, arg_names):
        leaf = _leaf_like(args[position], arg_name)
        leaves.append(leaf)
        call_args[position] = leaf
    start = Tensor._leaf(None, CPU).seq + 1
    token = _tracing.set(name)
    tape: tuple[list, dict] = ([], {})
    tape_token = _tape.set(tape)
    try:
        with _install():
            result = fn(*call_args, **kwargs)
    finally:
        _tracing.reset(token)
        _tape.reset(tape_token)
    outputs: list[Tensor] = []
    tree = flatten(result, outputs)
    if not outputs:
        raise TypeError(f"compile({name}): the function returned no Tensor "
                        f"(got {type(result).__name__}); a compiled function returns Tensors")
    return Trace(name, leaves, outputs, tree, start, tape, fn=fn)


__all__ = ["ConcretizationError", "Trace", "run_trace", "tracing", "flatten", "unflatten"]
