"""gg.autograd: grad on an existing graph (PyTorch's semantics) and the functional transforms
(jacobian both ways, hessian, vjp, jvp, vhp, hvp) against closed forms and central differences."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad import autograd
from graphgrad.errors import ArgumentError, BackwardError, GraphFreedError, ShapeError
from graphgrad.testing import numerical_grad
from graphgrad.testing.strategies import arrays, broadcastable_shapes

F = autograd.functional


def leaf(values):
    return gg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def numerical_jacobian(fn, values, index=0):
    """d fn(*values)_k / d values[index], by central differences of the forward pass only."""
    out = np.asarray(fn(*[gg.tensor(v) for v in values]).numpy())
    rows = [numerical_grad(lambda *ts, k=k: fn(*ts).reshape(-1)[k], list(values))[index]
            for k in range(out.size)]
    return np.stack(rows).reshape(out.shape + np.shape(values[index])) if rows else \
        np.zeros(out.shape + np.shape(values[index]))


def smooth(x, y):
    """Two inputs that broadcast, both used non-linearly."""
    return gg.tanh(x) * y + gg.exp(x * y) * 0.5


# ----- autograd.grad --------------------------------------------------------------------------

def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, -2.0, 0.5]), leaf(3.0)
    y = (w * x * x).sum()
    gx, gw = autograd.grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), 2 * 3.0 * np.array([1.0, -2.0, 0.5]))
    assert gw.item() == pytest.approx(1.0 + 4.0 + 0.25)
    assert x.grad is None and w.grad is None
    (only,) = autograd.grad((x * 2.0).sum(), x)
    np.testing.assert_allclose(only.numpy(), [2.0, 2.0, 2.0])


def test_grad_of_an_unused_input_is_an_error_unless_allowed():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    with pytest.raises(BackwardError, match="input 1 .*not used.*allow_unused=True"):
        autograd.grad((x * x).sum(), [x, unused], retain_graph=True)
    gx, gu = autograd.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert gu is None
    _, gu = autograd.grad((x * x).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(gu.numpy(), [0.0])


def test_grad_checks_what_it_is_given():
    x = leaf([1.0, 2.0])
    y = x * x
    with pytest.raises(BackwardError, match="output 0 has shape \\(2,\\).*grad_outputs"):
        autograd.grad(y, x)
    with pytest.raises(BackwardError, match="input 0 .*does not require grad"):
        autograd.grad(y.sum(), gg.tensor([1.0]))
    with pytest.raises(BackwardError, match="output 0 .*does not require grad"):
        autograd.grad(gg.tensor(1.0), x)
    with pytest.raises(ArgumentError, match="outputs must be a Tensor"):
        autograd.grad(3.0, x)
    with pytest.raises(ArgumentError, match="create_graph must be a bool"):
        autograd.grad(y.sum(), x, create_graph="yes")
    with pytest.raises(ArgumentError, match="2 outputs but 1 grad_outputs"):
        autograd.grad([y, y], x, [gg.ones_like(y)])


def test_grad_with_grad_outputs_is_the_vector_jacobian_product():
    x = leaf([1.0, 2.0, 3.0])
    (g,) = autograd.grad(x * x, x, grad_outputs=gg.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, -6.0])


def test_grad_releases_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = gg.exp(x).sum()
    autograd.grad(y, x, retain_graph=True)
    autograd.grad(y, x)
    with pytest.raises(GraphFreedError):
        autograd.grad(y, x)


def test_create_graph_gives_a_gradient_to_differentiate_again():
    x = leaf([0.3, -1.2])
    (g,) = autograd.grad(gg.sin(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), np.cos([0.3, -1.2]))
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), -np.sin([0.3, -1.2]))


def test_grad_by_an_intermediate_node_and_by_a_node_below_it_counts_every_path():
    """z = 2x; y = sum(z * x): dy/dz = x, dy/dx = z + 2x = 4x (through z too). A sweep that
    stopped at both inputs would give only the direct path: dy/dx = z = 2x."""
    x = leaf([1.0, -3.0])
    z = x * 2.0
    gx, gz = autograd.grad((z * x).sum(), [x, z])
    np.testing.assert_allclose(gx.numpy(), [4.0, -12.0])
    np.testing.assert_allclose(gz.numpy(), [1.0, -3.0])
    (gz_only,) = autograd.grad((gg.exp(z) * x).sum(), z)
    np.testing.assert_allclose(gz_only.numpy(), np.exp([2.0, -6.0]) * [1.0, -3.0])


# ----- closed forms ---------------------------------------------------------------------------

def test_jacobian_of_softmax_is_diag_s_minus_s_s_transposed():
    x = gg.tensor([0.2, -1.0, 2.5, 0.0])
    e = np.exp(x.numpy())
    s = e / e.sum()
    expected = np.diag(s) - np.outer(s, s)
    for strategy in ("reverse-mode", "forward-mode"):
        jac = F.jacobian(lambda t: gg.softmax(t, axis=0), x, strategy=strategy)
        np.testing.assert_allclose(jac.numpy(), expected, atol=1e-15)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transposed():
    a = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [4.0, 0.0, -2.0]])
    x = gg.tensor([0.3, -0.7, 1.1])
    for strategy in ("reverse-mode", "forward-mode"):
        hess = F.hessian(lambda t: gg.matmul(t, gg.matmul(gg.tensor(a), t)), x,
                         outer_jacobian_strategy=strategy)
        np.testing.assert_allclose(hess.numpy(), a + a.T, atol=1e-14)


def test_hessian_of_sum_exp_is_diagonal_exp():
    x = gg.tensor([[0.1, -0.4], [1.3, 0.0]])
    hess = F.hessian(lambda t: gg.exp(t).sum(), x)
    expected = np.zeros((2, 2, 2, 2))
    for i, j in np.ndindex(2, 2):
        expected[i, j, i, j] = np.exp(x.numpy()[i, j])
    np.testing.assert_allclose(hess.numpy(), expected, rtol=1e-15)


def test_hessian_products_of_sum_exp_and_of_a_quadratic_form():
    x, v = gg.tensor([0.5, -1.0, 2.0]), gg.tensor([1.0, 2.0, -3.0])
    for product in (F.hvp, F.vhp):
        value, hv = product(lambda t: gg.exp(t).sum(), x, v)
        assert value.item() == pytest.approx(np.exp([0.5, -1.0, 2.0]).sum())
        np.testing.assert_allclose(hv.numpy(), np.exp([0.5, -1.0, 2.0]) * [1.0, 2.0, -3.0])
    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [5.0, 0.0, 0.0]])  # H = a + a^T, not a
    _, hv = F.hvp(lambda t: gg.matmul(t, gg.matmul(gg.tensor(a), t)), x, v)
    np.testing.assert_allclose(hv.numpy(), (a + a.T) @ v.numpy())


def test_jvp_and_vjp_of_a_matrix_product_are_a_v_and_v_a():
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = gg.tensor([0.5, -1.5])
    value, jv = F.jvp(lambda t: gg.matmul(gg.tensor(a), t), x, gg.tensor([1.0, 1.0]))
    np.testing.assert_allclose(value.numpy(), a @ [0.5, -1.5])
    np.testing.assert_allclose(jv.numpy(), a @ [1.0, 1.0])
    _, vj = F.vjp(lambda t: gg.matmul(gg.tensor(a), t), x, gg.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(vj.numpy(), np.array([1.0, 0.0, -1.0]) @ a)


# ----- against central differences, over random broadcasting shapes ---------------------------

@given(st.data())
def test_jacobians_both_ways_match_central_differences(data):
    sx, sy = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    x = data.draw(arrays(sx))
    y = data.draw(arrays(sy))
    xs = (gg.tensor(x), gg.tensor(y))
    expected = [numerical_jacobian(smooth, (x, y), index) for index in (0, 1)]
    for strategy in ("reverse-mode", "forward-mode"):
        found = F.jacobian(smooth, xs, strategy=strategy)
        assert isinstance(found, tuple) and len(found) == 2
        for block, numeric in zip(found, expected):
            np.testing.assert_allclose(block.numpy(), numeric, rtol=1e-6, atol=1e-8)


@given(st.data())
def test_jvp_vjp_hvp_match_products_with_central_difference_jacobians(data):
    sx, sy = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    x, y = data.draw(arrays(sx)), data.draw(arrays(sy))
    vx, vy = data.draw(arrays(sx)), data.draw(arrays(sy))
    jx, jy = (numerical_jacobian(smooth, (x, y), index) for index in (0, 1))
    out_shape = np.broadcast_shapes(sx, sy)
    u = data.draw(arrays(out_shape))
    flat = (lambda j, n: j.reshape(int(np.prod(out_shape)), n))
    value, jv = F.jvp(smooth, (gg.tensor(x), gg.tensor(y)), (gg.tensor(vx), gg.tensor(vy)))
    expected = flat(jx, x.size) @ vx.reshape(-1) + flat(jy, y.size) @ vy.reshape(-1)
    np.testing.assert_allclose(jv.numpy().reshape(-1), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(value.numpy(), smooth(gg.tensor(x), gg.tensor(y)).numpy())
    _, (ux, uy) = F.vjp(smooth, (gg.tensor(x), gg.tensor(y)), gg.tensor(u))
    np.testing.assert_allclose(ux.numpy().reshape(-1), u.reshape(-1) @ flat(jx, x.size),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(uy.numpy().reshape(-1), u.reshape(-1) @ flat(jy, y.size),
                               rtol=1e-6, atol=1e-8)


def scalar(x, y):
    return (gg.sin(x) * y * y).sum() + gg.exp(x * y).sum()


@given(st.data())
def test_hessian_and_its_products_match_central_differences_of_the_gradient(data):
    """Second order: the Hessian against central differences of the first-order gradient
    (itself checked against central differences of the function by the op specs)."""
    sx, sy = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    x, y = data.draw(arrays(sx)), data.draw(arrays(sy))
    vx, vy = data.draw(arrays(sx)), data.draw(arrays(sy))
    gradient = gg.grad(scalar, argnums=(0, 1))
    blocks = [[numerical_jacobian(lambda a, b, i=i: gradient(a, b)[i], (x, y), j)
               for j in (0, 1)] for i in (0, 1)]
    for strategy in ("reverse-mode", "forward-mode"):
        hess = F.hessian(scalar, (gg.tensor(x), gg.tensor(y)), outer_jacobian_strategy=strategy)
        for i in (0, 1):
            for j in (0, 1):
                np.testing.assert_allclose(hess[i][j].numpy(), blocks[i][j], rtol=1e-5,
                                           atol=1e-7)
    sizes = (x.size, y.size)
    full = np.block([[blocks[i][j].reshape(sizes[i], sizes[j]) for j in (0, 1)] for i in (0, 1)])
    v = np.concatenate([vx.reshape(-1), vy.reshape(-1)])
    for product, expected in ((F.hvp, full @ v), (F.vhp, v @ full)):
        _, (hx, hy) = product(scalar, (gg.tensor(x), gg.tensor(y)), (gg.tensor(vx), gg.tensor(vy)))
        found = np.concatenate([hx.numpy().reshape(-1), hy.numpy().reshape(-1)])
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-7)


def test_jacobian_on_the_strict_backend_matches_numpy(device):
    x = np.array([[0.3, -0.2, 1.0]])
    y = np.array([[0.5], [-1.5]])
    on_device = F.jacobian(smooth, (gg.tensor(x, device=device), gg.tensor(y, device=device)),
                           strategy="forward-mode")
    expected = F.jacobian(smooth, (gg.tensor(x), gg.tensor(y)))
    for found, reference in zip(on_device, expected):
        assert found.device is device
        np.testing.assert_allclose(found.numpy(), reference.numpy(), rtol=1e-14)


# ----- return conventions, options, errors -----------------------------------------------------

def test_return_structure_follows_pytorch():
    x, y = gg.tensor([1.0, 2.0, 3.0]), gg.tensor([[1.0, 0.0], [2.0, 1.0]])
    one = F.jacobian(lambda a: a * 2.0, x)
    assert isinstance(one, gg.Tensor) and one.shape == (3, 3)
    by_inputs = F.jacobian(lambda a, b: a.sum() * b, (x, y))
    assert [t.shape for t in by_inputs] == [(2, 2, 3), (2, 2, 2, 2)]
    by_outputs = F.jacobian(lambda a: (a * 2.0, a.sum()), x)
    assert [t.shape for t in by_outputs] == [(3, 3), (3,)]
    table = F.jacobian(lambda a, b: (a.sum() * b, a), (x, y))
    assert [[t.shape for t in row] for row in table] == [[(2, 2, 3), (2, 2, 2, 2)],
                                                         [(3, 3), (3, 2, 2)]]
    np.testing.assert_array_equal(table[1][1].numpy(), np.zeros((3, 2, 2)))  # independent
    hess = F.hessian(lambda a, b: (a * a).sum() * b.sum(), (x, y))
    assert [[t.shape for t in row] for row in hess] == [[(3, 3), (3, 2, 2)],
                                                        [(2, 2, 3), (2, 2, 2, 2)]]
    value, vj = F.vjp(lambda a: (a * a).sum(), x)
    assert isinstance(value, gg.Tensor) and isinstance(vj, gg.Tensor)
    np.testing.assert_allclose(vj.numpy(), [2.0, 4.0, 6.0])


def test_results_are_detached_unless_create_graph_and_then_differentiable():
    x = leaf([0.4, -0.9])
    value, vj = F.vjp(lambda a: gg.sin(a).sum(), x)
    assert not value.requires_grad and not vj.requires_grad
    jac = F.jacobian(lambda a: gg.sin(a) * a.sum(), x, create_graph=True)
    assert jac.requires_grad
    # jac[i, j] = cos(x_i) s [i = j] + sin(x_i), s = sum(x): its sum is s sum(cos x) + n sum(sin x)
    (through,) = autograd.grad(jac.sum(), x)
    a = x.numpy()
    expected = np.cos(a).sum() - a.sum() * np.sin(a) + len(a) * np.cos(a)
    np.testing.assert_allclose(through.numpy(), expected)
    assert x.grad is None


def test_strict_refuses_an_independent_input_and_the_default_gives_zeros():
    x, y = gg.tensor([1.0, 2.0]), gg.tensor([3.0])
    _, (gx, gy) = F.vjp(lambda a, b: (a * a).sum(), (x, y))
    np.testing.assert_array_equal(gy.numpy(), [0.0])
    for call in (lambda: F.vjp(lambda a, b: (a * a).sum(), (x, y), strict=True),
                 lambda: F.jvp(lambda a, b: a * a, (x, y), (x, y), strict=True),
                 lambda: F.jacobian(lambda a, b: a * a, (x, y), strict=True),
                 lambda: F.jacobian(lambda a, b: a * a, (x, y), strict=True,
                                    strategy="forward-mode")):
        with pytest.raises(BackwardError, match="independent of input 1.*strict=True"):
            call()


def test_functional_arguments_are_checked():
    x = gg.tensor([1.0, 2.0])
    with pytest.raises(ArgumentError, match="v may be None only"):
        F.vjp(lambda a: a * 2.0, x)
    with pytest.raises(ShapeError, match="v\\[0\\] has shape \\(3,\\).*\\(2,\\)"):
        F.jvp(lambda a: a * 2.0, x, gg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ArgumentError, match="strategy must be one of"):
        F.jacobian(lambda a: a, x, strategy="sideways")
    with pytest.raises(ArgumentError, match="single Tensor of one element"):
        F.hessian(lambda a: a * a, x)
    with pytest.raises(ArgumentError, match="must return a Tensor"):
        F.jacobian(lambda a: 3.0, x)
    with pytest.raises(ArgumentError, match="input 0 is int64"):
        F.jacobian(lambda a: a, gg.tensor([1, 2]))
    with pytest.raises(ArgumentError, match="inputs must be a Tensor"):
        F.jacobian(lambda a: a, [1.0])


def test_the_names_are_pytorchs():
    assert autograd.jacobian is F.jacobian and autograd.hvp is F.hvp
    from graphgrad.anomaly import detect_anomaly

    assert autograd.detect_anomaly is detect_anomaly
