"""Module buffers and the normalisation layers: running statistics, eval mode, checkpoints,
PyTorch's defaults and (when torch is installed) PyTorch's numbers."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.errors import ShapeError


class _WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2, rng=0)
        self.register_buffer("saved", gg.tensor(np.arange(3.0)))
        self.register_buffer("scratch", gg.tensor(np.zeros(2)), persistent=False)


def test_buffers_are_listed_saved_and_not_parameters():
    model = nn.Sequential(_WithBuffers())
    assert [name for name, _ in model.named_buffers()] == ["0.saved", "0.scratch"]
    assert len(model.buffers()) == 2
    assert all(not isinstance(b, nn.Parameter) for b in model.buffers())
    assert {id(p) for p in model.parameters()}.isdisjoint(id(b) for b in model.buffers())
    assert list(model.state_dict()) == ["0.lin.weight", "0.lin.bias", "0.saved"]


def test_load_state_dict_restores_buffers_and_a_failed_load_changes_nothing():
    model = _WithBuffers()
    state = model.state_dict()
    state["saved"] = np.array([7.0, 8.0, 9.0])
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.saved.numpy(), [7.0, 8.0, 9.0])
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = dict(state, saved=np.zeros(4))
    bad["lin.bias"] = np.array([5.0, 5.0])
    with pytest.raises(ValueError, match="saved: expected shape"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    with pytest.raises(KeyError, match="missing"):
        model.load_state_dict({k: v for k, v in state.items() if k != "saved"})


def test_register_buffer_rejects_bad_values():
    model = _WithBuffers()
    with pytest.raises(TypeError, match="expected a Tensor or None"):
        model.register_buffer("x", np.zeros(2))
    with pytest.raises(TypeError, match="a Parameter is trained"):
        model.register_buffer("x", nn.Parameter(np.zeros(2)))
    with pytest.raises(KeyError, match="already exists"):
        model.register_buffer("lin", gg.zeros(2))
    with pytest.raises(TypeError, match="is a buffer"):
        model.saved = np.zeros(3)


def test_to_moves_buffers(device):
    model = nn.BatchNorm1d(3, dtype="float64").to(device)
    assert all(b.device is device for b in model.buffers())
    model(gg.tensor(np.random.default_rng(0).standard_normal((4, 3)), device=device))
    assert model.running_mean.device is device


def test_batchnorm_defaults_and_buffers():
    bn = nn.BatchNorm2d(4)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(4))
    assert nn.BatchNorm2d(4, track_running_stats=False).buffers() == []
    assert nn.BatchNorm1d(2, affine=False).parameters() == []
    bn(gg.tensor(np.arange(32.0).reshape(2, 4, 2, 2), dtype="float32"))
    assert bn.running_mean.numpy().any() and int(bn.num_batches_tracked.item()) == 1
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(4))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(4))
    assert int(bn.num_batches_tracked.item()) == 0


def test_batchnorm2d_training_then_eval_uses_running_stats():
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm2d(2, dtype="float64")
    x = rng.standard_normal((4, 2, 3, 3)) * 3.0 + 2.0
    bn(gg.tensor(x))
    mean, unbiased = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * unbiased, rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    x2 = rng.standard_normal((3, 2, 3, 3))
    out = bn(gg.tensor(x2)).numpy()
    rm = bn.running_mean.numpy()[None, :, None, None]
    rv = bn.running_var.numpy()[None, :, None, None]
    np.testing.assert_allclose(out, (x2 - rm) / np.sqrt(rv + 1e-5), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean, rtol=1e-6)  # unchanged


def test_momentum_none_is_the_cumulative_average():
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm1d(3, momentum=None, dtype="float64")
    batches = [rng.standard_normal((5, 3)) + i for i in range(3)]
    for b in batches:
        bn(gg.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-6)


def test_checkpoint_round_trip_keeps_running_stats(tmp_path):
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, rng=0), nn.BatchNorm2d(3), nn.ReLU())
    for _ in range(2):
        model(gg.tensor(rng.standard_normal((4, 1, 5, 5)), dtype="float32"))
    model.eval()
    x = gg.tensor(rng.standard_normal((2, 1, 5, 5)), dtype="float32")
    path = gg.save(model, tmp_path / "bn.npz")
    fresh = nn.Sequential(nn.Conv2d(1, 3, 3, rng=5), nn.BatchNorm2d(3), nn.ReLU()).eval()
    gg.load(path, into=fresh)
    np.testing.assert_array_equal(fresh[1].running_var.numpy(), model[1].running_var.numpy())
    assert fresh[1].num_batches_tracked.numpy().dtype == np.int64
    assert int(fresh[1].num_batches_tracked.item()) == 2
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_layers_name_the_bad_input():
    with pytest.raises(ShapeError,
                       match=r"BatchNorm2d\(3\): expected input of shape \(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(gg.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 4\)"):
        nn.GroupNorm(2, 4)(gg.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm1d(3, momentum=2.0)


def test_modules_agree_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 3, 3))
    dout = rng.standard_normal(x.shape)
    pairs = [(nn.BatchNorm2d(6, dtype="float64"), torch.nn.BatchNorm2d(6, dtype=torch.float64)),
             (nn.GroupNorm(3, 6, dtype="float64"), torch.nn.GroupNorm(3, 6, dtype=torch.float64)),
             (nn.LayerNorm((3, 3), dtype="float64"),
              torch.nn.LayerNorm((3, 3), dtype=torch.float64))]
    for ours, theirs in pairs:
        for mode in ("train", "eval"):
            getattr(ours, mode)(), getattr(theirs, mode)()
            xt, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            y, ty = ours(xt), theirs(tx)
            y.backward(gg.tensor(dout))
            ty.backward(torch.tensor(dout))
            np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-9, atol=1e-10)
            np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                       rtol=1e-9, atol=1e-10)
            ours.zero_grad(), theirs.zero_grad()
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12)


def test_compile_refuses_to_drop_running_stat_updates():
    bn = nn.BatchNorm1d(3, dtype="float64")
    compiled = gg.compile(lambda x: bn(x))
    x = gg.tensor(np.random.default_rng(4).standard_normal((5, 3)))
    with pytest.raises(gg.errors.ArgumentError, match="gg.compile cannot replay"):
        compiled(x)
    assert int(bn.num_batches_tracked.item()) == 0 and np.all(bn.running_mean.numpy() == 0)
    bn.eval()
    np.testing.assert_allclose(gg.compile(lambda x: bn(x))(x).numpy(), bn(x).numpy())
