"""Conv1d, ConvTranspose2d, AdaptiveAvgPool2d, Embedding, Dropout2d and the activation and loss
modules: values and gradients against NumPy or PyTorch (skipped when torch is missing)."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.errors import ShapeError


def _torch():
    return pytest.importorskip("torch")


def test_conv_kernel_size_zero_names_the_layer():
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be .* each >= 1, got 0"):
        nn.Conv2d(1, 2, 0)
    with pytest.raises(ValueError, match=r"Conv1d: stride"):
        nn.Conv1d(1, 2, 3, stride=0)
    with pytest.raises(ShapeError, match=r"Conv1d\(2, 3\): expected input of shape \(N, 2, L\)"):
        nn.Conv1d(2, 3, 3)(gg.zeros((1, 3, 5)))


def _compare(ours, theirs, x, rtol=1e-9):
    """Forward and input/weight gradients of a graphgrad module and a torch module sharing
    weights (copied from ours)."""
    torch = _torch()
    with torch.no_grad():
        for name, p in ours.named_parameters():
            getattr(theirs, name).copy_(torch.tensor(p.numpy()))
    xt, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xt), theirs(tx)
    dout = np.random.default_rng(9).standard_normal(ty.shape)
    y.backward(gg.tensor(dout))
    ty.backward(torch.tensor(dout))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-10)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), getattr(theirs, name).grad.numpy(),
                                   rtol=rtol, atol=1e-10)


def test_conv1d_and_conv_transpose2d_match_torch(rng):
    torch = _torch()
    _compare(nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, rng=0, dtype="float64"),
             torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64),
             rng.standard_normal((2, 4, 9)))
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, rng=0,
                               dtype="float64")
    assert layer.weight.shape == (4, 2, 3, 3)
    _compare(layer, torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1,
                                             dtype=torch.float64),
             rng.standard_normal((2, 4, 5, 5)))


@pytest.mark.parametrize("size, out", [((6, 4), 1), ((6, 4), (3, 2)), ((7, 5), (3, 2)),
                                       ((5, 5), (None, 2))])
def test_adaptive_avg_pool_matches_torch(size, out, rng):
    torch = _torch()
    x = rng.standard_normal((2, 3) + size)
    torch_out = tuple(s if o is None else o for o, s in zip(out, size)) \
        if isinstance(out, tuple) else out
    _compare(nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(torch_out), x)


def test_global_average_pooling_by_hand(rng):
    x = rng.standard_normal((2, 3, 7, 5))
    xt = gg.tensor(x, requires_grad=True)
    y = nn.AdaptiveAvgPool2d(1)(xt)
    np.testing.assert_allclose(y.numpy(), x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), np.full(x.shape, 1 / 35), rtol=1e-12)


def test_embedding_gathers_rows_and_scatters_gradients():
    emb = nn.Embedding(5, 3, padding_idx=0, rng=0, dtype="float64")
    table = emb.weight.numpy().copy()
    assert np.all(table[0] == 0)
    index = np.array([[1, 4, 1], [0, 2, 1]])
    out = emb(index)
    np.testing.assert_array_equal(out.numpy(), table[index])
    out.sum().backward()
    counts = np.bincount(index.ravel(), minlength=5).astype(float)
    counts[0] = 0  # padding_idx gets no gradient
    np.testing.assert_array_equal(emb.weight.grad.numpy(), np.repeat(counts[:, None], 3, 1))
    with pytest.raises(ShapeError, match=r"indices must be in \[0, 5\)"):
        emb(np.array([5]))
    with pytest.raises(ShapeError, match="must be integers"):
        emb(np.array([1.0]))


def test_embedding_and_row_indexing_on_the_strict_backend():
    """The array API refuses x[int_array] (it wants every axis indexed, an array index only
    beside integers): Embedding failed there. Rows are taken with `take` now, gradients
    scattered back, negative indices counted from the end as NumPy does."""
    index = np.array([[1, 4, 1], [0, 2, 1]])
    outs, grads = [], []
    for device in ("cpu", "strict"):
        emb = nn.Embedding(5, 3, padding_idx=0, rng=0, dtype="float64").to(device)
        out = emb(gg.tensor(index, device=device))
        (out * out).sum().backward()
        outs.append(out.numpy())
        grads.append(emb.weight.grad.numpy())
    np.testing.assert_array_equal(outs[1], outs[0])
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-15)
    x = gg.tensor(np.arange(12.0).reshape(4, 3), device="strict", requires_grad=True)
    rows = x[gg.tensor(np.array([-1, 0, 0]), device="strict")]
    assert rows.numpy().tolist() == [[9.0, 10.0, 11.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    rows.sum().backward()
    assert x.grad.numpy()[:, 0].tolist() == [2.0, 0.0, 0.0, 1.0]


def test_dropout2d_drops_whole_channels():
    layer = nn.Dropout2d(0.5, rng=0)
    x = gg.tensor(np.ones((8, 6, 3, 3)), requires_grad=True)
    y = layer(x).numpy()
    per_channel = y.reshape(8, 6, -1)
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # a channel is all kept or all not
    assert 0 < (per_channel[..., 0] == 0).sum() < 48
    layer.eval()
    assert layer(x) is x


@pytest.mark.parametrize("ours, theirs, args", [
    (lambda: nn.Softmax(1), "Softmax(1)", ()),
    (lambda: nn.LogSoftmax(dim=0), "LogSoftmax(dim=0)", ()),
    (lambda: nn.LeakyReLU(0.2), "LeakyReLU(0.2)", ()),
    (lambda: nn.ELU(0.7), "ELU(0.7)", ()),
    (lambda: nn.GELU(), "GELU()", ()),
    (lambda: nn.GELU("tanh"), "GELU('tanh')", ()),
    (lambda: nn.SiLU(), "SiLU()", ()),
    (lambda: nn.Softplus(2.0), "Softplus(2.0)", ()),
    (lambda: nn.Tanh(), "Tanh()", ()),
])
def test_activation_modules_match_torch(ours, theirs, args, rng):
    torch = _torch()
    _compare(ours(), eval("torch.nn." + theirs, {"torch": torch}), rng.standard_normal((3, 4)))


@pytest.mark.parametrize("name, kwargs, kind", [
    ("CrossEntropyLoss", {}, "labels"), ("NLLLoss", {"reduction": "sum"}, "labels"),
    ("MSELoss", {}, "real"), ("L1Loss", {"reduction": "none"}, "real"),
    ("HuberLoss", {"delta": 0.5}, "real"), ("SmoothL1Loss", {"beta": 0.5}, "real"),
    ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {}, "binary"),
    ("KLDivLoss", {"reduction": "batchmean"}, "dist"),
])
def test_loss_modules_match_torch(name, kwargs, kind, rng):
    torch = _torch()
    x = rng.standard_normal((4, 3))
    target = {"labels": rng.integers(0, 3, 4), "real": rng.standard_normal((4, 3)),
              "binary": (rng.random((4, 3)) > 0.5).astype(float),
              "dist": np.full((4, 3), 1 / 3)}.get(kind, (rng.random((4, 3)) > 0.5).astype(float))
    if kind == "prob":
        x = 1 / (1 + np.exp(-x))
    if kind in ("labels", "dist") and name != "CrossEntropyLoss":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    xt, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = getattr(nn, name)(**kwargs)(xt, target)
    tloss = getattr(torch.nn, name)(**kwargs)(tx, torch.tensor(target))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-10)
    loss.sum().backward()
    tloss.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
