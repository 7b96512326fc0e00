"""Backward over DAGs: fan-out, several roots, hooks, retain_graph, accumulation, grad transforms."""

import numpy as np
import pytest

import graphgrad as gg


def leaf(value, name=None):
    return gg.tensor(value, requires_grad=True, name=name)


def test_fan_out_accumulates():
    x = leaf(3.0)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3.0 + 1)


def test_diamond_graph_gradient():
    x = leaf(0.5)
    a, b = gg.exp(x), x * 2.0
    (a * b).backward()
    # d/dx [2x e^x] = 2 e^x + 2x e^x
    assert x.grad.item() == pytest.approx(2 * np.exp(0.5) + 2 * 0.5 * np.exp(0.5))


def test_a_node_waits_for_every_consumer_even_when_one_branch_is_a_chain():
    """s feeds exp(s) (made first) and -s (made second). The sweep visits -s first; s must not be
    visited from there while exp(s) is still pending, or its gradient would arrive in two parts
    (and the second would find the graph freed). Same for chains leading into the diamond."""
    a, b = leaf(0.5), leaf(-1.5)
    s = (a * b) * 1.0
    ((gg.exp(s) + (-s)) * 2.0).backward()
    ds = 2.0 * (np.exp(0.5 * -1.5) - 1.0)
    assert a.grad.item() == pytest.approx(ds * -1.5)
    assert b.grad.item() == pytest.approx(ds * 0.5)


def test_several_roots_equal_weighted_sum():
    x = leaf(np.array([1.0, -2.0, 0.5]))
    loss_a, loss_b = (x * x).sum(), gg.exp(x).sum()
    gg.backward([loss_a, loss_b], [2.0, 0.5])
    expected = 2.0 * 2 * x.numpy() + 0.5 * np.exp(x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_gradients_accumulate_until_zeroed():
    x = leaf(2.0)
    (x * 3.0).backward()
    (x * 3.0).backward()
    assert x.grad.item() == 6.0
    x.zero_grad()
    (x * 3.0).backward()
    assert x.grad.item() == 3.0


def test_second_backward_through_freed_graph_raises_with_site():
    x = leaf(2.0)
    y = gg.exp(x) * x
    y.backward()
    with pytest.raises(gg.GraphFreedError, match=r"test_autodiff.py:\d+.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(2.0)
    y = gg.exp(x) * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * (np.exp(2.0) + 2 * np.exp(2.0)))


def test_non_scalar_root_needs_gradient():
    x = leaf(np.ones(3))
    with pytest.raises(gg.BackwardError, match=r"shape \(3,\)"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_root_without_grad_is_an_error():
    with pytest.raises(gg.BackwardError, match="does not require grad"):
        gg.tensor(1.0).backward()


def test_no_grad_records_nothing():
    x = leaf(1.0)
    with gg.no_grad():
        y = x * 2.0
    assert y.op is None and not y.requires_grad and y.inputs == ()


def test_hook_can_inspect_and_replace_gradient():
    x = leaf(1.5)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.item()))
    h.register_hook(lambda g: g * 10.0)
    (h * 3.0).backward()
    assert seen == [3.0]
    assert x.grad.item() == pytest.approx(60.0)


def test_hook_removal():
    x = leaf(1.0)
    remove = x.register_hook(lambda g: g * 0.0)
    remove()
    (x * 2.0).backward()
    assert x.grad.item() == 2.0


def test_retain_grad_on_intermediate():
    x = leaf(2.0)
    h = (x * x).retain_grad()
    (h * 3.0).backward()
    assert h.grad.item() == 3.0


def test_create_graph_gives_differentiable_gradient():
    x = leaf(1.3)
    y = x ** 3.0
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.zero_grad()
    g.backward()
    assert x.grad.item() == pytest.approx(6 * 1.3)


def test_grad_composes():
    f = lambda x: x ** 4.0
    assert gg.grad(f)(gg.tensor(2.0)).item() == pytest.approx(32.0)
    assert gg.grad(gg.grad(f))(gg.tensor(2.0)).item() == pytest.approx(48.0)
    assert gg.grad(gg.grad(gg.grad(f)))(2.0).item() == pytest.approx(48.0)


def test_grad_argnums_and_value_and_grad():
    f = lambda x, y: (x * y * y).sum()
    value, (gx, gy) = gg.value_and_grad(f, argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert value.item() == pytest.approx(1 * 9 + 2 * 16)
    np.testing.assert_allclose(gx.numpy(), [9.0, 16.0])
    np.testing.assert_allclose(gy.numpy(), [6.0, 16.0])


def test_hessian_vector_product():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: 0.5 * (x @ (gg.tensor(a) @ x))
    v = np.array([1.0, -1.0])
    x = gg.tensor(np.array([0.3, 0.7]), requires_grad=True)
    hvp = gg.grad(lambda x: (gg.grad(f)(x) * gg.tensor(v)).sum())(x)
    np.testing.assert_allclose(hvp.numpy(), a @ v)


def test_grad_does_not_touch_dot_grad():
    x = leaf(2.0)
    gg.grad(lambda t: t * t)(x)
    assert x.grad is None


def test_grad_of_unused_argument_is_zero():
    g = gg.grad(lambda x, y: x * 2.0, argnums=1)(gg.tensor(1.0), gg.tensor(np.ones(3)))
    np.testing.assert_array_equal(g.numpy(), np.zeros(3))


def test_broadcast_gradient_reduced_to_input_shape():
    x = leaf(np.ones((2, 3)))
    b = leaf(np.array([1.0, 2.0, 3.0]))
    c = leaf(np.ones((2, 1)))
    (x * b + c).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(c.grad.numpy(), [[3.0], [3.0]])


def test_int_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        gg.tensor(np.arange(3), requires_grad=True)


def test_backward_can_return_every_node_gradient():
    x = leaf(2.0)
    h = x * 3.0
    y = gg.exp(h)
    found = gg.backward([y], return_all=True)
    assert found[id(h)].item() == pytest.approx(np.exp(6.0))
    assert found[id(x)].item() == pytest.approx(3 * np.exp(6.0))
    assert gg.backward([gg.exp(x * 3.0)]) is None


def test_root_gradient_array_takes_the_root_dtype():
    x = leaf(np.ones(3, dtype=np.float32))
    (x * 2.0).backward(np.array([1.0, 2.0, 3.0]))  # a float64 array for a float32 root
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    with pytest.raises(gg.DtypeError, match=r"backward: gradient of dtype float64 .* float32"):
        (x * 2.0).backward(gg.tensor(np.ones(3)))


def test_creation_site_is_the_users_line_on_every_entry_path():
    """Operators, gg functions, compositions and composites (fused and expanded) all record the
    line of user code that built the node (the freed-graph and diagram labels show it)."""
    import inspect

    x = gg.tensor([1.0, 2.0], requires_grad=True)
    line = inspect.currentframe().f_lineno
    built = [x * 2.0, gg.exp(x), x - 1.0, 1 / x, gg.sigmoid(x), gg.conv1d(x.reshape(1, 1, 2),
                                                                         x.reshape(1, 1, 2))]
    with gg.expand_composites():
        expanded = gg.sigmoid(x)
    for node in built:
        assert node.site == f"{__file__}:{line + 1}", node.op.name
    assert expanded.site == f"{__file__}:{line + 4}"
