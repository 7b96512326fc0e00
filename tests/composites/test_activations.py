"""Activations and losses: closed forms, stability for large inputs, PyTorch-like conventions."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.errors import ArgumentError


def test_sigmoid_local_gradient_is_sigma_one_minus_sigma():
    x = gg.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    s = gg.sigmoid(x)
    s.sum().backward()
    expected_s = 1 / (1 + np.exp(-np.array([-2.0, 0.0, 3.0])))
    np.testing.assert_allclose(s.numpy(), expected_s)
    np.testing.assert_allclose(x.grad.numpy(), expected_s * (1 - expected_s))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_logits_stay_finite(dtype):
    logits = gg.tensor(np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 799.0]], dtype=dtype),
                       requires_grad=True)
    loss = gg.cross_entropy(logits, np.array([0, 2]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad.numpy()))
    assert loss.item() == pytest.approx((0.0 + (1.0 + np.log1p(np.exp(-1.0)))) / 2, rel=1e-5)
    big = gg.tensor(np.array([-1000.0, 1000.0], dtype=dtype))
    assert np.all(np.isfinite(gg.sigmoid(big).numpy()))
    bce = gg.binary_cross_entropy_with_logits(gg.tensor(np.array([500.0, -500.0], dtype=dtype)),
                                              np.array([0.0, 1.0]))
    assert bce.item() == pytest.approx(500.0)


def test_binary_cross_entropy_is_exact_near_0_and_1_and_floored_at_100_on_them():
    """PyTorch's rule: each log is exact down to -100, where it stops (p = 0 or 1 stays finite).
    An eps added inside the log gave -log(1e-13 + 1e-12) = 27.5 for the first element."""
    probs = gg.tensor(np.array([1e-13, 1.0 - 1e-9, 0.0, 1.0, 0.3]), requires_grad=True)
    target = np.array([1.0, 0.0, 1.0, 0.0, 0.25])
    losses = gg.binary_cross_entropy(probs, target, reduction="none")
    expected = [13 * np.log(10), 9 * np.log(10), 100.0, 100.0,
                -(0.25 * np.log(0.3) + 0.75 * np.log(0.7))]
    np.testing.assert_allclose(losses.numpy(), expected, rtol=1e-6)
    losses.sum().backward()
    grad = probs.grad.numpy()
    np.testing.assert_allclose(grad[[0, 4]], [-1e13, -0.25 / 0.3 + 0.75 / 0.7], rtol=1e-6)
    assert np.all(np.isfinite(grad))


def test_softmax_rows_sum_to_one():
    p = gg.softmax(gg.tensor(np.random.default_rng(0).standard_normal((4, 5))), axis=1)
    np.testing.assert_allclose(p.numpy().sum(axis=1), 1.0)


def test_cross_entropy_integer_and_one_hot_agree():
    logits = np.random.default_rng(1).standard_normal((3, 4))
    labels = np.array([3, 0, 1])
    a = gg.cross_entropy(gg.tensor(logits), labels).item()
    b = gg.cross_entropy(gg.tensor(logits), np.eye(4)[labels]).item()
    reference = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(3), labels])
    assert a == pytest.approx(reference) and b == pytest.approx(reference)


def test_cross_entropy_per_position_is_the_mean_over_every_position():
    """Logits (N, C, H, W) with labels (N, H, W), PyTorch's segmentation form: the same as
    treating every position as a sample of its own (the rows of an (N*H*W, C) matrix)."""
    rng = np.random.default_rng(2)
    logits, labels = rng.standard_normal((2, 3, 4, 5)), rng.integers(0, 3, (2, 4, 5))
    rows = np.moveaxis(logits, 1, -1).reshape(-1, 3)
    reference = np.log(np.exp(rows).sum(axis=1)) - rows[np.arange(40), labels.ravel()]
    per_position = gg.cross_entropy(gg.tensor(logits), labels, reduction="none")
    np.testing.assert_allclose(per_position.numpy(), reference.reshape(2, 4, 5))
    assert gg.cross_entropy(gg.tensor(logits), labels).item() == pytest.approx(reference.mean())
    one_hot = np.moveaxis(np.eye(3)[labels], -1, 1)
    assert gg.cross_entropy(gg.tensor(logits), one_hot).item() == pytest.approx(reference.mean())
    with pytest.raises(gg.ShapeError, match=r"integer labels of shape \(2, 4, 5\)"):
        gg.cross_entropy(gg.tensor(logits), labels[:, :, 0])


def test_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"\[0, 3\] for 4 classes"):
        gg.cross_entropy(gg.tensor(np.zeros((2, 4))), np.array([0, 4]))
    with pytest.raises(gg.ShapeError, match=r"integer labels of shape \(2,\)"):
        gg.cross_entropy(gg.tensor(np.zeros((2, 4))), np.array([0, 1, 2]))


def test_mse_loss_and_the_notes_half_sum():
    y, t = np.array([0.5, 2.0]), np.array([1.0, 1.0])
    assert gg.mse_loss(gg.tensor(y), gg.tensor(t)).item() == pytest.approx(np.mean((y - t) ** 2))
    half_sum = 0.5 * gg.mse_loss(gg.tensor(y), gg.tensor(t), reduction="sum")
    assert half_sum.item() == pytest.approx(0.5 * np.sum((t - y) ** 2))
    with pytest.raises(ArgumentError, match="mse_loss: reduction must be one of 'mean', 'sum', "
                                            "'none', got 'avg'"):
        gg.mse_loss(gg.tensor(y), gg.tensor(t), reduction="avg")


def test_mse_loss_refuses_a_target_array_that_would_broadcast():
    """(N, 1) predictions against an (N,) array target silently became an (N, N) difference."""
    y = gg.tensor(np.ones((4, 1)))
    with pytest.raises(gg.ShapeError,
                       match=r"mse_loss: input shape \(4, 1\) and target shape \(4,\)"):
        gg.mse_loss(y, np.zeros(4))
    assert gg.mse_loss(y, 0.0).item() == 1.0  # a scalar target still broadcasts
