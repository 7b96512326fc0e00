import numpy as np
import pytest

import graphgrad as gg
from graphgrad.inspection import ModelError, fgsm, targeted_perturbation


def test_fgsm_on_a_linear_softmax_model_steps_along_the_sign_of_the_known_gradient():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 8))
    x = rng.standard_normal((5, 2, 2, 2))
    y = np.array([0, 1, 2, 0, 1])

    def linear(images):
        return images.reshape((images.shape[0], 8)) @ gg.tensor(w.T)

    logits = x.reshape(5, 8) @ w.T
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(5), y] -= 1.0
    expected = 0.1 * np.sign(p @ w).reshape(x.shape)   # dCE/dx = W^T (softmax - onehot)
    result = fgsm(linear, x, y, eps=0.1)
    np.testing.assert_allclose(result.perturbation, expected)
    np.testing.assert_allclose(result.adversarial, x + expected)
    np.testing.assert_allclose(result.linf, 0.1)
    np.testing.assert_allclose(result.l2, 0.1 * np.sqrt(8))


def test_fgsm_lowers_the_true_class_probability_of_a_trained_model(trained):
    x, y = trained.data.x_test[:100], trained.data.y_test[:100]
    result = fgsm(trained.model, x, y, eps=0.25)
    assert np.mean(result.probability_after < result.probability_before) >= 0.9
    assert result.success_rate > 0.2
    with gg.no_grad():
        predicted = trained.model(gg.tensor(result.adversarial)).numpy().argmax(axis=1)
    np.testing.assert_array_equal(predicted, result.predicted)
    assert "success rate" in result.summary()


def test_targeted_perturbation_reaches_the_target_with_a_small_perturbation(trained):
    data = trained.data
    x, y = data.x_test[:8], data.y_test[:8]
    targets = (y + 3) % 10
    result = targeted_perturbation(trained.model, x, targets, steps=40, search_steps=4)
    assert result.success_rate >= 0.75
    with gg.no_grad():
        predicted = trained.model(gg.tensor(result.adversarial)).numpy().argmax(axis=1)
    np.testing.assert_array_equal(predicted[result.success], targets[result.success])
    np.testing.assert_allclose(result.l2,
                               np.linalg.norm(result.perturbation.reshape(8, -1), axis=1),
                               rtol=1e-5)
    # far smaller than moving to the nearest training image of the target class
    train = data.x_train.reshape(len(data.x_train), -1)
    for i in np.flatnonzero(result.success):
        same = train[data.y_train == targets[i]]
        nearest = np.linalg.norm(same - x[i].ravel(), axis=1).min()
        assert result.l2[i] < 0.6 * nearest
    # the line search leaves it minimal along its direction: 80% of it no longer succeeds
    with gg.no_grad():
        shorter = trained.model(gg.tensor(x + 0.8 * result.perturbation)).numpy().argmax(axis=1)
    assert np.mean(shorter[result.success] != targets[result.success]) >= 0.75


def test_bad_labels_are_named():
    with pytest.raises(ModelError, match="one per image"):
        fgsm(lambda t: t.reshape((t.shape[0], -1)), np.zeros((2, 1, 2, 2)), [0, 1, 2])
