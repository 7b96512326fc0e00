import numpy as np
import pytest

import graphgrad as gg
from graphgrad.nn import Parameter
from graphgrad.optim import SGD, elastic_penalty, l1_penalty, l2_penalty, max_norm_


def weights():
    return [Parameter(np.array([[1.0, -2.0], [0.5, 0.0]])), Parameter(np.array([3.0, -4.0]))]


def test_l2_penalty_value_and_gradient():
    w, b = weights()
    penalty = l2_penalty([w, b], lam=0.1)  # the bias (1-d) is not penalised
    assert penalty.item() == pytest.approx(0.5 * 0.1 * (1 + 4 + 0.25))
    penalty.backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.1 * w.data)
    assert b.grad is None
    assert l2_penalty([w, b], 0.1, weights_only=False).item() == pytest.approx(0.05 * 30.25)


def test_l1_and_elastic_penalties():
    w, b = weights()
    assert l1_penalty([w, b], 0.2).item() == pytest.approx(0.2 * 3.5)
    total = elastic_penalty([w, b], l1=0.2, l2=0.1)
    assert total.item() == pytest.approx(0.2 * 3.5 + 0.05 * 5.25)
    assert gg.gradcheck(lambda t: l1_penalty([t], 0.3), [np.array([[0.7, -1.2], [0.4, 2.0]])])


def test_graph_penalty_matches_optimizer_option():
    w1, _ = weights()
    w2, _ = weights()
    opt1 = SGD([w1], lr=0.5, weight_decay=0.1)
    w1.grad = gg.tensor(np.zeros((2, 2)))
    opt1.step()
    opt2 = SGD([w2], lr=0.5)
    l2_penalty([w2], 0.1).backward()
    opt2.step()
    np.testing.assert_allclose(w1.data, w2.data)


def test_l1_drives_small_weights_to_zero():
    w = Parameter(np.array([[0.05, -0.03, 2.0]]))
    opt = SGD([w], lr=0.01, l1=1.0)
    for _ in range(10):
        w.grad = gg.tensor(np.zeros((1, 3)))
        opt.step()
    assert np.all(np.abs(w.data[0, :2]) <= 0.01) and w.data[0, 2] == pytest.approx(1.9)


def test_max_norm_in_place_and_errors():
    w, b = weights()
    max_norm_([w, b], 1.0)
    np.testing.assert_allclose(np.linalg.norm(w.data, axis=1), [1.0, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(b.data, [3.0, -4.0])
    with pytest.raises(ValueError, match="must be positive"):
        max_norm_([w], 0.0)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        l2_penalty([w], -1.0)
    with pytest.raises(ValueError, match="no parameters to regularise"):
        l1_penalty([b], 1.0)
