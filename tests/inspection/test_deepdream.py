import numpy as np

from graphgrad import nn
from graphgrad.inspection import deep_dream


def test_dreaming_on_a_linear_layer_scales_the_image_up():
    model = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False, dtype="float64"), nn.Flatten(),
                          nn.Linear(16, 2, dtype="float64"))
    model[0].weight.data = np.full((1, 1, 1, 1), 2.0)
    x = np.random.default_rng(0).standard_normal((1, 4, 4))
    dream = deep_dream(model, x, "0", steps=5, lr=0.1)
    # energy 1/2 |2x|^2 has gradient 4x: every step moves along x itself
    ratio = dream.images / x
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-10)
    assert ratio.flat[0] > 1.0
    np.testing.assert_allclose(dream.energy[0, 0], 0.5 * np.sum((2 * x) ** 2))


def test_dreaming_amplifies_a_trained_layer(trained):
    x = trained.data.x_test[:3]
    dream = deep_dream(trained.model, x, "relu:1", steps=8, lr=0.05)
    assert dream.images.shape == x.shape
    assert np.all(np.diff(dream.energy, axis=0) > 0)
    assert np.all(dream.energy[-1] > 1.3 * dream.energy[0])
