"""The Tensor API users know from NumPy and PyTorch."""

import numpy as np
import pytest

import graphgrad as gg


def test_python_floats_default_to_float32_arrays_keep_dtype():
    with gg.default_dtype("float32"):
        assert gg.tensor(1.5).dtype == np.float32
        assert gg.tensor([1.0, 2.0]).dtype == np.float32
    assert gg.tensor(np.ones(2, dtype=np.float64)).dtype == np.float64
    assert gg.tensor(np.arange(3)).dtype.kind == "i"


def test_python_scalar_keeps_tensor_dtype():
    x = gg.tensor(np.ones(3, dtype=np.float32))
    assert (x * 2.5 + 1).dtype == np.float32
    assert (2.5 - x).dtype == np.float32


def test_operators_match_numpy():
    a, b = np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([0.5, 4.0])
    x, y = gg.tensor(a), gg.tensor(b)
    np.testing.assert_allclose((x + y).numpy(), a + b)
    np.testing.assert_allclose((x - y).numpy(), a - b)
    np.testing.assert_allclose((x * y).numpy(), a * b)
    np.testing.assert_allclose((x / y).numpy(), a / b)
    np.testing.assert_allclose((y ** 2).numpy(), b ** 2)
    np.testing.assert_allclose((2.0 ** y).numpy(), 2.0 ** b)
    np.testing.assert_allclose((x @ y).numpy(), a @ b)
    np.testing.assert_allclose((-x).numpy(), -a)
    np.testing.assert_array_equal((x > 0).numpy(), a > 0)
    np.testing.assert_array_equal((x == 3.0).numpy(), a == 3.0)
    np.testing.assert_allclose((a + y).numpy(), a + b)  # ndarray + Tensor -> Tensor
    assert isinstance(a + y, gg.Tensor)


@pytest.mark.parametrize("x_shape, y_shape", [
    ((3,), (3,)), ((3,), (3, 2)), ((4, 3), (3,)), ((2, 4, 3), (3,)), ((3,), (5, 3, 2)),
    ((2, 4, 3), (1, 3, 2)),
])
def test_matmul_of_vectors_has_numpys_shape_and_values(x_shape, y_shape):
    """A 1-D operand gains an axis for the product and loses it after; two vectors give a
    0-d dot product (it was (1,))."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    out = gg.tensor(a) @ gg.tensor(b)
    assert out.shape == (a @ b).shape
    np.testing.assert_allclose(out.numpy(), a @ b)


def test_reductions_and_shapes():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = gg.tensor(a)
    np.testing.assert_allclose(x.sum(axis=(0, 2)).numpy(), a.sum(axis=(0, 2)))
    np.testing.assert_allclose(x.mean(axis=1, keepdims=True).numpy(), a.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(x.max(axis=-1).numpy(), a.max(axis=-1))
    np.testing.assert_allclose(x.min().numpy(), a.min())
    np.testing.assert_allclose(x.var(axis=0).numpy(), a.var(axis=0))
    assert x.reshape(4, -1).shape == (4, 6)
    assert x.flatten(1).shape == (2, 12)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    np.testing.assert_array_equal(x.transpose(2, 0, 1).numpy(), a.transpose(2, 0, 1))  # NumPy's
    np.testing.assert_array_equal(x.transpose((1, 2, 0)).numpy(), a.transpose((1, 2, 0)))
    np.testing.assert_array_equal(x.transpose().numpy(), a.transpose())
    with pytest.raises(TypeError, match=r"transpose: 4 axes .* swap.*permute"):
        x.transpose(0, 1, 2, 0)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.T.shape == (4, 3, 2)
    assert gg.transpose(x, (1, 0, 2)).shape == (3, 2, 4)
    assert x[:, 1].shape == (2, 4) and x[..., ::2].shape == (2, 3, 2)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4)
    assert x.argmax(axis=2).numpy().tolist() == a.argmax(axis=2).tolist()


def test_item_numpy_detach_requires_grad():
    x = gg.tensor(2.0, requires_grad=True, name="x")
    y = x * 3.0
    assert y.item() == 6.0 and isinstance(y.numpy(), np.ndarray)
    d = y.detach()
    assert d.op is None and not d.requires_grad
    z = gg.tensor(1.0).requires_grad_()
    assert z.requires_grad and z.is_leaf
    assert "x" in repr(x) and "requires_grad" in repr(x)


def test_bool_of_array_is_ambiguous():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(gg.tensor(np.ones(3)))


@pytest.mark.parametrize("op, bad", [
    ("add", lambda: gg.tensor(np.ones((2, 3))) + gg.tensor(np.ones((4,)))),
    ("matmul", lambda: gg.tensor(np.ones((2, 3))) @ gg.tensor(np.ones((4, 2)))),
    ("reshape", lambda: gg.tensor(np.ones((2, 3))).reshape(4, 2)),
    ("broadcast_to", lambda: gg.tensor(np.ones((2, 3))).broadcast_to((3,))),
])
def test_shape_errors_name_the_op_shapes_and_site(op, bad):
    with pytest.raises(gg.ShapeError) as info:
        bad()
    message = str(info.value)
    assert message.startswith(op + ":") and "(2, 3)" in message and "test_tensor.py" in message


@pytest.mark.parametrize("bad", [
    lambda x: x.permute(0, 3),
    lambda x: gg.transpose(x, (-3, 0)),
    lambda x: x.transpose(0, 4),
    lambda x: x.unsqueeze(5),
    lambda x: x.squeeze(3),
    lambda x: x.flatten(0, 2),
    lambda x: gg.concatenate([x, x], axis=2),
    lambda x: gg.stack([x, x], axis=-4),
    lambda x: gg.softmax(x, axis=2),
    lambda x: gg.log_softmax(x, axis=-3),
])
def test_out_of_range_axes_are_errors_not_wrapped(bad):
    """An axis past the last one used to wrap around silently (axis 3 of a matrix became 1)."""
    with pytest.raises(gg.ShapeError, match="out of range"):
        bad(gg.tensor(np.ones((2, 1))))


@pytest.mark.parametrize("bad, message", [
    (lambda x: x.reshape(-1, -1), r"reshape: at most one -1 in the new shape \(-1, -1\)"),
    (lambda x: x.reshape(4, 2), (r"reshape: cannot reshape shape \(2, 3\) \(6 elements\) into "
                                 r"\(4, 2\) \(8 elements\)")),
    (lambda x: gg.transpose(x, (0, 0)), r"transpose: \(0, 0\) is not a permutation of the 2 axes"),
    (lambda x: gg.flatten(x, 1, 0),
     r"flatten: start_dim 1 comes after end_dim 0 for shape \(2, 3\)"),
    (lambda x: gg.squeeze(x, 0), r"squeeze: axis 0 of shape \(2, 3\) has size 2, not 1"),
    (lambda x: gg.pad(x, ((-1, 0), (0, 0))), r"pad: negative padding"),
    (lambda x: gg.concatenate([]), r"concatenate: needs at least one tensor"),
    (lambda x: gg.concatenate([x[0, 0], x[0, 1]]), r"concatenate: 0-d tensors .* use stack"),
    (lambda x: gg.stack([]), r"stack: needs at least one tensor"),
    (lambda x: gg.stack([x, x.T]),
     r"stack: all tensors need the same shape, got \[\(2, 3\), \(3, 2\)\]"),
    (lambda x: x[0, 0].sum(axis=0), r"sum: a 0-d tensor has no axis 0"),
    (lambda x: x.mean(axis=(0, -2)), r"mean: repeated axis in \(0, -2\)"),
    (lambda x: gg.sum_to(x, (1, 2, 3)), r"sum_to: gradient of shape \(2, 3\) has fewer axes"),
])
def test_structural_misuse_is_an_error_naming_the_op_and_the_numbers(bad, message):
    with pytest.raises(gg.ShapeError, match=message):
        bad(gg.tensor(np.ones((2, 3))))


def test_array_divided_by_tensor():
    a, b = np.array([1.0, 2.0]), np.array([4.0, 8.0])
    np.testing.assert_allclose((a / gg.tensor(b)).numpy(), a / b)
    np.testing.assert_allclose((1 / gg.tensor(b)).numpy(), 1 / b)


def test_empty_list_index_selects_nothing():
    x = gg.tensor(np.arange(3.0), requires_grad=True)
    y = x[[]]
    assert y.shape == (0,)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


def test_full_accepts_an_int_shape():
    assert gg.full(3, 2.0).numpy().tolist() == [2.0, 2.0, 2.0]


def test_dtype_mix_is_an_error():
    with pytest.raises(gg.DtypeError, match=r"mul: .*float32 and float64.*astype"):
        gg.tensor(np.ones(2, dtype=np.float32)) * gg.tensor(np.ones(2))


@pytest.mark.parametrize("op", ["exp", "log", "reciprocal", "sin", "cos", "sigmoid", "tanh",
                                "softmax", "log_softmax"])
@pytest.mark.parametrize("values", [np.arange(1, 4), np.array([True, True])])
def test_gates_without_integer_results_reject_integers_instead_of_promoting(op, values):
    """NumPy's exp of int64 is float64; graphgrad never promotes silently (as for `int + 0.5`)."""
    with pytest.raises(gg.DtypeError, match=rf"^{op}: the input is {values.dtype}, shape "
                                            rf"\({len(values)},\) \(at .*test_tensor.py.*astype"):
        getattr(gg, op)(gg.tensor(values))
    assert getattr(gg, op)(gg.tensor(values.astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("data, error, message", [
    ([1, "a"], gg.DtypeError, r"tensor: the data became <U\d+ values; a tensor holds bool"),
    (np.array([1 + 2j]), gg.DtypeError, r"became complex128 values"),
    (np.array([None]), gg.DtypeError, r"became object values"),
    ([[1.0, 2.0], [3.0]], gg.ShapeError, r"tensor: cannot make an array of this data"),
    (None, TypeError, r"tensor: got None"),
])
def test_tensor_of_data_that_is_not_numbers_is_an_error(data, error, message):
    """A string tensor used to be made, and failed later in an unrelated op."""
    with pytest.raises(error, match=message):
        gg.tensor(data)


def test_item_of_many_elements_is_an_error():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        gg.tensor(np.ones(2)).item()


def test_numpy_scalars_are_numbers_not_arrays():
    x = gg.tensor(np.ones(2, dtype=np.float32))
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (np.float64(2.0) * x).dtype == np.float32


def test_float_arange_takes_the_default_dtype():
    with gg.default_dtype("float32"):
        assert gg.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert gg.arange(3).dtype.kind == "i"


def test_max_pool_indices_on_a_second_device():
    x = gg.tensor(np.arange(16.0).reshape(1, 1, 4, 4), device="strict:device1")
    out, indices = gg.max_pool2d(x, 2, return_indices=True)
    assert out.device.name == "strict:device1"
    np.testing.assert_array_equal(indices.numpy().ravel(), [5, 7, 13, 15])


def test_factories_take_pytorchs_arguments_and_the_default_dtype():
    assert gg.zeros(2, 3).shape == gg.ones((2, 3)).shape == (2, 3)
    with gg.default_dtype("float32"):  # the tests run with float64 as the default
        assert gg.zeros(2).dtype == np.float32 and gg.ones(2, dtype="float64").dtype == np.float64
        w = gg.randn(3, 4, seed=7, requires_grad=True, name="w")
        np.testing.assert_array_equal(w.numpy(), gg.randn((3, 4), seed=7).numpy())
    assert (w.shape, w.dtype, w.requires_grad, w.name) == ((3, 4), np.float32, True, "w")
    np.testing.assert_allclose(w.numpy(), np.random.default_rng(7).standard_normal((3, 4)),
                               rtol=1e-6)
    generator = np.random.default_rng(1)
    assert not np.array_equal(gg.randn(5, generator=generator).numpy(),
                              gg.randn(5, generator=generator).numpy())  # one stream, moving on
    x = gg.tensor(np.arange(6.0).reshape(2, 3))
    for like, value in ((gg.zeros_like, 0.0), (gg.ones_like, 1.0)):
        made = like(x, requires_grad=True)
        assert (made.shape, made.dtype, made.device, made.requires_grad) == \
            ((2, 3), np.float64, x.device, True)
        assert np.all(made.numpy() == value)


def test_iterating_gives_the_rows_and_item_assignment_says_what_to_do_instead():
    """Python's fallback iteration stopped with getitem's ShapeError, not IndexError: `list(x)`
    and `a, b = x` failed."""
    x = gg.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    first, second = x
    np.testing.assert_array_equal(second.numpy(), [3.0, 4.0])
    (first * 2 + second).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0], [1.0, 1.0]])
    assert [row.shape for row in x] == [(2,), (2,)]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        list(gg.tensor(1.0))
    with pytest.raises(TypeError, match="does not support item assignment.*gg.where"):
        x[0] = 5.0
