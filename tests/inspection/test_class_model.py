import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.inspection import class_model


def test_l2_regularised_class_model_of_a_linear_model_is_w_over_2_lambda():
    w = np.random.default_rng(0).standard_normal((3, 16))

    def linear(x):
        return x.reshape((x.shape[0], 16)) @ gg.tensor(w.T)

    result = class_model(linear, target=2, shape=(1, 4, 4), steps=60, lr=0.5, l2=0.5)
    # argmax_I w_c.I - lambda |I|^2  =>  I* = w_c / (2 lambda)
    np.testing.assert_allclose(result.images[0].ravel(), w[2] / (2 * 0.5), atol=1e-5)
    assert result.objective.shape == (60, 1)
    assert result.objective[-1, 0] > result.objective[0, 0]


def test_a_real_image_as_start_moves_by_lr_times_the_regularised_gradient():
    """init=(C, H, W) starts every target's image there; one step is I + lr (w_c - 2 l2 I) for a
    linear model (its class score's gradient is the row w_c)."""
    rng = np.random.default_rng(2)
    w, start = rng.standard_normal((3, 16)), rng.standard_normal((1, 4, 4))

    def linear(x):
        return x.reshape((x.shape[0], 16)) @ gg.tensor(w.T)

    result = class_model(linear, target=[0, 2], init=start, steps=1, lr=0.1, l2=0.5)
    for image, target in zip(result.images, [0, 2]):
        np.testing.assert_allclose(image.ravel(), start.ravel() + 0.1 * (w[target] - start.ravel()))
    np.testing.assert_allclose(result.objective[0], [w[0] @ start.ravel(), w[2] @ start.ravel()])
    with pytest.raises(gg.inspection.ModelError, match=r"init image must be \(C, H, W\)"):
        class_model(linear, target=[0, 2], init=np.zeros((3, 1, 4, 4)))
    with pytest.raises(gg.inspection.ModelError, match="init must be 'zeros', 'noise'"):
        class_model(linear, init="ones", shape=(1, 4, 4))
    with pytest.raises(gg.inspection.ModelError, match="give shape="):
        class_model(linear, init="noise")


def test_maximising_one_conv_unit_paints_its_kernel_in_its_window():
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng, dtype="float64"), nn.Flatten(),
                          nn.Linear(2 * 16, 3, rng=rng, dtype="float64"))
    result = class_model(model, layer="0", unit=(1, 2, 0), shape=(1, 6, 6), steps=80, lr=0.5,
                         l2=0.25)
    expected = np.zeros((6, 6))
    expected[2:5, 0:3] = model[0].weight.numpy()[1, 0] / (2 * 0.25)
    np.testing.assert_allclose(result.images[0, 0], expected, atol=1e-5)


def test_class_models_of_the_trained_cnn_are_classified_as_their_class(trained):
    result = class_model(trained.model, list(range(10)), shape=(1, 8, 8), init="noise", steps=60,
                         lr=0.2, l2=0.05, blur_every=4, blur_sigma=0.5, clip_norm=20)
    with gg.no_grad():
        predicted = trained.model(gg.tensor(result.images)).numpy().argmax(axis=1)
    assert np.sum(predicted == np.arange(10)) >= 8
    # clipping at the 20th percentile of pixel norms zeroes about a fifth of each image
    zeros = (result.images == 0).reshape(10, -1).mean(axis=1)
    assert np.all(zeros >= 0.15)


def test_a_dead_starting_point_warns_instead_of_returning_the_start_silently():
    def dead_at_zero(x):
        h = gg.relu(x.reshape((x.shape[0], 4)) - 1.0)
        return gg.stack([h.sum(axis=1), -h.sum(axis=1)], axis=1)

    with pytest.warns(RuntimeWarning, match="init='noise'"):
        result = class_model(dead_at_zero, 0, shape=(1, 2, 2), steps=2)
    assert not result.images.any()
