"""eye, linspace, rand, randint against NumPy, and gg.manual_seed: the default generator that
draws without an explicit generator or seed come from."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.errors import ArgumentError


def test_eye_and_linspace_match_numpy():
    np.testing.assert_array_equal(gg.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(gg.eye(2, 4, dtype="float64").numpy(), np.eye(2, 4))
    assert gg.eye(2).dtype == gg.get_default_dtype()
    assert gg.eye(2, dtype="float32").dtype == np.float32
    np.testing.assert_allclose(gg.linspace(-1, 2, 7, dtype="float64").numpy(),
                               np.linspace(-1, 2, 7), rtol=1e-15)
    assert gg.linspace(0, 1, 0).shape == (0,)
    assert gg.linspace(3.0, 5.0, 1).numpy().tolist() == [3.0]
    w = gg.eye(2, requires_grad=True, name="w")
    assert w.requires_grad and w.name == "w"


def test_rand_and_randint_draw_in_their_ranges():
    u = gg.rand(1000, seed=0, dtype="float64").numpy()
    assert u.shape == (1000,) and 0.0 <= u.min() and u.max() < 1.0 and 0.4 < u.mean() < 0.6
    assert gg.rand(2, 3).shape == (2, 3) and gg.rand((2, 3)).dtype == gg.get_default_dtype()
    r = gg.randint(-2, 3, (500,), seed=1).numpy()
    assert r.dtype == np.int64 and set(r.tolist()) == {-2, -1, 0, 1, 2}
    # PyTorch's randint(high, size)
    assert set(gg.randint(4, (300,), seed=2).numpy().tolist()) == {0, 1, 2, 3}
    assert gg.randint(0, 9, (2, 2), dtype="int32").dtype == np.int32


def test_manual_seed_repeats_every_draw_without_its_own_generator():
    def draws():
        return [gg.randn(3).numpy(), gg.rand(2, 2).numpy(), gg.randint(0, 100, (4,)).numpy()]

    gg.manual_seed(0)
    first = draws()
    gg.manual_seed(0)
    again = draws()
    gg.manual_seed(1)
    other = draws()
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    # an explicit seed or generator does not touch (or read) the default generator
    gg.manual_seed(0)
    gg.randn(3, seed=5)
    np.testing.assert_array_equal(gg.randn(3).numpy(), first[0])


def test_manual_seed_makes_weight_init_and_dropout_repeat():
    gg.manual_seed(3)
    a = gg.nn.Linear(4, 3)
    mask_a = gg.dropout(gg.ones(50), p=0.5).numpy()
    gg.manual_seed(3)
    b = gg.nn.Linear(4, 3)
    mask_b = gg.dropout(gg.ones(50), p=0.5).numpy()
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(mask_a, mask_b)


@pytest.mark.parametrize("call, words", [
    (lambda: gg.eye(-1), "eye: sizes must be ints >= 0"),
    (lambda: gg.eye(2, 1.5), "eye: sizes must be ints >= 0"),
    (lambda: gg.linspace(0, 1, 2.5), "linspace: sizes must be ints >= 0"),
    (lambda: gg.linspace("a", 1, 2), "linspace: start must be a number"),
    (lambda: gg.rand(-1), "rand: sizes must be ints >= 0"),
    (lambda: gg.randint(5, 5, (2,)), "randint: needs low < high, got low=5, high=5"),
    (lambda: gg.randint(0.5, 5, (2,)), "randint: low must be an int"),
    (lambda: gg.randint(5), "randint: expected randint(low, high, size)"),
    (lambda: gg.randn(2, seed=0, generator=np.random.default_rng(0)), "not both"),
])
def test_bad_factory_arguments_say_what_is_valid(call, words):
    with pytest.raises(ArgumentError) as info:
        call()
    assert words in str(info.value)


def test_manual_seed_wants_a_non_negative_int():
    with pytest.raises(ValueError, match="manual_seed: seed must be an int >= 0, got -1"):
        gg.manual_seed(-1)
