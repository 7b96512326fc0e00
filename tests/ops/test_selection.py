"""gather, masked_fill, sort, topk, one_hot (compositions of gates) and the values of the cumsum
and prod gates (their gradients are in specs.py): values against NumPy, first and second
derivatives against central differences in float64, the strict backend, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad.errors import ArgumentError, ShapeError
from graphgrad.ops.selection import _scatter_along
from graphgrad.testing import strategies as gst

from .specs import _gather_index


def _check(fn, np_fn, arrays):
    """Values against NumPy, then the gradient of the (concatenated) values, 1st and 2nd order."""
    got = fn(*[gg.tensor(a) for a in arrays])
    parts = tuple(got) if isinstance(got, tuple) else (got,)
    expected = np_fn(*arrays)
    for g, e in zip(parts, expected if isinstance(got, tuple) else (expected,)):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12)
    values = (lambda *ts: fn(*ts)[0]) if isinstance(got, tuple) else fn
    gg.gradcheck(values, arrays)
    gg.gradgradcheck(values, arrays)


@given(data=st.data())
def test_gather_is_take_along_axis_and_repeats_accumulate(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    axis = dim % len(shape)
    index_shape = tuple(data.draw(st.integers(1, 4)) if d == axis else
                        data.draw(st.integers(1, n)) for d, n in enumerate(shape))
    index = np.asarray(data.draw(st.lists(st.integers(0, shape[axis] - 1),
                                          min_size=int(np.prod(index_shape)),
                                          max_size=int(np.prod(index_shape)))),
                       dtype=np.int64).reshape(index_shape)
    x = data.draw(gst.arrays(shape), label="x")
    # np.take_along_axis wants index sizes equal to x's off the axis: cut x down to them
    cut = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index_shape))
    _check(lambda t: t.gather(dim, gg.tensor(index)),
           lambda a: np.take_along_axis(a[cut], index, axis=axis), [x])


def test_gather_gradient_adds_up_repeated_indices():
    x = gg.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    gg.gather(x, 1, gg.tensor(np.array([[2, 2, 0]]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 2.0]])


@given(data=st.data())
def test_masked_fill_is_where_and_filled_entries_get_no_gradient(data):
    shape_x, shape_m = data.draw(gst.broadcastable_shapes(2), label="shapes")
    shape_x = np.broadcast_shapes(shape_x, shape_m)  # the mask broadcasts to x, not x to it
    mask = data.draw(gst.arrays(shape_m), label="mask") > 0
    x = data.draw(gst.arrays(shape_x), label="x")
    _check(lambda t: t.masked_fill(gg.tensor(mask), -2.5),
           lambda a: np.where(mask, -2.5, a), [x])
    xt = gg.tensor(x, requires_grad=True)
    gg.masked_fill(xt, gg.tensor(mask), 7.0).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), np.broadcast_to(~mask, x.shape).astype(float))


@given(data=st.data())
def test_sort_matches_numpy_and_routes_gradient_by_the_indices(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    descending = data.draw(st.booleans(), label="descending")
    x = data.draw(gst.well_separated(shape), label="x")  # no ties: the order is stable under eps

    def np_sort(a):
        order = np.argsort(-a if descending else a, axis=dim, kind="stable")
        return np.take_along_axis(a, order, axis=dim), order

    _check(lambda t: t.sort(dim=dim, descending=descending), np_sort, [x])
    result = gg.sort(gg.tensor(x), dim, descending)
    assert result.indices.dtype == np.int64 and not result.indices.requires_grad


@given(data=st.data())
def test_topk_is_the_first_k_of_the_sort(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    k = data.draw(st.integers(0, shape[dim]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    x = data.draw(gst.well_separated(shape), label="x")

    def np_topk(a):
        order = np.argsort(-a if largest else a, axis=dim, kind="stable")
        order = np.take(order, np.arange(k), axis=dim)
        return np.take_along_axis(a, order, axis=dim), order

    _check(lambda t: t.topk(k, dim=dim, largest=largest), np_topk, [x])


def test_sort_keeps_ties_in_order_and_topk_names_its_fields():
    x = gg.tensor(np.array([2.0, 1.0, 2.0, 1.0]))
    assert gg.sort(x).indices.numpy().tolist() == [1, 3, 0, 2]
    assert gg.sort(x, descending=True).indices.numpy().tolist() == [0, 2, 1, 3]
    values, indices = gg.topk(x, 2)
    assert values.numpy().tolist() == [2.0, 2.0] and indices.numpy().tolist() == [0, 2]


@given(data=st.data())
def test_cumsum_and_prod_values_match_numpy(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = data.draw(gst.arrays(shape), label="x")
    np.testing.assert_allclose(gg.cumsum(gg.tensor(x), dim).numpy(), np.cumsum(x, axis=dim),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gg.tensor(x).prod(dim).numpy(), np.prod(x, axis=dim), rtol=1e-12)
    np.testing.assert_allclose(gg.prod(gg.tensor(x), dim, keepdim=True).numpy(),
                               np.prod(x, axis=dim, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(gg.prod(gg.tensor(x)).numpy(), np.prod(x), rtol=1e-12)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    # one zero: only it gets a gradient (the product of the rest); two zeros: nothing does
    x = gg.tensor(np.array([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0]]), requires_grad=True)
    gg.prod(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


def test_cumsum_gradient_is_the_reversed_running_sum():
    x = gg.tensor(np.zeros(4), requires_grad=True)
    (gg.cumsum(x, 0) * gg.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 9.0, 7.0, 4.0])


def test_one_hot_matches_torch_layout():
    labels = gg.tensor(np.array([[0, 2], [1, 1]]))
    out = gg.one_hot(labels)
    assert out.shape == (2, 2, 3) and out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[[0, 2], [1, 1]]])
    assert gg.one_hot(gg.tensor(np.array([1])), num_classes=4).numpy().tolist() == [[0, 1, 0, 0]]
    assert not gg.one_hot(labels).requires_grad


def test_the_ops_agree_on_numpy_and_the_strict_backend():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    index = np.array([[3, 0], [1, 1], [2, 0]])
    mask = x > 0
    ops = {
        "sort": lambda t, d: gg.sort(t, 1, descending=True).values,
        "sort indices": lambda t, d: gg.sort(t, 0).indices,
        "topk": lambda t, d: gg.topk(t, 2, dim=1).values,
        "gather": lambda t, d: gg.gather(t, 1, gg.tensor(index).to(d)),
        "masked_fill": lambda t, d: gg.masked_fill(t, gg.tensor(mask).to(d), 0.5),
        "cumsum": lambda t, d: gg.cumsum(t, 0),
        "prod": lambda t, d: gg.prod(t, 1),
        "one_hot": lambda t, d: gg.one_hot(gg.tensor(index).to(d), 5),
    }
    for name, fn in ops.items():
        want = fn(gg.tensor(x), "cpu").numpy()
        got = fn(gg.tensor(x).to("strict"), "strict")
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=name)
    # gradients of the gates (cumsum, prod) and of where run on the strict namespace too
    for fn in (lambda t: gg.cumsum(t, 1), lambda t: gg.prod(t, 0),
               lambda t: gg.masked_fill(t, gg.tensor(mask).to("strict"), 0.5)):
        gg.gradcheck(fn, [gg.tensor(x).to("strict")])


def test_gradcheck_reports_a_nan_gradient_where_the_differences_are_finite():
    # out / x would be the naive prod gradient: NaN at a zero entry, where the true one is 6
    nan_gradient = gg.primitive("nan_grad_probe", forward=lambda xp, a: a * 1.0,
                                vjp=lambda g, out, a: (g * float("nan"),), register=False)
    assert not gg.gradcheck(lambda t: nan_gradient(t), [np.ones(2)], raise_exception=False)


@pytest.mark.parametrize("call, error, words", [
    (lambda x: gg.gather(x, 1, gg.tensor(np.array([[0.0]]))), ArgumentError, "integer"),
    (lambda x: gg.gather(x, 1, gg.tensor(np.array([0]))), ShapeError, "rank"),
    (lambda x: gg.gather(x, 1, gg.tensor(np.array([[3]]))), ShapeError, "[0, 2]"),
    (lambda x: gg.gather(x, 2, gg.tensor(np.array([[0]]))), ShapeError, "out of range"),
    (lambda x: gg.gather(x, 1.0, gg.tensor(np.array([[0]]))), ArgumentError, "dim"),
    (lambda x: gg.masked_fill(x, gg.tensor(np.ones((2, 3))), 0.0), ArgumentError, "bool"),
    (lambda x: gg.masked_fill(x, gg.tensor(np.ones((4, 3), bool)), 0.0), ShapeError, "(4, 3)"),
    (lambda x: gg.topk(x, 4), ArgumentError, "[0, 3]"),
    (lambda x: gg.sort(x, descending="yes"), ArgumentError, "descending"),
    (lambda x: gg.one_hot(x), ArgumentError, "integer"),
    (lambda x: gg.one_hot(gg.tensor(np.array([-1]))), ShapeError, "[0,"),
    (lambda x: gg.one_hot(gg.tensor(np.array([1])), num_classes=0), ArgumentError, ">= 1"),
    (lambda x: gg.cumsum(x, 5), ShapeError, "cumsum"),
    (lambda x: gg.prod(x, 1.5), ArgumentError, "prod"),
])
def test_bad_arguments_name_the_op_and_what_is_valid(call, error, words):
    x = gg.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(error, match=None) as info:
        call(x)
    assert words in str(info.value)


def test_compiled_code_sorts_each_call_anew():
    """The indices are gate inputs: gg.compile's code must not replay the traced order."""
    def f(x):
        return gg.sort(x, 1).values - x + gg.topk(x, 1).values

    compiled = gg.compile(f)
    compiled(gg.tensor(np.array([[1.0, 2.0, 3.0]])))
    y = gg.tensor(np.array([[3.0, 1.0, 2.0]]))
    np.testing.assert_array_equal(compiled(y).numpy(), f(y).numpy())
    np.testing.assert_array_equal(f(y).numpy(), [[1.0, 4.0, 4.0]])


# ----- the strict array-API backend: scatter-add without np.add.at -------------------------------
def _on(device, array):
    return gg.tensor(array).to(device)


@given(data=st.data())
def test_gather_and_scatter_add_differentiate_on_the_strict_backend(data):
    """gather's gradient is a scatter-add (repeated indices accumulate) and scatter_add's is a
    gather: first and second derivatives on the strict namespace, equal to NumPy's add.at."""
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis, index = _gather_index(data, shape)
    x = data.draw(gst.arrays(shape), label="x")
    g = data.draw(gst.arrays(index.shape), label="g")
    strict_index = _on("strict", index)
    gather = lambda t: gg.gather(t, axis, strict_index)  # noqa: E731
    scatter = lambda t: _scatter_along(t, strict_index, axis=axis, shape=shape)  # noqa: E731
    for fn, array in ((gather, x), (scatter, g)):
        gg.gradcheck(fn, [_on("strict", array)])
        gg.gradgradcheck(fn, [_on("strict", array)])
    expected = np.zeros(shape)
    np.add.at(expected, tuple(index if d == axis else np.indices(index.shape)[d]
                              for d in range(len(shape))), g)
    np.testing.assert_allclose(scatter(_on("strict", g)).numpy(), expected, rtol=1e-12,
                               atol=1e-14)


def test_sort_topk_and_integer_indexing_backpropagate_on_the_strict_backend():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5))
    rows, cols = np.array([0, 0, 3, 0]), np.array([1, 1, 4, 1])   # (0, 1) three times
    ops = {
        "sort": lambda t: gg.sort(t, 0, descending=True).values * gg.tensor(x).to(t.device),
        "topk": lambda t: gg.topk(t, 3, dim=1).values ** 2,
        "integer index": lambda t: t[rows, cols] ** 2,
    }
    for name, fn in ops.items():
        grads = []
        for device in ("cpu", "strict"):
            t = _on(device, x)
            t.requires_grad_()
            fn(t).sum().backward()
            grads.append(t.grad.numpy())
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15, err_msg=name)
        gg.gradcheck(fn, [_on("strict", x)])
    assert grads[1][0, 1] == pytest.approx(6 * x[0, 1])


def test_strict_scatter_add_keeps_float32_sums_exact_to_float32():
    """The prefix sums run in float64: a small total after large ones is not lost."""
    from graphgrad.backend import scatter_add

    xs = pytest.importorskip("array_api_strict")
    values = np.array([1e6, -1e6, 1e-3, 2e-3, 5.0], dtype=np.float32)
    index = np.array([0, 0, 1, 1, 2])
    out = scatter_add(xs, (4,), (xs.asarray(index),), xs.asarray(values))
    assert out.dtype == xs.float32
    np.testing.assert_array_equal(np.asarray(out), np.array([0.0, 3e-3, 5.0, 0.0], np.float32))
    nothing = xs.asarray(np.zeros(0, np.int64))
    empty = scatter_add(xs, (2, 3), (nothing, nothing), xs.asarray(np.zeros(0)))
    np.testing.assert_array_equal(np.asarray(empty), np.zeros((2, 3)))
