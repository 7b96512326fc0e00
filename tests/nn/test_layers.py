"""Layer forward values against NumPy, and gradient checks of every layer's parameters."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad._tensor import Tensor


# `rng` (a fresh default_rng(0) per test) comes from tests/conftest.py


def gradcheck_layer(layer, x):
    """gg.gradcheck of layer(x) with respect to x and each of the layer's own parameters."""
    names = [name for name, _ in layer.named_parameters()]
    assert all("." not in name for name in names)
    originals = {name: getattr(layer, name) for name in names}

    def through_layer(x, *params):
        for name, value in zip(names, params):
            object.__setattr__(layer, name, value)
        try:
            return layer(x)
        finally:
            for name, value in originals.items():
                object.__setattr__(layer, name, value)

    through_layer.__name__ = type(layer).__name__
    arrays = [x] + [np.asarray(p.data, dtype=np.float64) for p in originals.values()]
    assert gg.gradcheck(through_layer, arrays)


def test_linear_values_and_gradients(rng):
    layer = nn.Linear(4, 3, rng=0, dtype="float64")
    layer.bias.data = rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    out = layer(Tensor(x))
    np.testing.assert_allclose(out.numpy(), x @ layer.weight.data.T + layer.bias.data)
    gradcheck_layer(layer, x)
    no_bias = nn.Linear(4, 2, bias=False, rng=0, dtype="float64")
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    gradcheck_layer(no_bias, x)


def test_linear_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"input has 5 features \(shape \(2, 5\)\), expected 4"):
        nn.Linear(4, 3)(Tensor(np.zeros((2, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 3)


@pytest.mark.parametrize("module, reference", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Identity(), lambda x: x),
])
def test_activation_modules(module, reference, rng):
    x = rng.standard_normal((3, 4))
    x[np.abs(x) < 1e-2] = 0.5  # keep finite differences away from relu's kink
    np.testing.assert_allclose(module(Tensor(x)).numpy(), reference(x), rtol=1e-6)
    gradcheck_layer(module, x)


def test_flatten(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    assert nn.Flatten()(Tensor(x)).shape == (2, 60)
    assert nn.Flatten(start_dim=2)(Tensor(x)).shape == (2, 3, 20)
    gradcheck_layer(nn.Flatten(), x)


def test_parameter_gradients_reach_every_parameter_of_a_model(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=1, dtype="float64"), nn.Tanh(),
                          nn.Linear(4, 2, rng=2, dtype="float64"))
    loss = gg.cross_entropy(model(Tensor(rng.standard_normal((6, 3)))), np.arange(6) % 2)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.abs(p.grad.numpy()).sum() > 0, name


def reference_conv2d(x, w, b, stride, padding):
    """Direct loops over the cross-correlation definition (independent of the engine)."""
    n, _c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (wd + 2 * padding - kw) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return y + b[None, :, None, None]


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_conv2d_values_and_gradients(stride, padding, rng):
    layer = nn.Conv2d(2, 3, 3, stride=stride, padding=padding, rng=0, dtype="float64")
    layer.bias.data = rng.standard_normal(3)
    x = rng.standard_normal((2, 2, 5, 5))
    np.testing.assert_allclose(layer(Tensor(x)).numpy(),
                               reference_conv2d(x, layer.weight.data, layer.bias.data, stride,
                                                padding), atol=1e-10)
    gradcheck_layer(layer, x)


def test_conv2d_groups_and_errors(rng):
    layer = nn.Conv2d(4, 2, 1, groups=2, rng=0, dtype="float64")
    assert layer.weight.shape == (2, 2, 1, 1)
    gradcheck_layer(layer, rng.standard_normal((1, 4, 2, 2)))
    assert "groups=2" in repr(layer)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 2, 1, groups=2)
    with pytest.raises(ValueError, match=r"shape \(N, 4, H, W\), got \(1, 3, 2, 2\)"):
        layer(Tensor(np.zeros((1, 3, 2, 2))))
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (1, 2, 3))


def tie_free(shape, seed=0):
    """Distinct values (a shuffled grid), so max pooling has no ties for finite differences."""
    values = np.linspace(-2, 2, int(np.prod(shape)))
    return np.random.default_rng(seed).permutation(values).reshape(shape)


def test_max_and_avg_pool_values_and_gradients():
    x = tie_free((2, 3, 4, 4))
    windows = x.reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    np.testing.assert_allclose(nn.MaxPool2d(2)(Tensor(x)).numpy(), windows.max(axis=(4, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(Tensor(x)).numpy(), windows.mean(axis=(4, 5)))
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.MaxPool2d(3, stride=1, padding=1)):
        gradcheck_layer(layer, x)
    assert "stride=(1, 1), padding=(1, 1)" in repr(nn.MaxPool2d(3, stride=1, padding=1))


def test_max_pool_layer_passes_dilation_and_returns_the_switches():
    """The layer is the functional max_pool2d with the same arguments (PyTorch's signature)."""
    x = tie_free((2, 3, 7, 7))
    layer = nn.MaxPool2d(2, stride=2, dilation=2, return_indices=True)
    values, indices = layer(Tensor(x))
    expected, expected_indices = gg.max_pool2d(Tensor(x), 2, stride=2, dilation=2,
                                               return_indices=True)
    np.testing.assert_array_equal(values.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    # dilation 2: the window of output (0, 0) is input rows and columns 0 and 2
    np.testing.assert_array_equal(values.numpy()[:, :, 0, 0], x[:, :, ::2, ::2][:, :, :2, :2]
                                  .max(axis=(2, 3)))
    assert "dilation=(2, 2), return_indices=True" in repr(layer)
    gradcheck_layer(nn.MaxPool2d(3, stride=1, dilation=2), x)


def test_lp_pool_is_the_l2_norm_of_each_window():
    x = tie_free((1, 2, 4, 4))
    windows = x.reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    np.testing.assert_allclose(nn.LPPool2d(2, 2)(Tensor(x)).numpy(),
                               np.sqrt((windows**2).sum(axis=(4, 5))), rtol=1e-6)
    gradcheck_layer(nn.LPPool2d(2, 2), x)
    with pytest.raises(ValueError, match="p must be a finite number >= 1"):
        nn.LPPool2d(0.5, 2)


def test_maxout_takes_the_max_of_consecutive_channels():
    x = tie_free((2, 6, 3, 3))
    expected = x.reshape(2, 3, 2, 3, 3).max(axis=2)
    np.testing.assert_allclose(nn.Maxout(2)(Tensor(x)).numpy(), expected)
    gradcheck_layer(nn.Maxout(2), x)
    with pytest.raises(ValueError, match="6 channels are not divisible by 4"):
        nn.Maxout(4)(Tensor(x))


def test_dropout_train_and_eval():
    x = np.ones((200, 50))
    layer = nn.Dropout(0.25, rng=0)
    y = layer(Tensor(x)).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75)  # inverted dropout scales the survivors
    layer.eval()
    np.testing.assert_array_equal(layer(Tensor(x)).numpy(), x)
    scale = nn.Dropout(0.25, mode="scale_at_test", rng=0)
    assert set(np.unique(scale(Tensor(x)).numpy())) == {0.0, 1.0}
    scale.eval()
    np.testing.assert_allclose(scale(Tensor(x)).numpy(), 0.75)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        nn.Dropout(1.0)
    with pytest.raises(ValueError, match="mode must be 'inverted' or 'scale_at_test'"):
        nn.Dropout(0.5, mode="test")


def test_dropout_gradient_with_a_fixed_mask(rng):
    # the same seed gives the same mask, so the function is deterministic for gradcheck
    x = rng.standard_normal((4, 5))

    def dropped(t):
        return nn.Dropout(0.5, rng=3)(t)

    assert gg.gradcheck(dropped, [x])


def test_lenet_shapes_names_and_gradcheck(rng):
    model = nn.LeNet(channels=(2, 3), hidden=4, dropout=0.0, rng=0)
    out = model(Tensor(np.zeros((2, 1, 8, 8), dtype=np.float32)))
    assert out.shape == (2, 10)
    assert [n for n, _ in model.named_parameters()][:2] == ["conv1.weight", "conv1.bias"]
    assert model.features(Tensor(np.zeros((1, 1, 8, 8), dtype=np.float32))).shape == (1, 48)
    # every parameter of the whole model against finite differences, in float64
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    x = rng.standard_normal((2, 1, 8, 8))

    def whole_model(x, *values):
        saved = {}
        for name, value in zip(names, values):
            layer, attribute = name.split(".")
            module = getattr(model, layer)
            saved[name] = getattr(module, attribute)
            object.__setattr__(module, attribute, value)
        try:
            return model(x)
        finally:
            for name, value in saved.items():
                layer, attribute = name.split(".")
                object.__setattr__(getattr(model, layer), attribute, value)

    assert gg.gradcheck(whole_model, [x] + [params[n].data.astype(np.float64) for n in names])
