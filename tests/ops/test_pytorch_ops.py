"""The ops added for PyTorch's spellings that are compositions of gates (expand, repeat, chunk,
split, view, permute, t, mm, unsqueeze) and erf's values: values against NumPy / math.erf, first
and second derivatives against central differences in float64 over random shapes, as
test_derived does for the other compositions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import graphgrad as gg
from graphgrad.testing import strategies as gst


def _check(fn, np_fn, arrays):
    got = fn(*[gg.tensor(a) for a in arrays])
    expected = np_fn(*arrays)
    if isinstance(got, tuple):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-12)
        joined = lambda *ts: gg.concatenate([t.reshape(-1) for t in fn(*ts)])  # noqa: E731
    else:
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
        joined = fn
    gg.gradcheck(joined, arrays)
    gg.gradgradcheck(joined, arrays)


@given(data=st.data())
def test_expand_broadcasts_and_keeps_minus_one_sizes(data):
    shape = data.draw(gst.shapes(), label="shape")
    x = data.draw(gst.arrays(shape), label="x")
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2), label="new axes")
    sizes = [data.draw(st.sampled_from([-1, n] if n != 1 else [-1, 1, 3])) for n in shape]
    target = tuple(lead) + tuple(n if s == -1 else s for n, s in zip(shape, sizes))
    _check(lambda t: t.expand(*lead, *sizes), lambda a: np.broadcast_to(a, target), [x])


@given(data=st.data())
def test_repeat_tiles_like_numpy_tile(data):
    shape = data.draw(gst.shapes(), label="shape")
    x = data.draw(gst.arrays(shape), label="x")
    repeats = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape),
                                       max_size=len(shape) + 2), label="repeats"))
    _check(lambda t: t.repeat(repeats), lambda a: np.tile(a, repeats), [x])


@given(data=st.data())
def test_split_and_chunk_cut_like_numpy(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    x = data.draw(gst.arrays(shape), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    n = shape[dim]
    size = data.draw(st.integers(1, n + 1), label="size")
    cuts = list(range(size, n, size))
    _check(lambda t: gg.split(t, size, dim), lambda a: tuple(np.split(a, cuts, axis=dim)), [x])
    chunks = data.draw(st.integers(1, n + 1), label="chunks")
    step = -(-n // chunks)
    _check(lambda t: t.chunk(chunks, dim=dim),
           lambda a: tuple(np.split(a, list(range(step, n, step)), axis=dim)), [x])


@given(data=st.data())
def test_view_permute_unsqueeze_t(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    x = data.draw(gst.arrays(shape), label="x")
    order = data.draw(st.permutations(list(range(len(shape)))), label="order")
    _check(lambda t: t.view(-1), lambda a: a.reshape(-1), [x])
    _check(lambda t: gg.permute(t, *order).unsqueeze(0), lambda a: a.transpose(order)[None], [x])
    if len(shape) <= 2:
        _check(lambda t: t.t(), lambda a: a.T, [x])


@given(data=st.data())
def test_mm_multiplies_matrices(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    x, y = data.draw(gst.arrays((n, k)), label="x"), data.draw(gst.arrays((k, m)), label="y")
    _check(gg.mm, np.matmul, [x, y])


def test_erf_values_match_math_erf_in_both_precisions():
    values = np.array([-6.0, -2.5, -1.0, -1e-8, 0.0, 1e-3, 0.5, 1.0, 2.0, 3.5, 6.0, 27.0])
    expected = np.array([math.erf(v) for v in values])
    np.testing.assert_allclose(gg.erf(gg.tensor(values)).numpy(), expected, rtol=1e-15,
                               atol=1e-300)
    single = gg.erf(gg.tensor(values.astype(np.float32)))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single.numpy(), expected, rtol=1e-6)


def test_erf_derivatives_are_the_gaussian_and_its_slope():
    values = np.array([-2.0, -0.3, 0.0, 0.7, 1.5])
    x = gg.tensor(values, requires_grad=True)
    gg.erf(x).sum().backward(create_graph=True)
    gauss = 2.0 / math.sqrt(math.pi) * np.exp(-values ** 2)
    np.testing.assert_allclose(x.grad.numpy(), gauss, rtol=1e-14)
    slope = x.grad.sum()
    x.grad = None
    slope.backward()
    np.testing.assert_allclose(x.grad.numpy(), -2.0 * values * gauss, rtol=1e-13)


def test_step_functions_pass_a_zero_gradient_like_pytorch():
    x = gg.tensor(np.array([-1.5, -0.2, 0.0, 0.4, 2.5]), requires_grad=True)
    (x.sign() + x.floor() + x.ceil() + x.round()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5))
    assert not gg.isnan(x).requires_grad and gg.isfinite(x).dtype == np.bool_


@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_pad_value_must_fit_an_integer_or_bool_tensor(device):
    """NumPy truncated pad(int, value=2.5) to 2 without a word and raised an OverflowError that
    named no operation for 1e308 (found by the public-API fuzz test); floats still pad floats."""
    x = gg.tensor([1, 2, 3], device=device)
    assert gg.pad(x, (1,), 7).tolist() == [7, 1, 2, 3, 7]
    assert gg.pad(x, (1,), -3.0).tolist() == [-3, 1, 2, 3, -3]
    for bad in (2.5, 1e308, float("nan"), 10**400, 2**63):
        with pytest.raises(gg.DtypeError, match=r"pad: value .* does not fit the int64 tensor"):
            gg.pad(x, (1,), bad)
    flags = gg.tensor([True, False], device=device)
    assert gg.pad(flags, (1,), 1).tolist() == [True, True, False, True]
    with pytest.raises(gg.DtypeError, match=r"in \[0, 1\]"):
        gg.pad(flags, (1,), 2)
    assert gg.pad(gg.tensor([1.0], device=device), (1,), 2.5).tolist() == [2.5, 1.0, 2.5]
