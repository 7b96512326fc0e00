import math

import numpy as np
import pytest

from graphgrad import nn
from graphgrad.nn import init


def test_fans():
    assert init.fans((10, 4)) == (4, 10)
    assert init.fans((6, 3, 5, 5)) == (75, 150)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fans((3,))


def test_gaussian_is_the_lectures_small_randn():
    w = init.gaussian((200, 300), rng=0)
    assert w.dtype == np.float32
    assert abs(w.std() - 0.001) < 0.00005 and abs(w.mean()) < 0.00002
    layer = nn.Linear(300, 200, init="gaussian", rng=0)
    np.testing.assert_array_equal(layer.weight.data, w)
    assert not layer.bias.data.any()


def test_xavier_and_he_variances():
    shape = (400, 100)
    uniform = init.xavier_uniform(shape, rng=1)
    bound = math.sqrt(6 / 500)
    assert np.abs(uniform).max() <= bound
    assert abs(uniform.var() - 2 / 500) < 0.0003
    assert abs(init.xavier_normal(shape, rng=1).var() - 2 / 500) < 0.0003
    conv = (64, 8, 3, 3)  # fan_in 72
    assert abs(init.he_normal(conv, rng=2).var() - 2 / 72) < 0.002
    he_u = init.he_uniform(conv, rng=2)
    assert np.abs(he_u).max() <= math.sqrt(6 / 72)
    assert abs(he_u.var() - 2 / 72) < 0.002


def test_seeded_and_generator_reuse():
    a = nn.Conv2d(1, 4, 3, rng=7).weight.data
    b = nn.Conv2d(1, 4, 3, rng=7).weight.data
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(7)
    first, second = init.he_normal((4, 4), g), init.he_normal((4, 4), g)
    assert not np.array_equal(first, second)
    with pytest.raises(TypeError, match="rng must be"):
        init.make_rng("seed")
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nn.Linear(2, 2, init="glorot")


def test_gabor_formula_by_hand():
    k = init.gabor(5, alpha=2.0, beta_x=0.3, beta_y=0.1, f=1.2, phi=0.4, tau=0.0)
    # centre (x0, y0) = (2, 2); pixel (row y=1, col x=4): x' = 2, y' = -1
    expected = 2.0 * math.exp(-0.3 * 4 - 0.1 * 1) * math.cos(1.2 * 2 + 0.4)
    assert math.isclose(k[1, 4], expected, rel_tol=1e-12)
    assert math.isclose(k[2, 2], 2.0 * math.cos(0.4), rel_tol=1e-12)
    # rotating by tau = pi/2 swaps the roles of x and y: x' = y - y0, y' = -(x - x0)
    rotated = init.gabor(5, alpha=2.0, beta_x=0.3, beta_y=0.1, f=1.2, phi=0.4, tau=math.pi / 2)
    np.testing.assert_allclose(rotated, k.T, atol=1e-12)
    shifted = init.gabor((3, 4), x0=0.0, y0=0.0, beta_x=0.0, beta_y=0.0, f=math.pi, phi=0.0)
    np.testing.assert_allclose(shifted[0], [1, -1, 1, -1], atol=1e-12)
    with pytest.raises(ValueError, match="beta_x and beta_y must be >= 0"):
        init.gabor(3, beta_x=-1.0)


def test_gabor_bank_initialises_a_first_conv_layer():
    layer = nn.Conv2d(1, 8, 5, init="gabor", rng=0)
    w = layer.weight.data
    assert w.shape == (8, 1, 5, 5) and w.dtype == np.float32
    np.testing.assert_allclose(w.mean(axis=(2, 3)), 0.0, atol=1e-6)
    # He scale: sum of squares per kernel = kh*kw * 2/fan_in = 2
    np.testing.assert_allclose((w.astype(np.float64) ** 2).sum(axis=(1, 2, 3)), 2.0, rtol=1e-5)
    flat = w.reshape(8, -1)
    assert np.linalg.matrix_rank(flat) >= 6  # distinct orientations/phases, not copies
    multi = init.gabor_bank((4, 3, 3, 3))
    np.testing.assert_array_equal(multi[:, 0], multi[:, 2])  # same kernel on every input channel
