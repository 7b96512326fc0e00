"""The engine on a second, strict array backend: code that only works on NumPy fails here."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.backend import to_numpy


def test_engine_runs_on_device(device):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x = gg.tensor(a, device=device, requires_grad=True)
    w = gg.tensor(b, device=device, requires_grad=True)
    h = gg.tanh(x @ w)
    loss = gg.cross_entropy(h, np.array([0, 1, 1])) + (gg.pad(x, 1)[1:-1, ::2] ** 2).mean() \
        + gg.maximum(h, 0.1).sum() + gg.log_softmax(gg.concatenate([h, h], axis=1), axis=1).sum()
    loss.backward()
    assert x.grad.device is device and w.grad.device is device
    # the same computation on NumPy gives the same gradients
    x_cpu, w_cpu = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    h_cpu = gg.tanh(x_cpu @ w_cpu)
    loss_cpu = gg.cross_entropy(h_cpu, np.array([0, 1, 1])) \
        + (gg.pad(x_cpu, 1)[1:-1, ::2] ** 2).mean() \
        + gg.maximum(h_cpu, 0.1).sum() \
        + gg.log_softmax(gg.concatenate([h_cpu, h_cpu], axis=1), axis=1).sum()
    loss_cpu.backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), x_cpu.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(w.grad.data), w_cpu.grad.numpy(), rtol=1e-10)


def test_gradcheck_on_device(device):
    x = gg.tensor(np.array([[0.3, -1.2], [2.0, 0.1]]), device=device)
    assert gg.gradcheck(lambda t: gg.softmax(t * t, axis=0), [x])
    assert gg.gradgradcheck(lambda t: gg.sigmoid(t).sum(axis=1), [x])


def test_mixing_devices_is_an_error_naming_both():
    a = gg.tensor(np.ones(3), device="strict")
    b = gg.tensor(np.ones(3), device="strict:device1")
    with pytest.raises(gg.DeviceError, match=r"add: .*strict:CPU_DEVICE and strict:device1"):
        a + b
    with pytest.raises(gg.DeviceError, match="different devices"):
        gg.tensor(np.ones(3)) * a


def test_to_device_is_differentiable():
    x = gg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.to("strict:device1") * 3.0
    assert y.device.name == "strict:device1"
    y.to("cpu").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_unknown_device_lists_valid_ones():
    with pytest.raises(gg.DeviceError, match="expected 'cpu', 'cuda'"):
        gg.tensor(1.0, device="tpu")


@pytest.mark.gpu
def test_cuda_backend_matches_numpy():
    x = gg.tensor(np.array([[0.5, -1.0]]), device="cuda", requires_grad=True)
    gg.sigmoid(x).sum().backward()
    s = 1 / (1 + np.exp(-np.array([[0.5, -1.0]])))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s))


def test_conv_and_pooling_run_on_device(device):
    rng = np.random.default_rng(0)
    a, k = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))

    def loss_of(x, w):
        h = gg.relu(gg.conv2d(x, w, padding=1, stride=1))
        return gg.max_pool2d(h, 2).sum() + gg.avg_pool2d(h, 2).sum() + gg.lp_pool2d(h, 2, 2).sum()

    results = []
    for dev in (device, gg.get_device("cpu")):
        x = gg.tensor(a, device=dev, requires_grad=True)
        w = gg.tensor(k, device=dev, requires_grad=True)
        loss_of(x, w).backward()
        assert x.grad.device is dev
        results.append((to_numpy(x.grad.data), to_numpy(w.grad.data)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


@pytest.mark.parametrize("index", [
    lambda x: x > 2.0,                                   # a boolean mask Tensor
    lambda x: np.array([[True, False, True], [False, True, False]]),
    lambda x: np.array([True, False]),                   # a mask over the leading axis
    lambda x: -1,                                        # an int on a matrix (x[-1, ...])
    lambda x: np.int64(1),
    lambda x: (None, Ellipsis, 1),                       # a new axis in the gradient's scatter
    lambda x: (slice(None, None, -1), slice(None, None, -2)),
])
def test_indexing_and_its_gradient_on_device(device, index):
    """Masks, partial and None indices used to fail on the strict array-API backend."""
    a = np.arange(6.0).reshape(2, 3)
    results = []
    for dev in (device, gg.get_device("cpu")):
        x = gg.tensor(a, device=dev, requires_grad=True)
        y = x[index(x)]
        (y * y).sum().backward()
        results.append((to_numpy(y.data), to_numpy(x.grad.data)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_where_with_a_python_bool_condition(device):
    x = gg.tensor(np.array([1.0, 2.0]), device=device, requires_grad=True)
    gg.where(True, x, 0.0).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad.data), [1.0, 1.0])


def test_pickled_and_deep_copied_tensors_stay_on_the_same_device_object(device):
    """A copy holding a second Device object of the same name would be 'another device' to
    every op (and deepcopy of a model failed outright on the tensors' read-only params)."""
    import copy
    import pickle

    x = gg.tensor(np.array([1.0, 2.0]), device=device, requires_grad=True, name="x")
    (x * x).sum().backward()
    for copied in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert copied.device is device and copied.grad.device is device
        assert (copied.requires_grad, copied.name) == (True, "x")
        np.testing.assert_array_equal(to_numpy((copied + x).data), [2.0, 4.0])
        np.testing.assert_array_equal(to_numpy(copied.grad.data), [2.0, 4.0])


def test_reductions_and_clip_on_device(device):
    a = np.array([[0.5, -2.0, 0.0], [3.0, 1.0, -1.0]])
    x, x_cpu = gg.tensor(a, device=device, requires_grad=True), gg.tensor(a, requires_grad=True)
    for t in (x, x_cpu):
        loss = gg.norm(t, axis=1).sum() + gg.logsumexp(t, axis=0).sum() + gg.clip(t, -1, 1).sum()
        loss.backward()
        assert gg.any(t > 2).item() and not gg.all(t > -3, axis=0).numpy().tolist() == [False] * 3
    np.testing.assert_allclose(to_numpy(x.grad.data), x_cpu.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(gg.argmin(x, axis=1).data), [1, 2])
