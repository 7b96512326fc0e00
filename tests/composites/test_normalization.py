"""batch_norm, layer_norm, group_norm: values and gradients against a hand-written NumPy closed
form (cs231n's batch-norm backward), argument errors, running statistics, and the registry specs
(NORM_SPECS, merged into composite_specs.py: fused == expanded, 1st and 2nd derivatives)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad.composites.normalization import batch_norm, group_norm, layer_norm
from graphgrad.errors import ArgumentError, ShapeError
from graphgrad.testing import strategies as gst

EPS = 1e-5


def _spread(data, shape):
    """Values at least 0.4 apart within any group (a permuted ramp plus noise), so no group is
    nearly constant: there 1/sqrt(var + eps) makes central differences meaningless."""
    size = int(np.prod(shape))
    order = np.array(data.draw(st.permutations(range(size)), label="order"), dtype=np.float64)
    noise = data.draw(gst.arrays(shape, "unit"), label="noise") * 0.3
    return 0.7 * (order.reshape(shape) - size / 2) / max(1.0, size / 8) + noise


def _draw_batch_norm(data):
    n = data.draw(st.integers(1, 3), label="n")
    c = data.draw(st.integers(1, 3), label="c")
    spatial = data.draw(gst.shapes(max_dims=2, max_side=3), label="spatial")
    if n * int(np.prod(spatial)) < 2:
        n = 2
    x = _spread(data, (n, c) + spatial)
    weight = data.draw(gst.arrays((c,)), label="weight")
    bias = data.draw(gst.arrays((c,)), label="bias")
    return (lambda a, w, b: batch_norm(a, None, None, w, b, training=True)), [x, weight, bias]


def _draw_layer_norm(data):
    shape = data.draw(gst.shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    k = data.draw(st.integers(1, len(shape)), label="k")
    normalized = shape[len(shape) - k:]
    x = _spread(data, shape)
    weight = data.draw(gst.arrays(normalized), label="weight")
    return (lambda a, w: layer_norm(a, normalized, w, None)), [x, weight]


def _draw_group_norm(data):
    n = data.draw(st.integers(1, 2), label="n")
    groups = data.draw(st.integers(1, 3), label="groups")
    c = groups * data.draw(st.integers(1, 2), label="per_group")
    spatial = data.draw(gst.shapes(max_dims=2, max_side=3), label="spatial")
    x = _spread(data, (n, c) + spatial)
    bias = data.draw(gst.arrays((c,)), label="bias")
    return (lambda a, b: group_norm(a, groups, None, b)), [x, bias]


NORM_SPECS = {"batch_norm": _draw_batch_norm, "layer_norm": _draw_layer_norm,
              "group_norm": _draw_group_norm}
NORM_SMOOTH = set(NORM_SPECS)


# ----------------------------------------------------------------------------- closed form
def numpy_batch_norm(x, gamma, beta, dout, eps=EPS):
    """The lecture notes' batch norm forward and backward, written out in NumPy (cs231n)."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu = x.sum(axis=axes, keepdims=True) / m
    var = ((x - mu) ** 2).sum(axis=axes, keepdims=True) / m
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    out = gamma.reshape(shape) * xhat + beta.reshape(shape)
    dxhat = dout * gamma.reshape(shape)
    dx = inv_std / m * (m * dxhat - dxhat.sum(axis=axes, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))
    return out, dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3, 3), (2, 3, 4)])
@pytest.mark.parametrize("expand", [False, True])
def test_batch_norm_training_matches_the_closed_form(shape, expand, rng):
    x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    out, dx, dgamma, dbeta = numpy_batch_norm(x, gamma, beta, dout)
    xt, w, b = (gg.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    with gg.expand_composites(expand):
        y = batch_norm(xt, None, None, w, b, training=True)
    y.backward(gg.tensor(dout))
    np.testing.assert_allclose(y.numpy(), out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), dgamma, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), dbeta, rtol=1e-10, atol=1e-12)


def test_batch_norm_fused_node_and_expansion_gates(rng):
    x = gg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    fused = batch_norm(x, None, None, training=True)
    assert fused.op.composite is gg.COMPOSITES["batch_norm"]
    with gg.expand_composites():
        expanded = batch_norm(x, None, None, training=True)
    gates, stack, seen = set(), [expanded], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node.op is None:
            continue
        seen.add(id(node))
        gates.add(node.op.name)
        stack.extend(node.inputs)
    assert {"sum", "reciprocal", "pow", "mul"} <= gates, gates


def test_running_statistics_follow_pytorch_rule(device, rng):
    x = rng.standard_normal((6, 3, 2, 2)) * 2.0 + 1.0
    rm = gg.tensor(np.full(3, 0.5), device=device)
    rv = gg.tensor(np.full(3, 2.0), device=device)
    batch_norm(gg.tensor(x, device=device), rm, rv, training=True, momentum=0.25)
    mean = x.mean(axis=(0, 2, 3))
    unbiased = x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(rm.numpy(), 0.75 * 0.5 + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.75 * 2.0 + 0.25 * unbiased, rtol=1e-12)


def test_eval_uses_running_statistics(rng):
    x = rng.standard_normal((3, 2, 2))
    rm, rv = np.array([0.3, -1.0]), np.array([4.0, 0.25])
    w, b = np.array([2.0, -1.0]), np.array([0.5, 0.0])
    y = batch_norm(gg.tensor(x), gg.tensor(rm), gg.tensor(rv), gg.tensor(w), gg.tensor(b))
    expected = (x - rm[None, :, None]) / np.sqrt(rv[None, :, None] + EPS) * w[None, :, None] \
        + b[None, :, None]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_layer_and_group_norm_match_numpy(rng):
    x = rng.standard_normal((2, 4, 3, 3))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    flat = x.reshape(2, 2, -1)
    expected = ((flat - flat.mean(-1, keepdims=True)) / np.sqrt(flat.var(-1, keepdims=True) + EPS)
                ).reshape(x.shape) * w[None, :, None, None] + b[None, :, None, None]
    got = group_norm(gg.tensor(x), 2, gg.tensor(w), gg.tensor(b))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    lw = rng.standard_normal((3, 3))
    mu, var = x.mean((2, 3), keepdims=True), x.var((2, 3), keepdims=True)
    got = layer_norm(gg.tensor(x), (3, 3), gg.tensor(lw))
    np.testing.assert_allclose(got.numpy(), (x - mu) / np.sqrt(var + EPS) * lw, rtol=1e-10)


@pytest.mark.parametrize("call, message", [
    (lambda x: batch_norm(x, None, None, training=False), "running_mean and running_var"),
    (lambda x: batch_norm(x[:1, :, :1], None, None, training=True), "more than 1 value"),
    (lambda x: batch_norm(x, gg.zeros(2), gg.ones(3), training=True), "running_mean must have"),
    (lambda x: batch_norm(x, None, None, training="yes"), "training must be a bool"),
    (lambda x: layer_norm(x, (2, 3)), "trailing axes"),
    (lambda x: group_norm(x, 2), "positive divisor of the 3"),
    (lambda x: group_norm(x, 1.5), "num_groups must be an int"),
])
def test_bad_arguments_are_named(call, message):
    x = gg.tensor(np.ones((2, 3, 4)))
    with pytest.raises((ArgumentError, ShapeError), match=message):
        call(x)


def test_torch_agrees_on_training_step_and_running_stats(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((5, 3, 4, 4))
    dout = rng.standard_normal(x.shape)
    tx = torch.tensor(x, requires_grad=True)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    w_t = torch.tensor(rng.standard_normal(3), requires_grad=True)
    ty = torch.nn.functional.batch_norm(tx, rm_t, rv_t, w_t, None, training=True, momentum=0.1)
    ty.backward(torch.tensor(dout))
    gx, gw = gg.tensor(x, requires_grad=True), gg.tensor(w_t.detach().numpy(), requires_grad=True)
    rm, rv = gg.zeros(3), gg.ones(3)
    y = batch_norm(gx, rm, rv, gw, None, training=True, momentum=0.1)
    y.backward(gg.tensor(dout))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gw.grad.numpy(), w_t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rm.numpy(), rm_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), rv_t.numpy(), rtol=1e-12)
    tg = torch.nn.functional.group_norm(torch.tensor(x), 3)
    np.testing.assert_allclose(group_norm(gg.tensor(x), 3).numpy(), tg.numpy(), rtol=1e-10,
                               atol=1e-12)


@given(data=st.data())
def test_specs_are_gradcheckable_on_the_strict_backend(data):
    name = data.draw(st.sampled_from(sorted(NORM_SPECS)), label="op")
    fn, arrays = NORM_SPECS[name](data)
    strict = gg.get_device("strict")
    tensors = [gg.tensor(a, device=strict, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * out).sum().backward()
    cpu = [gg.tensor(a, requires_grad=True) for a in arrays]
    ref = fn(*cpu)
    (ref * ref).sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for s, c in zip(tensors, cpu):
        np.testing.assert_allclose(s.grad.numpy(), c.grad.numpy(), rtol=1e-10, atol=1e-12)
