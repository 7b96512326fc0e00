import numpy as np
import pytest

import graphgrad as gg
from graphgrad.composites.conv import conv2d
from graphgrad.inspection import (ModelError, accuracy_with_rank, rank_errors,
                               separable_approximation, separable_conv2d)


def _rank2_kernel():
    """3 u1 v1^T + 1 u2 v2^T with orthonormal u's and v's: singular values 3 and 1, known."""
    u = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 2)))[0]
    v = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 2)))[0]
    return 3 * np.outer(u[:, 0], v[:, 0]) + np.outer(u[:, 1], v[:, 1])


def test_error_per_rank_of_a_kernel_with_known_singular_values():
    errors = rank_errors(_rank2_kernel())
    np.testing.assert_allclose(errors, [1 / np.sqrt(10), 0, 0, 0, 0], atol=1e-12)
    one = separable_approximation(_rank2_kernel(), 1)
    assert np.linalg.matrix_rank(one.weight[0, 0]) == 1
    np.testing.assert_allclose(np.linalg.norm(one.weight - _rank2_kernel()), 1.0, atol=1e-12)
    np.testing.assert_allclose(separable_approximation(_rank2_kernel(), 2).weight[0, 0],
                               _rank2_kernel(), atol=1e-12)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
def test_separable_passes_equal_conv2d_with_the_approximated_weight(stride, padding, dilation):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    x = gg.tensor(rng.standard_normal((2, 3, 9, 9)))
    for rank in (1, 2, 3):
        factors = separable_approximation(w, rank)
        fast = separable_conv2d(x, factors, b, stride=stride, padding=padding, dilation=dilation)
        slow = conv2d(x, gg.tensor(factors.weight), gg.tensor(b), stride=stride, padding=padding,
                      dilation=dilation)
        np.testing.assert_allclose(fast.numpy(), slow.numpy(), atol=1e-10)
    exact = conv2d(x, gg.tensor(w), gg.tensor(b), stride=stride, padding=padding,
                   dilation=dilation)
    np.testing.assert_allclose(fast.numpy(), exact.numpy(), atol=1e-10)   # full rank: exact


def test_accuracy_with_rank_runs_the_approximated_layer_and_restores_it(trained):
    model, data = trained.model, trained.data
    x, y = data.x_test[:150], data.y_test[:150]
    before = model[0].weight.numpy().copy()
    accuracies = accuracy_with_rank(model, "0.weight", x, y)
    np.testing.assert_array_equal(model[0].weight.numpy(), before)
    with gg.no_grad():
        baseline = float(np.mean(model(gg.tensor(x)).numpy().argmax(axis=1) == y))
    assert sorted(accuracies) == [1, 2, 3]
    assert accuracies[3] == pytest.approx(baseline)
    with pytest.raises(ModelError, match="conv weights: \\['0.weight', '3.weight'\\]"):
        accuracy_with_rank(model, "conv1.weight", x, y)
