"""Module.register_forward_hook / register_forward_pre_hook, as PyTorch's: observe or replace a
module's inputs and output, detach with the returned handle."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.nn import Linear, Module, ReLU, Sequential
from graphgrad.nn.models import LeNet


def test_a_forward_hook_collects_lenet_conv1_feature_maps():
    model = LeNet(rng=0).eval()
    x = gg.tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)), dtype="float32")
    maps = []
    handle = model.conv1.register_forward_hook(lambda m, inputs, out: maps.append(out))
    scores = model(x)
    assert len(maps) == 1 and maps[0].shape == (2, 16, 8, 8)
    np.testing.assert_allclose(maps[0].numpy(), model.conv1(x).numpy())  # the map conv1 makes
    assert len(maps) == 2  # the direct call ran the hook too
    handle.remove()
    np.testing.assert_array_equal(model(x).numpy(), scores.numpy())
    assert len(maps) == 2  # removed: no more calls


def test_a_forward_hook_can_replace_the_output_and_gradients_follow():
    layer = Linear(3, 2, rng=0)
    x = gg.tensor(np.ones((1, 3)), dtype="float32", requires_grad=True)
    plain = layer(x).numpy()
    with layer.register_forward_hook(lambda m, inputs, out: out * 2.0):
        doubled = layer(x)
        doubled.sum().backward()
    np.testing.assert_allclose(doubled.numpy(), 2 * plain, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * layer.weight.numpy().sum(axis=0, keepdims=True),
                               rtol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), plain)  # the context manager removed it


def test_pre_hooks_see_and_replace_the_inputs_in_order():
    model = Sequential(ReLU())
    seen = []
    first = model.register_forward_pre_hook(lambda m, inputs: seen.append(inputs) or None)
    model.register_forward_pre_hook(lambda m, inputs: inputs[0] - 1.0)  # a single value
    model.register_forward_hook(lambda m, inputs, out: seen.append(("post", inputs[0])))
    out = model(gg.tensor(np.array([0.5, 3.0])))
    np.testing.assert_array_equal(out.numpy(), [0.0, 2.0])
    assert isinstance(seen[0], tuple) and seen[0][0].numpy().tolist() == [0.5, 3.0]
    assert seen[1][0] == "post" and seen[1][1].numpy().tolist() == [-0.5, 2.0]  # the new inputs
    first.remove()
    first.remove()  # twice: nothing more happens
    model(gg.tensor(np.array([1.0])))
    assert len(seen) == 3


def test_hooks_must_be_callable():
    class Identity(Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="Identity.register_forward_hook: the hook must be "
                                        "callable, got int"):
        Identity().register_forward_hook(3)
