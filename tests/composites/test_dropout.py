"""Dropout in its two forms: inverted (scale while training) and scale-at-test (the notes')."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.composites.dropouts import dropout
from graphgrad.errors import ShapeError


def test_inverted_dropout_keeps_the_expectation_and_is_identity_at_test():
    x = gg.ones(200, 100)
    y = dropout(x, 0.5, training=True, seed=0).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.03
    assert abs((y == 0).mean() - 0.5) < 0.03
    assert dropout(x, 0.5, training=False) is x


def test_scale_at_test_dropout_scales_weights_at_evaluation():
    x = gg.ones(200, 100)
    y = dropout(x, 0.2, training=True, mode="scale_at_test", seed=1).numpy()
    assert set(np.unique(y)) == {0.0, 1.0}
    assert abs((y == 0).mean() - 0.2) < 0.02
    np.testing.assert_allclose(dropout(x, 0.2, training=False, mode="scale_at_test").numpy(), 0.8)


def test_same_seed_same_mask_and_generator_advances():
    x = gg.ones(10, 10)
    a = dropout(x, 0.5, seed=7).numpy()
    np.testing.assert_array_equal(a, dropout(x, 0.5, seed=7).numpy())
    rng = np.random.default_rng(7)
    first = dropout(x, 0.5, generator=rng).numpy()
    np.testing.assert_array_equal(first, a)  # same stream as seed=7
    assert not np.array_equal(first, dropout(x, 0.5, generator=rng).numpy())


def test_gradient_is_the_mask():
    x = gg.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    y = dropout(x, 0.25, seed=3)
    y.sum().backward()
    mask = y.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.75, 12)}
    gg.gradcheck(lambda t: dropout(t, 0.25, seed=3), [x.numpy()])


def test_float32_and_p_zero():
    x = gg.tensor(np.ones((3, 3), np.float32))
    assert dropout(x, 0.5, seed=0).dtype == np.float32
    assert dropout(x, 0.0) is x


@pytest.mark.parametrize("kwargs, message", [
    (dict(p=1.0), r"dropout: p must be in \[0, 1\)"),
    (dict(p=-0.1), r"dropout: p must be in \[0, 1\)"),
    (dict(p=0.5, mode="test"), r"mode must be one of"),
    (dict(p=0.5, seed=1, generator=np.random.default_rng(1)), r"either a generator or a seed"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ShapeError, match=message):
        dropout(gg.ones(2, 2), **kwargs)
