"""PyTorch habits on tensors (issue 14): each spelling a PyTorch user types runs, and gives
what NumPy computes for the same request (expected values come from NumPy, never from graphgrad).
"""

from __future__ import annotations

import inspect
import math
import pydoc

import numpy as np
import pytest

import graphgrad as gg

A = np.arange(12.0).reshape(3, 4) - 5.5  # no zeros, no ties: every op well defined
B = np.linspace(-1.0, 1.0, 4)
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, -0.0])


def x():
    return gg.tensor(A)


# (the PyTorch spelling, NumPy's answer)
SPELLINGS = [
    ("x.sum(dim=0)", lambda: x().sum(dim=0), lambda: A.sum(axis=0)),
    ("x.sum(0, keepdim=True)", lambda: x().sum(0, keepdim=True), lambda: A.sum(0, keepdims=True)),
    ("x.sum(dim=(0, 1))", lambda: x().sum(dim=(0, 1)), lambda: A.sum()),
    ("x.mean(dim=1)", lambda: x().mean(dim=1), lambda: A.mean(axis=1)),
    # torch.max/min along a dim give (values, indices); `x.max(1)[1]` is the argmax
    ("x.max(dim=1, keepdim=True)", lambda: tuple(x().max(dim=1, keepdim=True)),
     lambda: (A.max(axis=1, keepdims=True), A.argmax(axis=1)[:, None])),
    ("x.min(dim=0)", lambda: tuple(x().min(dim=0)), lambda: (A.min(axis=0), A.argmin(axis=0))),
    ("x.max(1)[1]", lambda: x().max(1)[1], lambda: A.argmax(axis=1)),
    ("_, predicted = torch.max(x, 1)", lambda: gg.max(x(), 1)[1], lambda: A.argmax(axis=1)),
    ("x.max(1).values", lambda: x().max(1).values, lambda: A.max(axis=1)),
    ("x.max()", lambda: x().max(), lambda: A.max()),
    ("torch.max(x, y)", lambda: gg.max(x(), gg.tensor(B)), lambda: np.maximum(A, B)),
    ("x.amax(dim=(0, 1))", lambda: x().amax(dim=(0, 1)), lambda: A.max()),
    ("x.amin(1, keepdim=True)", lambda: x().amin(1, keepdim=True),
     lambda: A.min(axis=1, keepdims=True)),
    ("NumPy's x.max(axis=1)", lambda: x().max(axis=1), lambda: A.max(axis=1)),
    ("x.var(dim=1)", lambda: x().var(dim=1), lambda: A.var(axis=1)),
    # torch's default divides by n - 1; graphgrad keeps NumPy's default and takes torch's words
    ("x.var(dim=1, unbiased=True)", lambda: x().var(dim=1, unbiased=True),
     lambda: A.var(axis=1, ddof=1)),
    ("x.std(0, correction=1)", lambda: x().std(0, correction=1), lambda: A.std(axis=0, ddof=1)),
    ("NumPy's x.var(ddof=1)", lambda: x().var(ddof=1), lambda: A.var(ddof=1)),
    ("x.std(dim=0, keepdim=True)", lambda: x().std(dim=0, keepdim=True),
     lambda: A.std(axis=0, keepdims=True)),
    ("x.norm(dim=1)", lambda: x().norm(dim=1), lambda: np.linalg.norm(A, axis=1)),
    ("x.logsumexp(dim=1)", lambda: x().logsumexp(dim=1),
     lambda: np.log(np.exp(A).sum(axis=1))),
    ("x.argmax(dim=1)", lambda: x().argmax(dim=1), lambda: A.argmax(axis=1)),
    ("x.argmin(dim=0, keepdim=True)", lambda: x().argmin(dim=0, keepdim=True),
     lambda: A.argmin(axis=0, keepdims=True)),
    ("x.argmax()", lambda: x().argmax(), lambda: A.argmax()),
    ("(x > 0).any(dim=1)", lambda: (x() > 0).any(dim=1), lambda: (A > 0).any(axis=1)),
    ("(x > 0).all(dim=0)", lambda: (x() > 0).all(dim=0), lambda: (A > 0).all(axis=0)),
    ("x.size()", lambda: x().size(), lambda: A.shape),
    ("x.size(0)", lambda: x().size(0), lambda: A.shape[0]),
    ("x.size(-1)", lambda: x().size(-1), lambda: A.shape[-1]),
    ("x.size (NumPy's count)", lambda: x().size, lambda: A.size),
    ("x.numel()", lambda: x().numel(), lambda: A.size),
    ("x.dim()", lambda: x().dim(), lambda: A.ndim),
    ("x.float()", lambda: x().double().float(), lambda: A.astype(np.float32)),
    ("x.double()", lambda: x().float().double(), lambda: A.astype(np.float32).astype(np.float64)),
    ("x.long()", lambda: x().long(), lambda: A.astype(np.int64)),
    ("x.int()", lambda: x().int(), lambda: A.astype(np.int32)),
    ("x.bool()", lambda: x().bool(), lambda: A.astype(bool)),
    ("x.view(-1)", lambda: x().view(-1), lambda: A.reshape(-1)),
    ("x.view(2, 6)", lambda: x().view(2, 6), lambda: A.reshape(2, 6)),
    ("x.reshape(4, -1)", lambda: x().reshape(4, -1), lambda: A.reshape(4, -1)),
    ("x.reshape((6, 2))", lambda: x().reshape((6, 2)), lambda: A.reshape(6, 2)),
    ("x[None].expand(2, 3, 4)", lambda: x()[None].expand(2, 3, 4),
     lambda: np.broadcast_to(A[None], (2, 3, 4))),
    ("x[:, :1].expand(-1, 5)", lambda: x()[:, :1].expand(-1, 5),
     lambda: np.broadcast_to(A[:, :1], (3, 5))),
    ("x.expand(2, -1, -1)", lambda: x().expand(2, -1, -1), lambda: np.broadcast_to(A, (2, 3, 4))),
    ("x.repeat(2, 1)", lambda: x().repeat(2, 1), lambda: np.tile(A, (2, 1))),
    ("x.repeat(2, 1, 3)", lambda: x().repeat(2, 1, 3), lambda: np.tile(A, (2, 1, 3))),
    ("x.chunk(2, dim=1)", lambda: x().chunk(2, dim=1), lambda: (A[:, :2], A[:, 2:])),
    ("x.chunk(2) of 3 rows", lambda: x().chunk(2), lambda: (A[:2], A[2:])),
    ("x.split(1, dim=0)", lambda: x().split(1, dim=0), lambda: (A[:1], A[1:2], A[2:])),
    ("x.split(3, dim=1)", lambda: x().split(3, dim=1), lambda: (A[:, :3], A[:, 3:])),
    ("x.split([1, 3], dim=1)", lambda: x().split([1, 3], dim=1), lambda: (A[:, :1], A[:, 1:])),
    ("x.clone()", lambda: x().clone(), lambda: A.copy()),
    ("torch.cat([x, x], dim=1)", lambda: gg.cat([x(), x()], dim=1),
     lambda: np.concatenate([A, A], axis=1)),
    ("torch.cat((x, x))", lambda: gg.cat((x(), x())), lambda: np.concatenate([A, A])),
    ("torch.stack([x, x], dim=2)", lambda: gg.stack([x(), x()], dim=2),
     lambda: np.stack([A, A], axis=2)),
    ("x.t()", lambda: x().t(), lambda: A.T),
    ("x.T", lambda: x().T, lambda: A.T),
    ("x.transpose(0, 1)", lambda: x().transpose(0, 1), lambda: A.swapaxes(0, 1)),
    ("x.permute(1, 0)", lambda: x().permute(1, 0), lambda: A.transpose(1, 0)),
    ("torch.permute(x, (1, 0))", lambda: gg.permute(x(), (1, 0)), lambda: A.transpose(1, 0)),
    ("x.unsqueeze(1)", lambda: x().unsqueeze(1), lambda: A[:, None]),
    ("torch.unsqueeze(x, 0)", lambda: gg.unsqueeze(x(), 0), lambda: A[None]),
    ("x.unsqueeze(0).squeeze(0)", lambda: x().unsqueeze(0).squeeze(0), lambda: A),
    ("x[None].squeeze(dim=0)", lambda: x()[None].squeeze(dim=0), lambda: A),
    ("x.flatten()", lambda: x().flatten(), lambda: A.ravel()),
    ("x.pow(2)", lambda: x().pow(2.0), lambda: A ** 2),
    ("x.abs().pow(0.5)", lambda: x().abs().pow(0.5), lambda: np.abs(A) ** 0.5),
    ("x.matmul(y)", lambda: x().matmul(gg.tensor(B)), lambda: A @ B),
    ("x.mm(x.t())", lambda: x().mm(x().t()), lambda: A @ A.T),
    ("x.add(1)", lambda: x().add(1.0), lambda: A + 1),
    ("x.sub(y)", lambda: x().sub(gg.tensor(B)), lambda: A - B),
    ("x.mul(2)", lambda: x().mul(2.0), lambda: A * 2),
    ("x.div(y)", lambda: x().div(gg.tensor(B)), lambda: A / B),
    ("x.neg()", lambda: x().neg(), lambda: -A),
    ("x.exp()", lambda: x().exp(), lambda: np.exp(A)),
    ("x.abs().log()", lambda: x().abs().log(), lambda: np.log(np.abs(A))),
    ("x.sin()", lambda: x().sin(), lambda: np.sin(A)),
    ("x.erf()", lambda: x().erf(), lambda: np.vectorize(math.erf)(A)),
    ("x.sign()", lambda: x().sign(), lambda: np.sign(A)),
    ("x.floor()", lambda: (x() / 4.0).floor(), lambda: np.floor(A / 4)),
    ("x.ceil()", lambda: (x() / 4.0).ceil(), lambda: np.ceil(A / 4)),
    ("x.round()", lambda: (x() / 4.0).round(), lambda: np.round(A / 4)),
    ("x.clamp(min=-1, max=2)", lambda: x().clamp(min=-1.0, max=2.0), lambda: np.clip(A, -1, 2)),
    ("x.clamp(0)", lambda: x().clamp(0.0), lambda: np.maximum(A, 0)),
    ("x.maximum(y)", lambda: x().maximum(gg.tensor(B)), lambda: np.maximum(A, B)),
    ("x.minimum(y)", lambda: x().minimum(gg.tensor(B)), lambda: np.minimum(A, B)),
    ("x.where-like torch.where(x > 0, x, 0)", lambda: gg.where(x() > 0, x(), 0.0),
     lambda: np.where(A > 0, A, 0)),
    ("x.isnan()", lambda: gg.tensor(SPECIAL).isnan(), lambda: np.isnan(SPECIAL)),
    ("x.isinf()", lambda: gg.tensor(SPECIAL).isinf(), lambda: np.isinf(SPECIAL)),
    ("x.isfinite()", lambda: gg.tensor(SPECIAL).isfinite(), lambda: np.isfinite(SPECIAL)),
    ("x.gt(0)", lambda: x().gt(0.0), lambda: A > 0),
    ("x.le(y)", lambda: x().le(gg.tensor(B)), lambda: A <= B),
    ("x.eq(x)", lambda: x().eq(x()), lambda: A == A),
    ("x.ne(0)", lambda: x().ne(0.0), lambda: A != 0),
    ("x.to(torch.float32)", lambda: x().to(gg.float32), lambda: A.astype(np.float32)),
    ("x.to('cpu', torch.float32)", lambda: x().to("cpu", gg.float32),
     lambda: A.astype(np.float32)),
    ("x.to(other)", lambda: x().to(gg.tensor(B.astype(np.float32))),
     lambda: A.astype(np.float32)),
    ("torch.zeros(2, 3)", lambda: gg.zeros(2, 3), lambda: np.zeros((2, 3))),
    ("torch.ones(2, 3)", lambda: gg.ones(2, 3), lambda: np.ones((2, 3))),
    ("torch.zeros((2, 3))", lambda: gg.zeros((2, 3)), lambda: np.zeros((2, 3))),
    ("torch.randn(2, 3).shape", lambda: gg.randn(2, 3, seed=0).shape, lambda: (2, 3)),
]


def _compare(got, expected) -> None:
    if isinstance(expected, tuple) and expected and isinstance(expected[0], np.ndarray):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _compare(g, e)
        return
    if isinstance(got, gg.Tensor):
        assert got.shape == np.shape(expected)
        values = got.numpy()
        assert values.dtype.kind == np.asarray(expected).dtype.kind, (values.dtype, expected)
        np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-12)
    else:  # sizes and shapes: Python ints and tuples
        assert isinstance(got, (int, tuple)) and got == expected


@pytest.mark.parametrize("spelling, run, numpy", SPELLINGS, ids=[s for s, _, _ in SPELLINGS])
def test_pytorch_spelling_runs_and_matches_numpy(spelling, run, numpy):
    _compare(run(), numpy())


def test_dtype_methods_give_the_torch_dtypes():
    t = x()
    assert [str(t.float().dtype), str(t.double().dtype), str(t.long().dtype),
            str(t.int().dtype), str(t.bool().dtype)] == \
        ["float32", "float64", "int64", "int32", "bool"]


def test_size_is_numpys_int_and_pytorchs_call():
    t = gg.tensor(np.zeros((2, 5, 3)))
    assert t.size == 30 and isinstance(t.size, int)
    assert t.size + 1 == 31 and type(t.size + 1) is int
    assert t.size() == (2, 5, 3) and t.size(1) == 5 and t.size(-3) == 2
    assert np.zeros(t.size).shape == (30,)
    with pytest.raises(gg.ShapeError, match=r"size: dim 3 is out of range .* 3 dimensions"):
        t.size(3)
    with pytest.raises(gg.GraphgradError, match=r"size: dim must be an int or None, got 1.0"):
        t.size(1.0)


def test_pytorch_spellings_differentiate_like_their_numpy_meaning():
    """repeat, expand, chunk, split and clone are differentiable: each tile's gradient adds up."""
    w = gg.tensor(A, requires_grad=True)
    weights = np.arange(2 * 3 * 4 * 2).reshape(2, 3, 8) * 1.0  # repeat (2, 1, 2) of (3, 4)
    (w.repeat(2, 1, 2) * gg.tensor(weights)).sum().backward()
    expected = weights.reshape(2, 3, 2, 4).sum(axis=(0, 2))
    np.testing.assert_allclose(w.grad.numpy(), expected)

    w = gg.tensor(A, requires_grad=True)
    left, right = w.chunk(2, dim=1)
    (left * 2.0 + right.clone().expand(5, 3, 2).sum(dim=0) * 3.0).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.concatenate(
        [np.full((3, 2), 2.0), np.full((3, 2), 15.0)], axis=1))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std", "norm",
                                  "logsumexp", "argmax", "argmin", "any", "all"])
def test_reduction_signatures_show_dim_and_a_docstring(name):
    for fn in (getattr(gg, name), getattr(gg.Tensor, name)):
        parameters = inspect.signature(fn).parameters
        assert "dim" in parameters and "keepdim" in parameters
        # max/min take torch's dim positionally (x.max(1) is torch.max's (values, indices))
        assert parameters["dim"].kind is (inspect.Parameter.POSITIONAL_OR_KEYWORD
                                          if name in ("max", "min")
                                          else inspect.Parameter.KEYWORD_ONLY)
        assert fn.__doc__ and len(fn.__doc__.split()) >= 8
    assert gg.Tensor.__dict__[name] is getattr(gg, name)  # the method IS the public op


def test_help_on_tensor_sum_shows_the_real_signature_and_doc():
    text = pydoc.render_doc(gg.Tensor.sum, renderer=pydoc.plaintext)
    assert "dim: int | tuple[int, ...] | None = None" in text
    assert "keepdim" in text and "torch.sum" in text and "gradient" in text
    assert "*args" not in text and "**params" not in text


def test_both_spellings_at_once_is_an_error():
    with pytest.raises(gg.GraphgradError, match=r"sum: got both axis=0 and dim=1"):
        x().sum(0, dim=1)
    with pytest.raises(gg.GraphgradError, match=r"mean: got both keepdims and keepdim"):
        x().mean(keepdims=True, keepdim=True)
