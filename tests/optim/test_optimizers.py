"""Optimizer updates against values worked out by hand (scalars, a few steps)."""


import numpy as np
import pytest

from graphgrad.nn import Parameter
from graphgrad.optim import SGD, Adam, max_norm_project
from graphgrad._tensor import Tensor


def param(values):
    return Parameter(np.asarray(values, dtype=np.float64))


def set_grad(p, values):
    p.grad = Tensor(np.asarray(values, dtype=np.float64))


def test_plain_sgd():
    w = param([1.0, -2.0])
    opt = SGD([w], lr=0.1)
    set_grad(w, [0.5, 1.0])
    opt.step()
    np.testing.assert_allclose(w.data, [0.95, -2.1])


def test_sgd_momentum_by_hand():
    # v1 = g = 1, w1 = 1 - 0.1*1 = 0.9;  v2 = 0.9*1 + 1 = 1.9, w2 = 0.9 - 0.19 = 0.71
    w = param([1.0])
    opt = SGD([w], lr=0.1, momentum=0.9)
    for _ in range(2):
        set_grad(w, [1.0])
        opt.step()
    np.testing.assert_allclose(w.data, [0.71])


def test_sgd_nesterov_by_hand():
    # step 1: v = 1, update g + 0.9 v = 1.9 -> w = 1 - 0.19 = 0.81
    # step 2: v = 0.9 + 1 = 1.9, update 1 + 0.9*1.9 = 2.71 -> w = 0.81 - 0.271 = 0.539
    w = param([1.0])
    opt = SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(2):
        set_grad(w, [1.0])
        opt.step()
    np.testing.assert_allclose(w.data, [0.539])


def test_adam_first_steps_by_hand():
    # with bias correction the first step is lr * g/|g| whatever the scale of g
    w = param([1.0, 1.0])
    opt = Adam([w], lr=0.01)
    set_grad(w, [1e-3, -50.0])
    opt.step()
    np.testing.assert_allclose(w.data, [0.99, 1.01], rtol=1e-6)
    # second step, g2 = [1e-3, 50]: m = 0.9*m1 + 0.1*g2, v = 0.999*v1 + 0.001*g2^2
    g1, g2 = np.array([1e-3, -50.0]), np.array([1e-3, 50.0])
    m = 0.9 * (0.1 * g1) + 0.1 * g2
    v = 0.999 * (0.001 * g1**2) + 0.001 * g2**2
    expected = np.array([0.99, 1.01]) - 0.01 * (m / (1 - 0.9**2)) / (
        np.sqrt(v / (1 - 0.999**2)) + 1e-8
    )
    set_grad(w, g2)
    opt.step()
    np.testing.assert_allclose(w.data, expected, rtol=1e-6)


def test_adam_minimises_a_quadratic():
    w = param([3.0, -4.0])
    opt = Adam([w], lr=0.1)
    for _ in range(300):
        set_grad(w, 2 * w.data)  # d/dw of |w|^2
        opt.step()
    assert np.abs(w.data).max() < 0.05


def test_weight_decay_l1_and_biases():
    w = param([[2.0, -1.0]])
    b = param([2.0])
    opt = SGD([w, b], lr=0.1, weight_decay=0.5, l1=0.2)
    set_grad(w, [[0.0, 0.0]])
    set_grad(b, [0.0])
    opt.step()
    # w <- w - lr*(λ2 w + λ1 sign w) = [2 - 0.1*(1 + 0.2), -1 - 0.1*(-0.5 - 0.2)]
    np.testing.assert_allclose(w.data, [[1.88, -0.93]])
    np.testing.assert_allclose(b.data, [2.0])  # biases are not regularised


def test_max_norm_constraint():
    w = param([[3.0, 4.0], [0.3, 0.4]])  # row norms 5 and 0.5
    opt = SGD([w], lr=0.1, max_norm=1.0)
    set_grad(w, [[0.0, 0.0], [0.0, 0.0]])
    opt.step()
    np.testing.assert_allclose(w.data, [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    conv = np.ones((2, 1, 2, 2))  # each output channel has norm 2
    np.testing.assert_allclose(max_norm_project(conv, 1.0), conv / 2, rtol=1e-6)


def test_param_groups_frozen_and_zero_grad():
    head, middle, frozen = param([1.0]), param([1.0]), param([1.0])
    frozen.requires_grad_(False)
    opt = SGD(
        [{"params": [head]}, {"params": [middle], "lr": 0.01}, {"params": [frozen]}], lr=0.1
    )
    for p in (head, middle):
        set_grad(p, [1.0])
    opt.step()
    np.testing.assert_allclose(head.data, [0.9])
    np.testing.assert_allclose(middle.data, [0.99])
    np.testing.assert_allclose(frozen.data, [1.0])
    opt.zero_grad()
    assert head.grad is None and middle.grad is None
    opt.step()  # no gradients: nothing moves
    np.testing.assert_allclose(head.data, [0.9])


def test_optimizer_does_not_alias_caller_arrays():
    source = np.array([1.0, 2.0])
    w = Parameter(source)
    opt = SGD([w], lr=1.0)
    set_grad(w, [1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(source, [1.0, 2.0])


def test_errors_name_the_problem():
    w = param([1.0])
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['lrr'\]"):
        SGD([w], lrr=0.1)
    with pytest.raises(ValueError, match="no learning rate"):
        SGD([w])
    with pytest.raises(ValueError, match=r"momentum must be a finite real number in \[0, 1\)"):
        SGD([w], lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov=True needs momentum"):
        SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="expected Tensors/Parameters"):
        SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="max_norm must be a positive number or None"):
        SGD([w], lr=0.1, max_norm=0)
    with pytest.raises(ValueError, match="weight_decay must be a finite real number >= 0"):
        SGD([w], lr=0.1, weight_decay=-1)
    opt = SGD([w], lr=0.1)
    w.grad = Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"gradient shape \(2,\) differs from parameter shape"):
        opt.step()


def test_state_dict_round_trip_restores_momentum(tmp_path):
    from graphgrad.io import load, save

    def run(resume):
        w = param([1.0, 2.0])
        opt = SGD([w], lr=0.1, momentum=0.9)
        for step in range(4):
            if resume and step == 2:
                save({"w": w.data, "opt": opt.state_dict()}, tmp_path / "c.npz")
                state = load(tmp_path / "c.npz")
                w = param(state["w"])
                opt = SGD([w], lr=0.5, momentum=0.9)
                opt.load_state_dict(state["opt"])
            set_grad(w, [1.0, -1.0])
            opt.step()
        return w.data

    np.testing.assert_allclose(run(resume=True), run(resume=False))
    w = param([1.0])
    opt = SGD([w], lr=0.1, momentum=0.9)
    bad = {"groups": {"0": {"lr": np.asarray(0.1)}}, "state": {"0": {"velocity": np.ones(3)}}}
    with pytest.raises(ValueError, match=r"expected shape \(1,\), got \(3,\)"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_restores_an_option_that_was_none(tmp_path):
    """state_dict() holds plain arrays, so it leaves out max_norm=None; loading it into an
    optimizer with a max_norm must give None back, not keep the loader's value."""
    from graphgrad.io import load, save

    saved = SGD([param([1.0])], lr=0.1)
    assert saved.param_groups[0]["max_norm"] is None
    save({"opt": saved.state_dict()}, tmp_path / "o.npz")
    loader = SGD([param([1.0])], lr=0.5, max_norm=1.0)
    loader.load_state_dict(load(tmp_path / "o.npz")["opt"])
    assert loader.param_groups[0]["max_norm"] is None and loader.param_groups[0]["lr"] == 0.1
    clipped = SGD([param([1.0])], lr=0.1, max_norm=2.0)
    loader.load_state_dict(clipped.state_dict())
    assert loader.param_groups[0]["max_norm"] == 2.0


def test_repr_lists_groups():
    opt = SGD([param([1.0]), param([2.0])], lr=0.1, momentum=0.5)
    assert "group 0: 2 tensors" in repr(opt) and "momentum=0.5" in repr(opt)




def test_load_state_dict_refuses_another_optimizers_state():
    w = param([1.0, 2.0])
    sgd = SGD([w], lr=0.1, momentum=0.9)
    set_grad(w, [1.0, 1.0])
    sgd.step()
    adam = Adam([w], lr=0.01)
    with pytest.raises(ValueError, match=r"\['momentum', 'nesterov'\] are not options of Adam"):
        adam.load_state_dict(sgd.state_dict())
    assert adam.param_groups[0]["lr"] == 0.01 and "momentum" not in adam.param_groups[0]
    assert adam.state == {}
    bad = {"groups": {"1": {"lr": np.asarray(0.5)}}, "state": {}}
    with pytest.raises(ValueError, match="no parameter group 0"):
        sgd.load_state_dict(bad)
    assert sgd.param_groups[0]["lr"] == 0.1


def test_adam_state_dict_round_trip(tmp_path):
    from graphgrad.io import load, save

    def run(resume):
        w = param([1.0, -2.0])
        opt = Adam([w], lr=0.1, betas=(0.8, 0.99))
        for step in range(4):
            if resume and step == 2:
                save({"w": w.data, "opt": opt.state_dict()}, tmp_path / "a.npz")
                state = load(tmp_path / "a.npz")
                w = param(state["w"])
                opt = Adam([w], lr=0.1)
                opt.load_state_dict(state["opt"])
            set_grad(w, [0.5 * (step + 1), -1.0])
            opt.step()
        return w.data

    np.testing.assert_allclose(run(resume=True), run(resume=False))
