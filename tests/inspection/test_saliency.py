import numpy as np

import graphgrad as gg
from graphgrad import nn
from graphgrad.inspection import input_gradient, saliency_map


def _tiny_model():
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=rng, dtype="float64"), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3 * 9, 4, rng=rng, dtype="float64"))


def _numerical_gradient(model, x, cls, h=1e-6):
    """Central differences of the class score, pixel by pixel (independent of backprop)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        with gg.no_grad():
            f_plus = model(gg.tensor(plus[None])).numpy()[0, cls]
            f_minus = model(gg.tensor(minus[None])).numpy()[0, cls]
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def test_saliency_equals_the_numerical_gradient_max_over_channels():
    model = _tiny_model()
    x = np.random.default_rng(1).standard_normal((2, 6, 6))
    for cls in (0, 3):
        numerical = _numerical_gradient(model, x, cls)
        np.testing.assert_allclose(input_gradient(model, x, cls), numerical, atol=1e-6)
        np.testing.assert_allclose(saliency_map(model, x, cls), np.abs(numerical).max(axis=0),
                                   atol=1e-6)


def test_batched_saliency_uses_each_images_own_target_and_leaves_weights_alone():
    model = _tiny_model()
    x = np.random.default_rng(2).standard_normal((3, 2, 6, 6))
    maps = saliency_map(model, x, [0, 1, 2])
    assert maps.shape == (3, 6, 6)
    for i, cls in enumerate([0, 1, 2]):
        np.testing.assert_allclose(maps[i], saliency_map(model, x[i], cls), atol=1e-12)
    assert all(p.grad is None for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())


def test_default_target_is_the_predicted_class():
    model = _tiny_model()
    x = np.random.default_rng(3).standard_normal((2, 6, 6))
    with gg.no_grad():
        predicted = int(model(gg.tensor(x[None])).numpy().argmax())
    np.testing.assert_array_equal(saliency_map(model, x), saliency_map(model, x, predicted))
