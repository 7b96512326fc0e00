"""Layer constructors check their arguments from their annotations (issue #13).

`nn.Linear(None, 3)`, `nn.BatchNorm2d(2**64)` or `nn.Dropout(float("nan"))` used to fail deep
inside NumPy ("Maximum allowed dimension exceeded", "'<=' not supported") without the layer's name.
Every layer derives from `Layer`, whose `__init_subclass__` wraps the `__init__` a graphgrad layer
defines: before the body runs, each argument the caller passed is checked against its annotation,
so a layer states its rules once, in its signature::

    def __init__(self, in_features: Count, out_features: Count, bias: bool = True, ...)

Kinds (int, float, bool, str, None, tuples, unions, classes) are checked with the rules and wording
of the declared ops (`graphgrad.declare.argument_check`): a wrong kind is an ArgumentError (a
TypeError). `Annotated[kind, Rule(...)]` adds a rule on the value (`Count`: a positive int below
2**62; `Probability`: in [0, 1)): a value outside it is a ConfigError (a ValueError). Both messages
start with the layer's name (`type(self).__name__`: "Conv2d", not the shared base) and name the
argument, the value and what is valid. A graphgrad error raised inside the body (LeNet building a
Conv2d) gets the outer layer's name in front, as an op's does.
"""

from __future__ import annotations

import functools
import inspect
import math
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple, Union

import numpy as np

from graphgrad.declare import _describe_value, _name_the_op, argument_check, check_dtype
from graphgrad.errors import ArgumentError, ConfigError, GraphgradError, user_site
from graphgrad.nn.module import Module

__all__ = ["MAX_SIZE", "Count", "FloatDtype", "Layer", "NonNegative", "Probability", "Rule",
           "Unit"]

# no array dimension reaches this (NumPy's limit is 2**63 elements): a larger size is a mistake
# to name, not an allocation to attempt (MemoryError, "Maximum allowed dimension exceeded")
MAX_SIZE = 2**62


class Rule(NamedTuple):
    """A condition on the value of an argument of the right kind, and what it means in words."""

    holds: Callable[[Any], bool]
    valid: str


def _floating_dtype(value: Any) -> bool:
    try:
        check_dtype("", value, kinds="f")
    except GraphgradError:
        return False
    return True


Count = Annotated[int, Rule(lambda v: 1 <= v < MAX_SIZE, "a positive integer below 2**62")]
Probability = Annotated[float, Rule(lambda v: 0 <= v < 1, "in [0, 1)")]
Unit = Annotated[float, Rule(lambda v: 0 <= v <= 1, "in [0, 1]")]
NonNegative = Annotated[float, Rule(lambda v: 0 <= v < math.inf, "a finite number >= 0")]
# a name ("float32"), a NumPy dtype (gg.float32 is one) or scalar type (np.float64)
FloatDtype = Annotated[str | np.dtype | type,
                       Rule(_floating_dtype, "a floating dtype ('float32', 'float64', gg.float32)")]


class _Verdict(NamedTuple):
    ok: bool
    kind_ok: bool  # of the right kind (a failure is then a value out of its rule: a ConfigError)


_PASS = _Verdict(True, True)


def _has_rules(annotation: Any) -> bool:
    return typing.get_origin(annotation) is Annotated or any(
        _has_rules(arg) for arg in typing.get_args(annotation))


def _declared_check(annotation: Any) -> tuple[Callable[[Any], bool], str] | None:
    """The declared ops' check where it covers the whole annotation (TensorLike, tuple[int,
    ...]): their wording; None where a Rule inside or an unknown member needs the walk here."""
    return None if _has_rules(annotation) else argument_check(annotation)


def _judge(annotation: Any, value: Any) -> _Verdict:
    """Whether `value` fits `annotation`; unknown annotations (Any, Callable[...]) pass."""
    check = _declared_check(annotation)
    if check is not None:
        return _Verdict(check[0](value), check[0](value))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        verdict = _judge(args[0], value)
        if not verdict.ok:
            return verdict
        return _Verdict(all(rule.holds(value) for rule in args[1:] if isinstance(rule, Rule)),
                        True)
    if origin in (Union, types.UnionType):
        verdicts = [_judge(member, value) for member in args]
        return _Verdict(any(v.ok for v in verdicts), any(v.kind_ok for v in verdicts))
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return _Verdict(False, False)
        uniform = len(args) == 2 and args[1] is Ellipsis
        if not uniform and len(value) != len(args):
            return _Verdict(False, False)
        members = (args[0],) * len(value) if uniform else args
        verdicts = [_judge(member, item) for member, item in zip(members, value)]
        return _Verdict(all(v.ok for v in verdicts), all(v.kind_ok for v in verdicts))
    if isinstance(annotation, type) and annotation is not Any:
        return _Verdict(isinstance(value, annotation), isinstance(value, annotation))
    return _PASS


def _valid(annotation: Any) -> str:
    """What a valid value is, in words ("a positive integer below 2**62 or a tuple of them")."""
    check = _declared_check(annotation)
    if check is not None:
        return check[1]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return " and ".join(rule.valid for rule in args[1:] if isinstance(rule, Rule)) \
            or _valid(args[0])
    if origin in (Union, types.UnionType):
        return " or ".join(_valid(member) for member in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a tuple or list, each item {_valid(args[0])}"
        if len(set(args)) == 1:
            return f"a tuple or list of {len(args)}, each {_valid(args[0])}"
        return f"a tuple or list of {len(args)} items ({', '.join(map(_valid, args))})"
    return f"a {annotation.__name__}" if isinstance(annotation, type) else repr(annotation)


def _check(layer: str, name: str, value: Any, annotation: Any) -> None:
    verdict = _judge(annotation, value)
    if verdict.ok:
        return
    message = f"{layer}: {name} must be {_valid(annotation)}, got {_describe_value(value)}"
    if verdict.kind_ok:
        raise ConfigError(message)
    raise ArgumentError(f"{message} (at {user_site()})")


def _hints(init: Callable[..., Any]) -> dict[str, Any]:
    """The parameters' annotations, resolved (postponed strings) with their Annotated rules."""
    hints = typing.get_type_hints(init, include_extras=True)
    hints.pop("return", None)
    return hints


def _checked(init: Callable[..., None]) -> Callable[..., None]:
    """`init` preceded by the check of every argument passed against its annotation."""
    signature = inspect.signature(init)
    hints: dict[str, Any] | None = None  # resolved at the first call: the module is complete

    @functools.wraps(init)
    def __init__(self: Module, *args: Any, **kwargs: Any) -> None:
        nonlocal hints
        if hints is None:
            hints = _hints(init)
        layer = type(self).__name__
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as error:  # a missing or unknown argument: Python's message, named
            raise ArgumentError(f"{layer}: {error} (at {user_site()})") from None
        for name, value in bound.arguments.items():
            if name not in hints:
                continue
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:  # `**options: float` annotates each value
                for key, item in value.items():
                    _check(layer, key, item, hints[name])
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                for index, item in enumerate(value):
                    _check(layer, f"{name}[{index}]", item, hints[name])
            else:
                _check(layer, name, value, hints[name])
        try:
            init(self, *args, **kwargs)
        except GraphgradError as error:
            _name_the_op(error, layer)
            raise

    return __init__


class Layer(Module):
    """The base of graphgrad's layers: the `__init__` each one defines checks its arguments
    against its annotations first (see the module docstring). Subclasses defined outside
    graphgrad keep their own `__init__` as written."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and cls.__module__.startswith("graphgrad."):
            setattr(cls, "__init__", _checked(init))  # noqa: B010  (mypy: no method assignment)

