import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.inspection import (ModelError, feature_maps, first_layer_kernels, kernel_correlation,
                               mean_abs_off_diagonal)


def _reference_conv(x, w, b, pad):
    """Plain loops: cross-correlation of one image (C, H, W) with w (O, C, k, k), zero padding."""
    _c, h, wd = x.shape
    o, _, k, _ = w.shape
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((o, h + 2 * pad - k + 1, wd + 2 * pad - k + 1))
    for oc in range(o):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[oc, i, j] = np.sum(padded[:, i:i + k, j:j + k] * w[oc]) + b[oc]
    return out


def _model():
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=rng, dtype="float64"), nn.ReLU(),
                          nn.Flatten(), nn.Linear(3 * 25, 4, rng=rng, dtype="float64"))
    model[0].bias.data = rng.standard_normal(3)
    return model


def test_feature_maps_of_a_layer_equal_a_hand_computed_convolution():
    model = _model()
    x = np.random.default_rng(2).standard_normal((2, 5, 5))
    conv = model[0]
    expected = _reference_conv(x, conv.weight.numpy(), conv.bias.numpy(), 1)
    np.testing.assert_allclose(feature_maps(model, x, "0"), expected, atol=1e-12)
    # the same layer through an op selector, and after the ReLU, and for a batch
    # the fused conv node itself comes before the bias is added
    np.testing.assert_allclose(feature_maps(model, x, "conv:0"),
                               expected - conv.bias.numpy()[:, None, None], atol=1e-12)
    np.testing.assert_allclose(feature_maps(model, x, "relu:0"), np.maximum(expected, 0))
    batch = feature_maps(model, np.stack([x, x]), "1")
    assert batch.shape == (2, 3, 5, 5)


def test_feature_maps_work_on_a_plain_function():
    w = gg.tensor(np.random.default_rng(3).standard_normal((2, 1, 3, 3)))
    from graphgrad.composites.conv import conv2d

    def model(x):
        return gg.relu(conv2d(x, w)).reshape((x.shape[0], -1))

    x = np.random.default_rng(4).standard_normal((1, 6, 6))
    expected = np.maximum(_reference_conv(x, w.numpy(), np.zeros(2), 0), 0)
    np.testing.assert_allclose(feature_maps(model, x, "relu"), expected, atol=1e-12)
    np.testing.assert_allclose(first_layer_kernels(model, x), w.numpy())


def test_unknown_layer_names_the_valid_ones():
    with pytest.raises(ModelError, match=r"no layer 'conv9'.*'0'.*relu"):
        feature_maps(_model(), np.zeros((2, 5, 5)), "conv9")


def test_first_layer_kernels_of_a_module_are_its_first_conv_weight():
    model = _model()
    np.testing.assert_array_equal(first_layer_kernels(model), model[0].weight.numpy())
    np.testing.assert_array_equal(first_layer_kernels(model, np.zeros((2, 5, 5))),
                                  model[0].weight.numpy())


def test_kernel_correlation_matches_numpy_corrcoef():
    w = np.random.default_rng(5).standard_normal((6, 2, 3, 3))
    np.testing.assert_allclose(kernel_correlation(w), np.corrcoef(w.reshape(6, -1)), atol=1e-12)
    copies = np.stack([w[0], 2 * w[0], -w[0]])
    corr = kernel_correlation(copies)
    np.testing.assert_allclose(corr, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]], atol=1e-12)
    assert mean_abs_off_diagonal(corr) == pytest.approx(1.0)
