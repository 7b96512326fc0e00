"""graphgrad.nn.functional against torch.nn.functional's meaning. Expected values come from NumPy
written out by hand, and from torch itself when it is installed."""

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn.functional as F

X = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5) / 10.0


def test_pad_takes_torch_order_last_axis_first():
    out = F.pad(gg.tensor(X), (1, 2, 3, 0), value=-1.0)
    np.testing.assert_array_equal(out.numpy(), np.pad(X, ((0, 0), (0, 0), (3, 0), (1, 2)),
                                                      constant_values=-1.0))
    with pytest.raises(gg.ArgumentError, match="pad: pad must hold"):
        F.pad(gg.tensor(X), (1, 2, 3))


def test_linear_is_x_times_weight_transposed_plus_bias():
    x, w, b = np.ones((4, 3)), np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0])
    np.testing.assert_allclose(F.linear(gg.tensor(x), gg.tensor(w), gg.tensor(b)).numpy(),
                               x @ w.T + b)
    with pytest.raises(gg.ShapeError, match="linear: weight must be"):
        F.linear(gg.tensor(x), gg.tensor(w.T))


def test_unfold_and_fold_use_torch_layout_and_order():
    cols = F.unfold(gg.tensor(X), 2, 1, 1, 2)  # dilation 1, padding 1, stride 2
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert cols.shape == (2, 3 * 4, 3 * 3)
    # column 0 is the top-left window: channel c, offsets (0,0),(0,1),(1,0),(1,1)
    np.testing.assert_allclose(cols.numpy()[1, 4:8, 0], padded[1, 1, 0:2, 0:2].ravel())
    back = F.fold(cols, (4, 5), 2, 1, 1, 2)  # non-overlapping windows: fold(unfold(x)) == x
    np.testing.assert_allclose(back.numpy(), X)


def test_adaptive_avg_pool_embedding_normalize():
    np.testing.assert_allclose(F.adaptive_avg_pool2d(gg.tensor(X), 1).numpy(),
                               X.mean(axis=(2, 3), keepdims=True))
    table = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(F.embedding(np.array([[3, 0]]), gg.tensor(table)).numpy(),
                                  table[[[3, 0]]])
    v = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(F.normalize(gg.tensor(v)).numpy(), [[0.6, 0.8], [0.0, 0.0]])


def test_against_torch_when_installed():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    t = torch.tensor(X)
    np.testing.assert_allclose(F.pad(gg.tensor(X), (1, 2, 3, 0)).numpy(),
                               tf.pad(t, (1, 2, 3, 0)).numpy())
    np.testing.assert_allclose(F.unfold(gg.tensor(X), (2, 3), 2, 1, (1, 2)).numpy(),
                               tf.unfold(t, (2, 3), 2, 1, (1, 2)).numpy())
    cols = tf.unfold(t, 3, 1, 1, 1)
    np.testing.assert_allclose(F.fold(gg.tensor(cols.numpy()), (4, 5), 3, 1, 1, 1).numpy(),
                               tf.fold(cols, (4, 5), 3, 1, 1, 1).numpy())
    np.testing.assert_allclose(F.normalize(gg.tensor(X), dim=2).numpy(),
                               tf.normalize(t, dim=2).numpy(), rtol=1e-12)
