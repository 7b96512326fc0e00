"""Manual parameter updates as PyTorch and micrograd users write them.

Before: `with gg.no_grad(): w -= lr * w.grad` silently rebound `w` to a new tensor without
requires_grad (the parameter the model holds never changed, w.grad became None);
`p.data += -lr * p.grad` raised NumPy's "operand 'Tensor' does not support ufuncs" for arrays and,
for a scalar, silently put a Tensor inside `p.data`; `w.grad.zero_()` did not exist.
"""

import numpy as np
import pytest

import graphgrad as gg


def quadratic_steps(update, steps=3, start=(1.0, 2.0)):
    """Minimise sum(w**2) by hand: w <- w - 0.1 * 2w each step, so w = start * 0.8**steps."""
    w = gg.tensor(np.array(start), requires_grad=True, name="w")
    for _ in range(steps):
        (w * w).sum().backward()
        update(w)
    return w


def expected(steps=3, start=(1.0, 2.0)):
    return np.array(start) * 0.8 ** steps


def test_torch_manual_sgd_under_no_grad_updates_the_same_leaf():
    def update(w):
        with gg.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()

    w = quadratic_steps(update)
    np.testing.assert_allclose(w.numpy(), expected())
    assert w.requires_grad and w.is_leaf and w.name == "w"
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])


def test_torch_in_place_methods():
    def update(w):
        with gg.no_grad():
            w.sub_(w.grad, alpha=0.1)
        w.grad = None

    np.testing.assert_allclose(quadratic_steps(update).numpy(), expected())
    t = gg.tensor(np.arange(3.0))
    assert t.add_(1.0).mul_(2.0).div_(4.0) is t
    np.testing.assert_allclose(t.numpy(), [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(t.fill_(7.0).numpy(), [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(t.copy_(gg.tensor(np.array([1.0, 2.0, 3.0]))).numpy(), [1, 2, 3])


def test_micrograd_update_of_an_array_parameter_works_in_place():
    def update(w):
        w.data += -0.1 * w.grad
        w.grad = None

    w = quadratic_steps(update)
    np.testing.assert_allclose(w.numpy(), expected())
    assert isinstance(w.data, np.ndarray)


def test_micrograd_update_of_a_scalar_is_refused_at_the_next_use_with_the_fix():
    p = gg.tensor(2.0, requires_grad=True)
    (p * p).backward()
    p.data += -0.1 * p.grad  # a NumPy scalar has no in-place add: Python rebinds p.data
    with pytest.raises(gg.ArgumentError, match=r"mul: an input's \.data holds a Tensor.*"
                                               r"p\.data \+= -lr \* p\.grad\.data"):
        p * p


def test_the_scalar_spelling_that_works():
    p = gg.tensor(2.0, requires_grad=True)
    for _ in range(3):
        p.grad = None
        (p * p).backward()
        p.data += -0.1 * p.grad.data
    assert p.item() == pytest.approx(2.0 * 0.8 ** 3)


def test_in_place_on_a_leaf_that_requires_grad_outside_no_grad_is_refused():
    w = gg.tensor(np.ones(2), requires_grad=True, name="w")
    with pytest.raises(gg.errors.InPlaceError, match=r"-=: w requires grad.*gg\.no_grad"):
        w -= 1.0
    with pytest.raises(gg.errors.InPlaceError, match="zero_: w requires grad"):
        w.zero_()
    np.testing.assert_array_equal(w.numpy(), [1.0, 1.0])


def test_a_graph_node_is_never_changed_in_place():
    w = gg.tensor(np.ones(2), requires_grad=True)
    h = w * 2.0
    before = h
    h += 1.0  # a new node, as h = h + 1
    assert h is not before and h.op.name == "add"
    np.testing.assert_array_equal(before.numpy(), [2.0, 2.0])
    with pytest.raises(gg.errors.InPlaceError, match="zero_: this tensor is the result of mul"):
        before.zero_()


def test_in_place_keeps_dtype_and_refuses_narrowing_and_bad_shapes():
    counts = gg.tensor(np.array([1, 2, 3]))
    with pytest.raises(gg.DtypeError, match="float64 values cannot go into a int64 tensor"):
        counts += 0.5
    x = gg.tensor(np.ones(3, dtype=np.float32))
    x += np.ones(3)  # float64 values into float32: same kind, kept float32 (PyTorch's rule)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), [2, 2, 2])
    with pytest.raises(gg.ShapeError, match=r"values of shape \(2,\) do not broadcast to the "
                                            r"tensor's shape \(3,\)"):
        x.copy_(np.ones(2))


def test_numpy_arrays_on_the_left_still_build_graph_nodes():
    t = gg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    a = np.array([3.0, 4.0])
    for result, values in [(a + t, [4, 6]), (a - t, [2, 2]), (a * t, [3, 8]), (a / t, [3, 2]),
                           (a ** t, [3, 16]), (np.float64(2.0) * t, [2, 4])]:
        assert isinstance(result, gg.Tensor) and result.requires_grad
        np.testing.assert_allclose(result.numpy(), values)
    assert (a < t).numpy().tolist() == [False, False] and (a > t).numpy().tolist() == [True, True]
    assert isinstance(a @ t, gg.Tensor) and (a @ t).item() == 11.0
    with pytest.raises(TypeError):
        np.exp(t)  # NumPy functions do not take tensors: gg.exp does
