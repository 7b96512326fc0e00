"""Bad argument kinds for the primitive ops (issue 13, items 7 and 8): an ArgumentError,
ShapeError or IndexError that names the op, the argument, the value and what is valid, never an
AttributeError deep inside, an OverflowError, or a silent coercion (int(1.9), bool("no"))."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.errors import ArgumentError


def x12():
    return gg.tensor(np.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize("call, message", [
    (lambda: gg.sum(None), r"sum: x must be a Tensor, got None \(NoneType\)"),
    (lambda: gg.exp([1.0, 2.0]), r"exp: x must be a Tensor, got \[1.0, 2.0\] \(list\)"),
    (lambda: gg.add("a", x12()), r"add: x must be a Tensor, a number or a NumPy array, got 'a'"),
    (lambda: gg.reshape(x12(), (1.9, 12)), r"reshape: shape must be an int or a tuple or list "
                                            r"of ints.*got \(1.9, 12\) \(tuple\)"),
    (lambda: x12().reshape(2.0, 6), r"reshape: shape must be .* got \(2.0, 6\)"),
    (lambda: x12().view(True, 12), r"view: shape must be .* got \(True, 12\)"),
    (lambda: gg.pad(x12(), 1.7), r"pad: pad_width must be .* got 1.7 \(float\)"),
    (lambda: gg.pad(x12(), "1"), r"pad: pad_width must be .* got '1' \(str\)"),
    (lambda: gg.pad(x12(), ((1, 1.5), (0, 0))), r"pad: pad_width must be ints .* got 1.5 "
                                                r"\(float\)"),
    (lambda: x12().sum(keepdims="no"), r"sum: keepdims must be a bool \(True or False\), "
                                       r"got 'no' \(str\)"),
    (lambda: x12().mean(dim=0, keepdim=1), r"mean: keepdim must be a bool .* got 1 \(int\)"),
    (lambda: x12().sum(axis=1.5), r"sum: axis must be an int or a tuple or list of ints or "
                                  r"None, got 1.5 \(float\)"),
    (lambda: x12().flatten(1.0), r"flatten: start_dim must be an int, got 1.0 \(float\)"),
    (lambda: x12().unsqueeze(True), r"unsqueeze: dim must be an int, got True \(bool\)"),
    (lambda: x12().norm(p="2"), r"norm: p must be a number, got '2' \(str\)"),
    (lambda: x12().chunk(2.5), r"chunk: chunks must be an int, got 2.5"),
    (lambda: x12().repeat(2, 1.5), r"repeat: repeats must be .* got \(2, 1.5\)"),
    (lambda: gg.concatenate(x12()), r"concatenate: tensors must be a tuple or list of Tensors"),
    (lambda: gg.stack([x12(), None]), r"stack: tensors must be a tuple or list of Tensors"),
])
def test_a_bad_argument_kind_names_op_argument_value_and_what_is_valid(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_argument_errors_are_type_errors_and_graphgrad_errors():
    with pytest.raises(TypeError):
        gg.sum(None)
    with pytest.raises(gg.GraphgradError):
        gg.sum(None)


@pytest.mark.parametrize("index, axis, size", [
    (2 ** 63, 0, 3), (-(2 ** 70), 0, 3), ((0, 2 ** 64), 1, 4), ((slice(None), 2 ** 63), 1, 4),
    ((None, 0, 2 ** 63), 1, 4), (5, 0, 3)])
def test_a_huge_integer_index_names_the_axis_and_its_size(index, axis, size):
    with pytest.raises(IndexError, match=rf"getitem: index -?\d+ is out of range for axis "
                                         rf"{axis} with size {size}"):
        x12()[index]


def test_valid_indices_still_work_after_the_range_check():
    a = np.arange(12.0).reshape(3, 4)
    t = gg.tensor(a)
    for index in [(-1, -4), (None, 2), (Ellipsis, 3), (np.int64(1), slice(1, 3)),
                  (np.array([True, False, True]), 1), ([0, 2], 2 ** 0)]:
        np.testing.assert_array_equal(t[index].numpy(), a[index])


def test_sizes_given_as_numpy_ints_are_fine():
    t = x12()
    assert t.reshape(np.int64(4), np.int64(3)).shape == (4, 3)
    assert gg.pad(t, np.int64(1)).shape == (5, 6)


@pytest.mark.parametrize("make, message", [
    (lambda: gg.zeros(2, 2.5), r"zeros: sizes must be ints >= 0, got 2.5 in shape \(2, 2.5\)"),
    (lambda: gg.ones((2, -1)), r"ones: sizes must be ints >= 0, got -1"),
    (lambda: gg.randn(True), r"randn: sizes must be ints >= 0, got True"),
    (lambda: gg.full((2, "3"), 1.0), r"full: sizes must be ints >= 0, got '3'"),
])
def test_factories_refuse_sizes_that_are_not_counts(make, message):
    """np.zeros((2, 2.5)) says 'float object cannot be interpreted as an integer' and np.ones
    with True makes one element: each now names the factory and the size."""
    with pytest.raises(gg.ArgumentError, match=message):
        make()
