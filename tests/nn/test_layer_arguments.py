"""Layer constructors check their arguments from their annotations (graphgrad.nn._arguments,
issue #13): one mechanism every layer shares, so the rules below hold for each layer without a
check written in it."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import graphgrad.nn as nn
from graphgrad.errors import ArgumentError, ConfigError
from graphgrad.nn._arguments import Count, Layer

CONTAINERS = ("Module", "Sequential", "ModuleList", "ModuleDict")
LAYERS = [obj for name, obj in vars(nn).items() if inspect.isclass(obj)
          and issubclass(obj, nn.Module) and name not in CONTAINERS]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda cls: cls.__name__)
def test_every_layer_checks_its_constructor_arguments(cls):
    """A new layer that derives from Module directly would skip the checks: derive from Layer."""
    assert issubclass(cls, Layer)


@pytest.mark.parametrize("cls", [nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d,
                                 nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.Embedding])
@pytest.mark.parametrize("bad, error", [
    (0, ConfigError), (-1, ConfigError), (2**62, ConfigError), (2**64, ConfigError),
    (2.0, ArgumentError), (True, ArgumentError), (None, ArgumentError), ("3", ArgumentError),
])
def test_sizes_are_positive_ints_below_2_62(cls, bad, error):
    args = {nn.Linear: (4, 4), nn.GroupNorm: (2, 4), nn.Embedding: (4, 4)}.get(cls, (4, 4, 3))
    if cls in (nn.BatchNorm1d, nn.BatchNorm2d):
        args = (4,)
    with pytest.raises(error, match=rf"^{cls.__name__}: \w+ must be a positive integer below "
                                    rf"2\*\*62, got {bad!r} \({type(bad).__name__}\) \(at "):
        cls(bad, *args[1:])
    cls(*args)  # the same layer with a valid first size builds


def test_the_largest_valid_size_is_accepted_by_the_rule():
    from graphgrad.nn._arguments import _check

    _check("Layer", "n", 2**62 - 1, Count)  # no allocation here: only the rule
    with pytest.raises(ConfigError, match="got 4611686018427387904"):
        _check("Layer", "n", 2**62, Count)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Dropout(1.0), r"^Dropout: p must be in \[0, 1\), got 1.0"),
    (lambda: nn.Dropout2d(math.nan), r"^Dropout2d: p must be in \[0, 1\), got nan"),
    (lambda: nn.BatchNorm2d(3, momentum=math.inf), r"^BatchNorm2d: momentum must be "
                                                   r"in \[0, 1\] or None, got inf"),
    (lambda: nn.GroupNorm(2, 4, eps=-1e-5), r"^GroupNorm: eps must be a finite number >= 0"),
    (lambda: nn.LPPool2d(math.inf, 2), r"^LPPool2d: p must be a finite number >= 1"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0)), r"^AdaptiveAvgPool2d: output_size must be"),
    (lambda: nn.LeNet(channels=(4, 0)), r"^LeNet: channels must be a tuple or list of 2, each a "
                                        r"positive integer below 2\*\*62, got \(4, 0\)"),
])
def test_values_outside_a_rule_are_config_errors_naming_layer_argument_and_value(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_the_error_names_the_class_the_user_built_not_the_shared_base():
    with pytest.raises(ConfigError, match=r"^Conv1d: in_channels "):
        nn.Conv1d(0, 2, 3)
    with pytest.raises(ArgumentError, match=r"^MaxPool2d: stride must be"):
        nn.MaxPool2d(2, stride="2")


def test_a_subclass_written_by_a_user_is_named_and_keeps_its_own_init():
    class Wide(nn.Linear):
        def __init__(self, n: Unknown) -> None:  # noqa: F821  (never resolved: not checked)
            super().__init__(n, 2 * n)

    assert Wide(3).out_features == 6
    with pytest.raises(ConfigError, match=r"^Wide: in_features must be a positive int"):
        Wide(-1)


def test_an_error_inside_a_layer_built_by_a_layer_names_both():
    with pytest.raises(ConfigError, match=r"^LeNet: Conv2d: unknown init 'nope'"):
        nn.LeNet(conv1_init="nope")


def test_numpy_scalars_and_lists_pass_and_unknown_keywords_name_the_layer():
    assert nn.Linear(np.int64(3), 2).in_features == 3
    assert nn.BatchNorm1d(2, momentum=None).momentum is None
    assert nn.LayerNorm([2, 3]).normalized_shape == (2, 3)
    with pytest.raises(ArgumentError, match=r"^Linear: got an unexpected keyword argument 'out'"):
        nn.Linear(2, 3, out=3)


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float64")])
def test_a_floating_dtype_may_be_named_as_numpy_or_pytorch_users_do(dtype):
    assert nn.Linear(2, 3, dtype=dtype).weight.dtype == np.float64


@pytest.mark.parametrize("dtype, error", [("int64", ConfigError), (np.int32, ConfigError),
                                          ("", ConfigError), ((), ArgumentError)])
def test_a_layer_refuses_a_dtype_its_parameters_cannot_have(dtype, error):
    with pytest.raises(error, match=r"^Linear: dtype must be a floating dtype"):
        nn.Linear(2, 3, dtype=dtype)
