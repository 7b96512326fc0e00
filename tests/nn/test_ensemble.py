import numpy as np
import pytest

from graphgrad import nn
from graphgrad.ensemble import Ensemble, average_probabilities
from graphgrad._tensor import Tensor


def fixed_linear(weight):
    layer = nn.Linear(2, 3, dtype="float64")
    layer.load_state_dict({"weight": np.asarray(weight, dtype=np.float64), "bias": np.zeros(3)})
    return layer


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_ensemble_averages_probabilities():
    a = fixed_linear([[1, 0], [0, 1], [0, 0]])
    b = fixed_linear([[0, 0], [2, 0], [0, -1]])
    x = np.array([[1.0, 2.0], [-1.0, 0.5]])
    expected = (softmax(x @ np.array([[1, 0], [0, 1], [0, 0]]).T)
                + softmax(x @ np.array([[0, 0], [2, 0], [0, -1]]).T)) / 2
    np.testing.assert_allclose(average_probabilities([a, b], x), expected, rtol=1e-10)
    ensemble = Ensemble([a, b])
    np.testing.assert_allclose(np.exp(ensemble(Tensor(x)).numpy()), expected, rtol=1e-10)
    assert [n for n, _ in ensemble.named_parameters()][0] == "members.0.weight"
    assert "2 members" in repr(ensemble)


def test_ensemble_needs_members():
    with pytest.raises(ValueError, match="at least one model"):
        Ensemble([])
    with pytest.raises(ValueError, match="at least one model"):
        average_probabilities([], np.zeros((1, 2)))
