import numpy as np

from graphgrad import nn
from graphgrad.inspection import backprop_variants, deconvnet, guided_backprop, input_gradient


def _model():
    rng = np.random.default_rng(7)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=rng, dtype="float64"), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3 * 9, 4, rng=rng, dtype="float64"))


def _reference(model, x, cls, rule):
    """Loops: conv -> relu -> 2x2 max pool -> linear, backward with the given ReLU rule."""
    w, b = model[0].weight.numpy(), model[0].bias.numpy()
    lin = model[4].weight.numpy()
    _c, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    z = np.zeros((3, h, wd))
    for o in range(3):
        for i in range(h):
            for j in range(wd):
                z[o, i, j] = np.sum(padded[:, i:i + 3, j:j + 3] * w[o]) + b[o]
    a = np.maximum(z, 0)
    g_pool = lin[cls].reshape(3, h // 2, wd // 2)
    g_a = np.zeros_like(a)
    for o in range(3):                                   # unpool with the switches
        for i in range(h // 2):
            for j in range(wd // 2):
                window = a[o, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                winners = window == window.max()         # tied winners (all-zero windows after
                g_a[o, 2 * i:2 * i + 2, 2 * j:2 * j + 2] += (  # the ReLU) share: the tie rule
                    winners * g_pool[o, i, j] / winners.sum())
    if rule == "gradient":
        g_z = g_a * (z > 0)
    elif rule == "guided":
        g_z = g_a * (g_a > 0) * (z > 0)
    else:
        g_z = g_a * (g_a > 0)
    g_padded = np.zeros_like(padded)
    for o in range(3):                                   # transposed filters
        for i in range(h):
            for j in range(wd):
                g_padded[:, i:i + 3, j:j + 3] += g_z[o, i, j] * w[o]
    return g_padded[:, 1:-1, 1:-1], g_a, z


def test_the_three_rules_match_a_hand_written_backward_pass():
    model = _model()
    x = np.random.default_rng(8).standard_normal((2, 6, 6))
    for cls in (0, 2):
        variants = backprop_variants(model, x, cls)
        for rule in ("gradient", "guided", "deconvnet"):
            expected, _, _ = _reference(model, x, cls, rule)
            np.testing.assert_allclose(variants[rule], expected, atol=1e-12, err_msg=rule)
        np.testing.assert_allclose(guided_backprop(model, x, cls), variants["guided"])
        np.testing.assert_allclose(deconvnet(model, x, cls), variants["deconvnet"])


def test_the_rules_differ_from_the_gradient_exactly_where_relu_rules_differ():
    model = _model()
    x = np.random.default_rng(9).standard_normal((2, 6, 6))
    _, g_a, z = _reference(model, x, 1, "gradient")
    guided_units = (g_a < 0) & (z > 0)        # guided blocks these, the gradient passes them
    deconv_units = (g_a > 0) & (z <= 0)       # the deconvnet passes these, the gradient blocks
    assert guided_units.any() and deconv_units.any()
    gradient = input_gradient(model, x, 1)
    # removing exactly those units' contributions from the gradient gives the guided result
    w = model[0].weight.numpy()
    correction = np.zeros((2, 8, 8))
    for o, i, j in zip(*np.nonzero(guided_units)):
        correction[:, i:i + 3, j:j + 3] -= g_a[o, i, j] * w[o]
    np.testing.assert_allclose(guided_backprop(model, x, 1), gradient + correction[:, 1:-1, 1:-1],
                               atol=1e-12)


def test_no_relu_means_all_three_agree_and_hooks_do_not_leak():
    rng = np.random.default_rng(10)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng, dtype="float64"), nn.Flatten(),
                          nn.Linear(8, 3, rng=rng, dtype="float64"))
    x = rng.standard_normal((1, 4, 4))
    variants = backprop_variants(model, x, 0)
    np.testing.assert_allclose(variants["guided"], variants["gradient"])
    np.testing.assert_allclose(variants["deconvnet"], variants["gradient"])
    relu_model = _model()
    x2 = rng.standard_normal((2, 6, 6))
    before = input_gradient(relu_model, x2, 0)
    guided_backprop(relu_model, x2, 0)
    np.testing.assert_array_equal(input_gradient(relu_model, x2, 0), before)


def test_starting_from_one_unit_of_a_layer():
    model = _model()
    x = np.random.default_rng(11).standard_normal((2, 6, 6))
    out = deconvnet(model, x, layer="2", unit=(1, 0, 2))   # pool output, channel 1, (0, 2)
    # only the pooled unit's 2x2 window's winner, then a 3x3 kernel: support within rows 0..2,
    # columns 3..6 of the input (window rows 0-1, cols 4-5, plus the kernel's reach of 1)
    support = np.argwhere(np.abs(out).sum(axis=0) > 0)
    assert support[:, 0].max() <= 2 and support[:, 1].min() >= 3
