"""Fuzz the public API (issue 13, "Done when"): every declared op in `graphgrad.declare.OPS`, the
nn layer constructors and `gg.tensor`, called with random and mostly wrong arguments built from
their signatures (None, strings, floats where ints go, bools, 2**63, negative sizes, 0-size and
NaN/inf tensors, mismatched shapes and dtypes, nested lists).

A call passes when it returns what it should (a Tensor or a tuple of Tensors; a Module) or raises
a graphgrad error, or a TypeError/ValueError/IndexError, whose message names the op. Anything
else (AttributeError, ZeroDivisionError, OverflowError, a bare NumPy message, RecursionError) is
a finding. Gradients are fuzzed too: a floating result that needs one is back-propagated.

Default profile: a few examples per op (seconds); the thorough profile runs the slow variants.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import graphgrad as gg
import graphgrad.nn as nn
from graphgrad.declare import OPS
from graphgrad.errors import GraphgradError

ACCEPTED = (GraphgradError, TypeError, ValueError, IndexError)
HUGE = [2**63, -(2**63) - 1, 2**64]
# no sizes between 2**16 and 2**62: a valid-looking 2**31 could allocate gigabytes
INTS = [-3, -1, 0, 1, 2, 3, 5, *HUGE]
FLOATS = [math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 0.5, 1.0, 2.0, 1.5, 1e308]
STRINGS = ["", "a", "mean", "sum", "none", "same", "valid", "tanh", "inverted", "float32",
           "cpu", "strict", "cuda:7"]
SHAPES = [(), (0,), (1,), (3,), (2, 3), (3, 2), (1, 3), (2, 0), (2, 1, 4, 4), (1, 2, 5, 5),
          (0, 1, 4, 4), (1, 1, 1, 1), (2, 3, 1, 2, 2)]
DTYPES = ["float64", "float32", "int64", "bool"]
# the failure message shows the whole call: shrinking it costs minutes for little
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def names(message: str, op: str) -> bool:
    """The message names `op` as a word (so the op `t` is not found inside "tensor")."""
    return re.search(rf"(?<![\w.]){re.escape(op)}\b", message) is not None


@st.composite
def tensors(draw) -> gg.Tensor:
    shape = draw(st.sampled_from(SHAPES))
    dtype = draw(st.sampled_from(DTYPES))
    data = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape) * 3
    if data.size and draw(st.booleans()):
        data.flat[draw(st.integers(0, data.size - 1))] = draw(st.sampled_from(
            [math.nan, math.inf, -math.inf, 0.0]))
    if dtype == "bool":
        return gg.tensor(data > 0)
    if dtype == "int64":
        return gg.tensor(np.nan_to_num(data, posinf=9, neginf=-9).astype(np.int64))
    return gg.tensor(data.astype(dtype), requires_grad=draw(st.booleans()))


def wild() -> st.SearchStrategy:
    """Anything at all: the wrong kinds."""
    leaf = st.one_of(st.none(), st.sampled_from(STRINGS), st.sampled_from(INTS),
                     st.sampled_from(FLOATS), st.booleans(), st.just(object()),
                     st.sampled_from([np.float64(2.0), np.int64(-5), np.bool_(True)]),
                     st.sampled_from([np.arange(3.0), np.zeros((0,)), np.ones((2, 3)),
                                      np.array(["a"]), np.array([1, None], dtype=object)]))
    nested = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.lists(inner, max_size=3).map(tuple)),
                          max_leaves=6)
    return st.one_of(nested, tensors())


def typed(annotation) -> st.SearchStrategy:
    """Values of the annotated kind, with the hostile members of that kind (2**63, NaN, "")."""
    if annotation is gg.Tensor:
        return tensors()
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.sampled_from(INTS)
    if annotation is float:
        return st.one_of(st.sampled_from(FLOATS), st.sampled_from(INTS))
    if annotation is str:
        return st.sampled_from(STRINGS)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        return st.one_of([typed(arg) for arg in args])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(typed(args[0]), max_size=4).map(tuple)
    if origin is tuple:
        return st.tuples(*[typed(arg) for arg in args])
    if origin in (Sequence, list):
        return st.lists(typed(args[0]) if args else wild(), max_size=3)
    if annotation in (np.ndarray, np.generic):
        return st.sampled_from([np.arange(3.0), np.zeros((0,)), np.ones((2, 3)), np.float64(1.5)])
    return wild()  # Any, devices, dtypes, generators: the op checks those itself


def argument(annotation) -> st.SearchStrategy:
    """Mostly the right kind (to get past the checks into the op), often anything."""
    return st.one_of(typed(annotation), typed(annotation), wild())


@st.composite
def calls(draw, fn: Callable) -> tuple[list, dict]:
    args: list = []
    kwargs: dict = {}
    for parameter in inspect.signature(fn).parameters.values():
        annotation = parameter.annotation
        if isinstance(annotation, str):  # an undeclared annotation (check=False): anything
            annotation = Any
        if parameter.kind is parameter.VAR_POSITIONAL:
            element = typing.get_args(annotation)[0] if typing.get_args(annotation) else Any
            args += draw(st.lists(argument(element) if annotation is not Any else wild(),
                                  max_size=3))
        elif parameter.kind is parameter.VAR_KEYWORD:
            continue
        elif parameter.default is not parameter.empty and draw(st.booleans()):
            continue
        elif parameter.kind is parameter.KEYWORD_ONLY or kwargs:
            kwargs[parameter.name] = draw(argument(annotation))
        else:
            args.append(draw(argument(annotation)))
    return args, kwargs


def describe(value) -> str:
    if isinstance(value, gg.Tensor):
        return f"Tensor{tuple(value.shape)}:{value.dtype}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)[:40]


def check_outcome(op: str, call: Callable[[], Any], produced: Callable[[Any], bool],
                  shown: str) -> None:
    """Run `call`: a good result, or an accepted error that names `op`; else fail with the
    finding (op, input, exception)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            result = call()
        except ACCEPTED as error:
            if names(str(error), op):
                return
            pytest.fail(f"{op}{shown}: {type(error).__name__} without the op's name: {error}")
        except Exception as error:  # noqa: BLE001  the point of the test: any other exception
            pytest.fail(f"{op}{shown}: {type(error).__name__}: {error}")
    if not produced(result):
        pytest.fail(f"{op}{shown}: returned {type(result).__name__}")


def is_tensors(result) -> bool:
    if isinstance(result, tuple):
        return all(isinstance(part, gg.Tensor) for part in result)
    return isinstance(result, gg.Tensor)


def call_op(name: str, args: list, kwargs: dict):
    """The op, then (when it made a floating result that needs a gradient) its backward."""
    result = OPS[name](*args, **kwargs)
    for part in result if isinstance(result, tuple) else (result,):
        if isinstance(part, gg.Tensor) and part.requires_grad and part.dtype.kind == "f":
            part.sum().backward()
    return result


def fuzz_op(name: str, data: st.DataObject) -> None:
    args, kwargs = data.draw(calls(OPS[name]))
    shown = "(" + ", ".join([describe(a) for a in args]
                            + [f"{k}={describe(v)}" for k, v in kwargs.items()]) + ")"
    check_outcome(name, lambda: call_op(name, args, kwargs), is_tensors, shown)


def fuzzed(names: list, examples: int) -> Callable:
    """One hypothesis test per name, `examples` random calls each, no shrinking."""
    def decorate(test: Callable) -> Callable:
        test = given(data=st.data())(test)
        test = settings(max_examples=examples, suppress_health_check=list(HealthCheck),
                        phases=NO_SHRINK)(test)
        return pytest.mark.parametrize("name", names)(test)
    return decorate


@fuzzed(sorted(OPS), examples=4)
def test_every_op_returns_tensors_or_raises_an_error_naming_it(name, data):
    fuzz_op(name, data)


@pytest.mark.slow
@fuzzed(sorted(OPS), examples=400)
def test_every_op_fuzzed_long(name, data):
    fuzz_op(name, data)


# ----- nn layer constructors ----------------------------------------------------------------------
LAYERS = sorted(name for name, obj in vars(nn).items()
                if inspect.isclass(obj) and issubclass(obj, nn.Module)
                and name not in ("Module", "Sequential", "ModuleList", "ModuleDict"))


def fuzz_layer(name: str, data: st.DataObject) -> None:
    cls = getattr(nn, name)
    # the kinds the (postponed, string) annotations name, rules stripped: Count is an int
    hints = typing.get_type_hints(cls.__init__)
    args, kwargs = [], {}
    for parameter in inspect.signature(cls).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD) or \
                parameter.name in ("rng", "init"):
            continue
        if parameter.default is not parameter.empty and data.draw(st.booleans()):
            continue
        kind = hints.get(parameter.name, Any)
        # the layers allocate their weights: no huge-but-valid sizes, only absurd ones
        value = data.draw(st.one_of(typed(kind), wild().filter(lambda v: not isinstance(
            v, gg.Tensor))))
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    shown = "(" + ", ".join([describe(a) for a in args]
                            + [f"{k}={describe(v)}" for k, v in kwargs.items()]) + ")"
    check_outcome(name, lambda: cls(*args, **kwargs), lambda m: isinstance(m, nn.Module), shown)


@fuzzed(LAYERS, examples=3)
def test_layer_constructors_build_or_raise_an_error_naming_the_layer(name, data):
    fuzz_layer(name, data)


@pytest.mark.slow
@fuzzed(LAYERS, examples=300)
def test_layer_constructors_fuzzed_long(name, data):
    fuzz_layer(name, data)


# ----- gg.tensor ----------------------------------------------------------------------------------
@settings(max_examples=60, suppress_health_check=list(HealthCheck),
          phases=NO_SHRINK)
@given(data=wild(), dtype=st.one_of(st.none(), st.sampled_from(DTYPES + ["", "object", "U3"]),
                                    wild()),
       requires_grad=st.one_of(st.booleans(), wild()))
def test_tensor_makes_a_tensor_or_raises_an_error_naming_it(data, dtype, requires_grad):
    check_outcome("tensor", lambda: gg.tensor(data, dtype=dtype, requires_grad=requires_grad),
                  lambda t: isinstance(t, gg.Tensor),
                  f"({describe(data)}, dtype={dtype!r}, requires_grad={describe(requires_grad)})")


# ----- the findings, one focused test each (each failed on the code before the fix) -------------
def f64(*shape):
    return gg.tensor(np.ones(shape))


@pytest.mark.parametrize("call, error, message", [
    (lambda: f64(3).astype(1.5), gg.errors.DtypeError, r"astype: 1.5 is not a dtype"),
    (lambda: f64(3).astype("(1.5, 2"), gg.errors.DtypeError, r"astype: '\(1.5, 2' is not"),
    (lambda: gg.matmul(3, 1.5), gg.errors.ArgumentError, r"matmul: expected at least one Tensor"),
    (lambda: OPS["to_device"](f64(3), 7), gg.errors.ArgumentError, r"to_device: device must"),
    (lambda: OPS["to_device"](f64(3), "nowhere"), gg.errors.DeviceError, r"to_device: unknown"),
    (lambda: gg.unfold(f64(1, 1, 2, 2), 1, 2**64), gg.errors.ShapeError,
     r"unfold: stride \(18446744073709551616, 18446744073709551616\) is beyond any array"),
    (lambda: gg.sum_to(0, (1,)), gg.errors.ArgumentError, r"sum_to: expects a Tensor"),
    (lambda: gg.sum_to(f64(2, 3), (1.5, 2)), gg.errors.ArgumentError, r"sum_to: shape must"),
    (lambda: gg.sum_to(f64(1, 2, 4), (0,)), gg.errors.ShapeError,
     r"sum_to: shape \(1, 2, 4\) does not broadcast from \(0,\)"),
    (lambda: f64(2)[[1, [2]]], gg.errors.ArgumentError, r"getitem: the index list \[1, \[2\]\]"),
    (lambda: gg.pad(f64(2), (2**63,)), gg.errors.ShapeError, r"pad: pad_width \(9223372036854"),
    (lambda: gg.tensor(np.arange(3)) + 2**63, gg.errors.ArgumentError,
     r"add: the number 9223372036854775808 does not fit"),
    (lambda: gg.less(2**63, gg.tensor(np.arange(3))), gg.errors.ArgumentError, r"less: the num"),
    (lambda: gg.binary_cross_entropy(gg.tensor(np.arange(3)), -(2**63) - 1),
     gg.errors.ArgumentError, r"binary_cross_entropy: the target -9223372036854775809 does not"),
    (lambda: gg.sub(1, 2), gg.errors.ArgumentError, r"^sub: add: expected at least one Tensor"),
    # an error from a gate inside a composition names the op that was called, then the gate
    (lambda: gg.sub(f64(3), f64(3).astype("float32")), gg.errors.DtypeError, r"^sub: add: "),
    (lambda: gg.minimum(f64(3), f64(3).astype("float32")), gg.errors.DtypeError,
     r"^minimum: maximum: "),
    # layer constructors: the layer, the argument, the value and what is valid (#13)
    (lambda: nn.BatchNorm1d(1, dtype=""), gg.errors.ConfigError,
     r"^BatchNorm1d: dtype must be a floating dtype \('float32', 'float64', gg.float32\), got ''"),
    (lambda: nn.BatchNorm2d(2**64), gg.errors.ConfigError,
     r"^BatchNorm2d: num_features must be a positive integer below 2\*\*62, got 1844674407370955"),
    (lambda: nn.Conv1d(3, 2**63, 2), gg.errors.ConfigError, r"^Conv1d: out_channels must be a p"),
    (lambda: nn.Conv1d(3, 3, 2, dtype=("tanh", True)), gg.errors.ArgumentError,
     r"^Conv1d: dtype must be a floating dtype \("),
    (lambda: nn.Conv2d(1, 2, 2**64), gg.errors.ConfigError,
     r"^Conv2d: kernel_size must be an int or a pair of ints below 2\*\*62, each >= 1, got 1"),
    (lambda: nn.Dropout(None), gg.errors.ArgumentError, r"^Dropout: p must be in \[0, 1\), got "),
    (lambda: nn.Embedding(2**63, 2**63), gg.errors.ConfigError, r"^Embedding: num_embeddings "),
    (lambda: nn.GroupNorm(2**64, 2**64, 2), gg.errors.ConfigError, r"^GroupNorm: num_groups "),
    (lambda: nn.LPPool2d(None, -3, -3), gg.errors.ArgumentError,
     r"^LPPool2d: p must be a finite number >= 1 \(2: L2 pooling\), got None"),
    (lambda: nn.LayerNorm(None), gg.errors.ArgumentError, r"^LayerNorm: normalized_shape must be"),
    (lambda: nn.LayerNorm(4, eps=math.nan), gg.errors.ConfigError,
     r"^LayerNorm: eps must be a finite number >= 0, got nan"),
    (lambda: nn.LeNet(-3, in_channels=-3), gg.errors.ConfigError, r"^LeNet: num_classes must be"),
    (lambda: nn.LeNet(in_channels=-3), gg.errors.ConfigError, r"^LeNet: in_channels must be"),
    (lambda: nn.LeNet(image_size=1), gg.errors.ConfigError, r"^LeNet: image_size must be an int "),
    (lambda: nn.LeNet(conv1_init="nope"), gg.errors.ConfigError, r"^LeNet: Conv2d: unknown init"),
    (lambda: nn.Linear(3, 3, True, dtype="none"), gg.errors.ConfigError, r"^Linear: dtype must"),
    (lambda: nn.Linear(3), gg.errors.ArgumentError, r"^Linear: missing a required argument"),
    (lambda: nn.Linear(2, 3, rng="x"), gg.errors.ArgumentError, r"^Linear: rng must be a Gener"),
    (lambda: nn.Softmax(dim=None), gg.errors.ArgumentError, r"^Softmax: dim must be an int"),
    (lambda: nn.MSELoss(reduction=None), gg.errors.ArgumentError, r"^MSELoss: reduction must be"),
    # gg.tensor and the factories: dtype and flags
    (lambda: gg.tensor(f64(3, 2), dtype=()), gg.errors.DtypeError,
     r"^tensor: dtype \(\) \(tuple\) is not a dtype tensor takes; give a name such as 'bool'"),
    (lambda: gg.tensor([1.0], dtype="U3"), gg.errors.DtypeError, r"^tensor: dtype 'U3'"),
    (lambda: gg.tensor([1.0], requires_grad="no"), gg.errors.ArgumentError,
     r"^tensor: requires_grad must be a bool \(True or False\), got 'no'"),
    (lambda: gg.tensor(np.array([True]), requires_grad=True), gg.errors.DtypeError,
     r"^tensor: requires_grad_: only floating tensors can require gradients, this one is bool"),
    (lambda: gg.zeros(2, dtype=()), gg.errors.DtypeError, r"^zeros: dtype \(\)"),
    (lambda: gg.ones(2, dtype=""), gg.errors.DtypeError, r"^ones: dtype ''"),
    (lambda: gg.arange(3, dtype=()), gg.errors.DtypeError, r"^arange: dtype \(\)"),
    (lambda: gg.randint(0, 3, (2,), dtype=object), gg.errors.DtypeError, r"^randint: dtype"),
    (lambda: gg.ones(2, requires_grad="no"), gg.errors.ArgumentError, r"^ones: requires_grad"),
    (lambda: gg.zeros_like(f64(2), requires_grad=1), gg.errors.ArgumentError,
     r"^zeros_like: requires_grad must be a bool"),
    # found once the default profile was derandomized (each failed before its fix)
    (lambda: gg.maxout(gg.tensor(0), 2**64, 3), gg.errors.ShapeError,
     r"maxout: a 0-d tensor has no axis 3"),
    (lambda: gg.minimum(gg.tensor(6), np.array([1, None], dtype=object)), gg.errors.ShapeError,
     r"^minimum: neg: "),
])
def test_each_finding_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_division_by_a_python_zero_is_inf_or_nan_as_by_a_tensor_zero():
    x = gg.tensor(np.array([1.0, 0.0, -2.0]))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal((x / 0).data, [np.inf, np.nan, -np.inf])
        np.testing.assert_array_equal((x / -0.0).data, [-np.inf, np.nan, np.inf])


def test_subtracting_a_numpy_bool_is_numpys_integer_arithmetic():
    """sub negated its constant with NumPy's `-`, which refuses a NumPy bool (found by the fuzz
    test): x - np.True_ is x - 1, as in NumPy."""
    x = gg.tensor(np.array([[5, 7]]))
    assert gg.sub(x, np.True_).numpy().tolist() == (np.array([[5, 7]]) - np.True_).tolist()
