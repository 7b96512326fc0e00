"""Backward over DAGs: fan-out, several roots, hooks, retain_graph, accumulation, grad
transforms."""

import gc
import os
import weakref

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.summary import ArraySummary


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
    value, (gx, gy) = gg.value_and_grad(f, argnums=(0, 1))(np.array([1.0, 2.0]),
                                                           np.array([3.0, 4.0]))
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
    here = os.path.relpath(__file__) if __file__.startswith(os.getcwd() + os.sep) else __file__
    for node in built:  # named relative to the working folder (issue #12: tooltips, renders)
        assert node.site == f"{here}:{line + 1}", node.op.name
    assert expanded.site == f"{here}:{line + 4}"


# ----- a plain backward releases the graph but keeps it walkable (issue #12) ------------------


def test_plain_backward_keeps_structure_and_records_each_gradient():
    x = gg.tensor(-2.0, requires_grad=True, name="x")
    y = gg.tensor(5.0, requires_grad=True, name="y")
    q = x + y
    f = q * gg.tensor(-4.0, name="z")
    f.backward()
    assert f.inputs[0] is q and q.inputs == (x, y)  # the links survive
    # by hand: df/dq = z = -4, df/dx = df/dy = -4; the root's seed is 1
    assert [float(n._backward[1]) for n in (f, q, x, y)] == [1.0, -4.0, -4.0, -4.0]
    assert f._backward[0] == q._backward[0] == x._backward[0]  # one backward, one stamp
    with pytest.raises(gg.GraphFreedError, match=r"'mul' node created at .*test_autodiff"):
        f.backward()


def test_retained_backward_records_nothing_and_stays_repeatable():
    x = leaf(2.0)
    y = gg.exp(x) * x
    y.backward(retain_graph=True)
    assert y._backward is None and x._backward is None
    y.backward()  # still allowed; this one releases
    assert y._backward is not None


def test_large_intermediates_are_released_to_statistics():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((80, 80))
    w = gg.tensor(data, requires_grad=True)
    hidden = gg.exp(w)
    expected = np.exp(data)  # the test's own copy of the values
    probe = weakref.ref(hidden)
    loss = (hidden * 0.5).sum()
    del hidden
    loss.backward()
    assert probe() is None  # the 6,400-element array is gone
    husk = loss.inputs[0].inputs[0]
    assert isinstance(husk.data, ArraySummary) and husk.op.name == "exp" and husk.inputs == (w,)
    summary = husk.data
    assert summary.shape == (80, 80) and summary.dtype == np.float64
    np.testing.assert_allclose([summary.mean, summary.std, summary.min, summary.max],
                               [expected.mean(), expected.std(), expected.min(), expected.max()],
                               rtol=1e-9)
    grad = husk._backward[1]  # d loss / d hidden = 0.5 everywhere, kept as statistics too
    assert isinstance(grad, ArraySummary) and grad.mean == grad.min == grad.max == 0.5
    with pytest.raises(gg.GraphFreedError, match="released by backward"):
        np.asarray(summary)


def test_small_values_are_kept_and_user_held_tensors_keep_their_values():
    rng = np.random.default_rng(1)
    w = gg.tensor(rng.standard_normal((100, 100)), requires_grad=True)
    hidden = gg.exp(w)  # held by the user: must stay whole
    loss = hidden.sum()
    loss.backward()
    np.testing.assert_array_equal(hidden.numpy(), np.exp(w.numpy()))
    small = gg.tensor(rng.standard_normal(4096), requires_grad=True)
    out = (gg.exp(small) * 2.0).sum()
    out.backward()
    kept = out.inputs[0].inputs[0]
    np.testing.assert_array_equal(kept.numpy(), np.exp(small.numpy()))  # up to 4096 kept


def test_released_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        w = gg.tensor(np.ones((70, 70)), requires_grad=True)
        hidden = gg.tanh(w @ w)
        loss = (hidden * hidden).sum()
        probes = [weakref.ref(hidden), weakref.ref(loss)]
        del hidden
        loss.backward()
        probes.append(weakref.ref(loss.inputs[0]))  # a husk
        del loss
        assert all(p() is None for p in probes)
    finally:
        gc.enable()


def test_seed_of_a_gradient_graph_is_a_named_leaf():
    x = leaf(1.0)
    f = x * gg.sin(x)
    f.backward(create_graph=True)
    from graphgrad.graph import ancestors

    seeds = [t for t in ancestors([x.grad]) if t.name == "seed"]
    assert len(seeds) == 1 and seeds[0].op is None and seeds[0].item() == 1.0


@pytest.mark.parametrize("bad, words", [
    (lambda g: g.reshape(1, 1), r"shape \(1, 1\).*gradient's shape \(\)"),
    (lambda g: g.astype("float32"), r"dtype float32.*dtype float64"),
])
def test_hook_returning_a_wrong_gradient_is_named(bad, words):
    x = gg.tensor(2.0, dtype="float64", requires_grad=True, name="x")
    y = x * 3.0
    y.register_hook(bad)
    with pytest.raises(gg.BackwardError,
                       match=rf"hook .*<lambda> registered on the mul node created at "
                             rf".*test_autodiff.*{words}"):
        y.backward()


def test_hook_returning_a_non_tensor_is_named():
    x = gg.tensor(2.0, requires_grad=True, name="x")
    x.register_hook(lambda g: 1.0)
    with pytest.raises(TypeError, match=r"hook .*<lambda>.*the leaf 'x' returned a float"):
        (x * 3.0).backward()
