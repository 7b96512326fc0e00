"""Optimizers refuse what they cannot update, validate loaded state, cast it to each parameter,
and apply a step all or nothing."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.nn import Parameter
from graphgrad.optim import SGD, Adam
from graphgrad._tensor import Tensor


def params(count=8, dtype=np.float64):
    rng = np.random.default_rng(0)
    out = [Parameter(rng.standard_normal((2, 3)).astype(dtype)) for _ in range(count)]
    for p in out:
        p.grad = Tensor(rng.standard_normal((2, 3)).astype(dtype))
    return out


@pytest.mark.parametrize("make", [lambda w: SGD(w, lr=0.1), lambda w: Adam(w, lr=0.1)])
def test_one_tensor_instead_of_a_list_is_refused(make):
    """Iterating a tensor gives its rows: the optimizer updated copies and never `w`."""
    w = Parameter(np.ones((3, 2)))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got Parameter"):
        make(w)


def test_a_non_leaf_tensor_is_refused():
    w = Parameter(np.ones(3))
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor.*'mul'"):
        SGD([w * 2.0], lr=0.1)


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_an_interrupted_step_changes_no_parameter(monkeypatch, optimizer):
    ps = params()
    opt = optimizer(ps, lr=0.1, **({"momentum": 0.9} if optimizer is SGD else {}))
    opt.step()  # some state exists already
    before = [p.data for p in ps]
    state_before = {key: dict(value) for key, value in opt.state.items()}
    real_update, calls = optimizer.update, []

    def interrupted_at_the_fifth(self, w, g, group, state):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_update(self, w, g, group, state)

    monkeypatch.setattr(optimizer, "update", interrupted_at_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert all(p.data is old for p, old in zip(ps, before))
    assert opt.state.keys() == state_before.keys()
    assert all(opt.state[k][name] is value for k, entry in state_before.items()
               for name, value in entry.items())
    monkeypatch.setattr(optimizer, "update", real_update)
    opt.step()
    assert not any(p.data is old for p, old in zip(ps, before))


def test_loaded_adam_state_takes_each_parameters_dtype(tmp_path):
    """Moments saved from a float64 run turned a float32 model into float64 after one step."""
    wide = params(2, np.float64)
    opt = Adam(wide, lr=0.01)
    opt.step()
    gg.save(opt, tmp_path / "adam.npz")
    narrow = params(2, np.float32)
    opt32 = gg.load(tmp_path / "adam.npz", into=Adam(narrow, lr=0.01))
    assert all(opt32.state[id(p)][name].dtype == np.float32 for p in narrow for name in "mv")
    assert opt32.state[id(narrow[0])]["step"] == 1
    opt32.step()
    assert all(p.data.dtype == np.float32 for p in narrow)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("lr", "0.1", "lr must be a finite real number >= 0, got '0.1'"),
    ("lr", np.array([0.1, 0.2]), r"lr must be a finite real number >= 0, got \(0.1, 0.2\)"),
    ("lr", np.nan, "lr must be a finite real number"),
    ("eps", 0.0, r"eps must be a finite real number > 0"),
    ("betas", np.array([0.9, 1.0]), r"betas\[1\] must be a finite real number in \[0, 1\)"),
    ("betas", np.array([0.9]), "betas must be a pair"),
    ("weight_decay", -1.0, "weight_decay must be a finite real number >= 0"),
])
def test_loaded_hyperparameters_are_validated_before_anything_changes(tmp_path, key, value,
                                                                      message):
    ps = params(2)
    opt = Adam(ps, lr=0.01)
    opt.step()
    state = opt.state_dict()
    state["groups"]["0"][key] = np.asarray(value)
    gg.save(state, tmp_path / "bad.npz")
    fresh = Adam(ps, lr=0.02)
    with pytest.raises(gg.CheckpointError, match=message):
        gg.load(tmp_path / "bad.npz", into=fresh)
    assert fresh.param_groups[0]["lr"] == 0.02 and fresh.state == {}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("momentum", "0.9", "momentum must be a finite real number in"),
    ("momentum", 1.0, r"momentum must be a finite real number in \[0, 1\)"),
    ("nesterov", "yes", "nesterov must be True or False"),
])
def test_sgd_hyperparameters_are_validated(key, value, message):
    with pytest.raises(ValueError, match=message):
        SGD(params(1), **{"lr": 0.1, "momentum": 0.5, key: value})


def test_loaded_state_of_the_wrong_shape_or_kind_is_refused():
    ps = params(1)
    opt = SGD(ps, lr=0.1, momentum=0.9)
    opt.step()
    state = opt.state_dict()
    for velocity, message in ((np.zeros((3, 2)), r"expected shape \(2, 3\)"),
                              (np.array(["a"]), "expected numbers")):
        state["state"]["0"]["velocity"] = velocity
        with pytest.raises(ValueError, match=message):
            SGD(ps, lr=0.1, momentum=0.9).load_state_dict(state)
