import math

import numpy as np

import graphgrad as gg
from graphgrad.inspection import canonical_gabor, fit_gabor, gabor_bank, gabor_kernel
from graphgrad.inspection.gabor import cos, sin


def test_the_formula_at_hand_computed_points():
    k = gabor_kernel(5, alpha=2.0, beta_x=0.3, beta_y=0.1, f=1.1, phi=0.4)
    # centre pixel (2, 2) is (x, y) = (0, 0); columns are x, rows are y
    assert k[2, 2] == 2.0 * math.cos(0.4)
    assert math.isclose(k[2, 3], 2.0 * math.exp(-0.3) * math.cos(1.1 + 0.4))
    assert math.isclose(k[3, 2], 2.0 * math.exp(-0.1) * math.cos(0.4))
    # tau = pi / 2 turns x' into y: the stripes follow the rows
    turned = gabor_kernel(5, alpha=2.0, beta_x=0.3, beta_y=0.1, f=1.1, phi=0.4, tau=math.pi / 2)
    assert math.isclose(turned[3, 2], 2.0 * math.exp(-0.3) * math.cos(1.1 + 0.4))
    # x0, y0 move the centre
    moved = gabor_kernel(5, alpha=1.0, beta_x=0.3, beta_y=0.1, f=1.1, phi=0.0, x0=1.0, y0=-1.0)
    assert moved[1, 3] == 1.0


def test_bank_covers_orientations_frequencies_and_phases():
    bank, params = gabor_bank(7, orientations=4, frequencies=(0.5, 1.0), phases=(0.0, 1.0))
    assert bank.shape == (16, 7, 7) and params.shape == (16, 8)
    np.testing.assert_allclose(sorted(set(params[:, 7])), np.pi * np.arange(4) / 4)
    np.testing.assert_allclose(bank[5], gabor_kernel(7, *params[5]))


def test_sin_and_cos_gates_have_correct_gradients():
    x = gg.tensor(np.linspace(-3, 3, 7))
    assert gg.gradcheck(lambda t: cos(t), [x])
    assert gg.gradcheck(lambda t: sin(t) * cos(t), [x])


def test_canonical_parameters_describe_the_same_kernel():
    p = np.array([-1.3, 0.2, 0.1, -0.9, 2.5, 0.3, -0.2, 4.0])
    c = canonical_gabor(p)
    assert c[0] > 0 and c[3] > 0 and 0 <= c[7] < math.pi and -math.pi < c[4] <= math.pi
    np.testing.assert_allclose(gabor_kernel(7, *c), gabor_kernel(7, *p), atol=1e-12)


def test_fitting_recovers_the_parameters_of_a_generated_kernel():
    true = np.array([1.5, 0.1, 0.2, 1.2, 0.5, 0.5, -0.3, 0.6])
    fit = fit_gabor(gabor_kernel(9, *true), steps=250, orientations=4, frequencies=(0.8, 1.6),
                    phases=(0.0, math.pi / 2, math.pi, -math.pi / 2))
    np.testing.assert_allclose(fit.params, true, atol=2e-3)
    assert fit.error < 1e-3
    np.testing.assert_allclose(fit.kernels, gabor_kernel(9, *true), atol=1e-2)
