"""RMSprop, Adagrad, AdamW (and Adam's amsgrad) against NumPy transcriptions of the update rules
in PyTorch's documentation, and against torch itself when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad._tensor import Tensor
from graphgrad.nn import Parameter
from graphgrad.optim import SGD, Adagrad, Adam, AdamW, RMSprop

STEPS = 5


def gradients(shape, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    # scales that differ by orders of magnitude, as per-parameter step sizes are meant for
    return [rng.standard_normal(shape) * np.array([1e-3, 1.0, 30.0])[: shape[-1]]
            for _ in range(steps)]


W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]])


def run_graphgrad(make, w0=W0, grads=None, bias=False):
    """Step `make([...])` through `grads`; with `bias`, a 1-D parameter rides along."""
    grads = gradients(w0.shape) if grads is None else grads
    w = Parameter(w0.copy())
    b = Parameter(w0[0].copy())
    opt = make([w, b] if bias else [w])
    for g in grads:
        w.grad = Tensor(g)
        b.grad = Tensor(g[0])
        opt.step()
    return (w.data, b.data) if bias else w.data


# ---------------------------------------------------------------- the documented formulas
def rmsprop_reference(w, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    v, g_avg, b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            w = w - lr * b
        else:
            w = w - lr * g / (np.sqrt(v_tilde) + eps)
    return w


def adagrad_reference(w, grads, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10):
    state_sum = np.full_like(w, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        lr_t = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * w
        state_sum = state_sum + g**2
        w = w - lr_t * g / (np.sqrt(state_sum) + eps)
    return w


def adamw_reference(w, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                    amsgrad=False, decoupled=True):
    beta1, beta2 = betas
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


CASES = [
    (RMSprop, rmsprop_reference, {}),
    (RMSprop, rmsprop_reference, {"lr": 0.05, "alpha": 0.9, "momentum": 0.8}),
    (RMSprop, rmsprop_reference, {"centered": True, "weight_decay": 0.3, "eps": 1e-3}),
    (RMSprop, rmsprop_reference, {"centered": True, "momentum": 0.5, "alpha": 0.5}),
    (Adagrad, adagrad_reference, {}),
    (Adagrad, adagrad_reference, {"lr": 0.3, "lr_decay": 0.25, "weight_decay": 0.2}),
    (Adagrad, adagrad_reference, {"initial_accumulator_value": 0.5, "eps": 1e-3}),
    (AdamW, adamw_reference, {}),
    (AdamW, adamw_reference, {"lr": 0.1, "weight_decay": 0.5, "betas": (0.8, 0.9)}),
    (AdamW, adamw_reference, {"lr": 0.1, "amsgrad": True}),
    (Adam, lambda w, g, **kw: adamw_reference(w, g, decoupled=False, **kw),
     {"lr": 0.1, "amsgrad": True, "weight_decay": 0.3}),
]
IDS = [f"{cls.__name__}-{'-'.join(map(str, hyper)) or 'defaults'}" for cls, _, hyper in CASES]


@pytest.mark.parametrize(("cls", "reference", "hyper"), CASES, ids=IDS)
def test_steps_follow_the_documented_formula(cls, reference, hyper):
    hyper_in = dict(hyper)
    if cls is Adam:
        hyper_in.setdefault("lr", 1e-3)
    got = run_graphgrad(lambda ps: cls(ps, **hyper_in))
    np.testing.assert_allclose(got, reference(W0, gradients(W0.shape), **hyper), rtol=1e-12,
                               atol=1e-14)


def test_the_defaults_are_pytorchs():
    w = [Parameter(np.ones((2, 2)))]
    assert {k: RMSprop(w).defaults[k] for k in ("lr", "alpha", "eps", "weight_decay",
                                                 "momentum", "centered")} == {
        "lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0, "momentum": 0,
        "centered": False}
    assert {k: Adagrad(w).defaults[k] for k in ("lr", "lr_decay", "weight_decay",
                                                 "initial_accumulator_value", "eps")} == {
        "lr": 0.01, "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0,
        "eps": 1e-10}
    assert {k: AdamW(w).defaults[k] for k in ("lr", "betas", "eps", "weight_decay",
                                               "amsgrad")} == {
        "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False}


def test_adamw_decay_is_decoupled_and_spares_biases():
    """With a zero gradient Adam's L2 term still moves w by about lr (m/√v ≈ ±1), while AdamW
    shrinks w by exactly the factor 1 − lr·λ; biases are not decayed (graphgrad's rule)."""
    zero = [np.zeros(W0.shape)]
    w, b = run_graphgrad(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.5), grads=zero, bias=True)
    np.testing.assert_allclose(w, W0 * (1 - 0.1 * 0.5), rtol=1e-15)
    np.testing.assert_array_equal(b, W0[0])
    coupled = run_graphgrad(lambda ps: Adam(ps, lr=0.1, weight_decay=0.5), grads=zero)
    np.testing.assert_allclose(coupled, W0 - 0.1 * np.sign(W0), rtol=1e-6)


def test_centered_rmsprop_of_a_constant_gradient_stays_finite():
    """A constant gradient has zero variance: v − ḡ² is 0 up to rounding and may come out
    -1e-17, whose square root would be nan."""
    grads = [np.full(W0.shape, 0.1)] * 20  # with alpha=0.1, v − ḡ² = -1.7e-18 at step 16
    got = run_graphgrad(lambda ps: RMSprop(ps, centered=True, alpha=0.1), grads=grads)
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize(("cls", "hyper"), [
    (RMSprop, {"momentum": 0.9, "centered": True}),
    (Adagrad, {"lr_decay": 0.1, "initial_accumulator_value": 0.1}),
    (AdamW, {"amsgrad": True}),
])
def test_checkpoint_round_trip_continues_the_same_run(tmp_path, cls, hyper):
    grads = gradients(W0.shape, steps=6)

    def run(resume):
        w = Parameter(W0.copy())
        opt = cls([w], lr=0.05, **hyper)
        for step, g in enumerate(grads):
            if resume and step == 3:
                gg.save({"w": w.data, "opt": opt}, tmp_path / "c.npz")
                state = gg.load(tmp_path / "c.npz")
                w = Parameter(state["w"])
                opt = cls([w], lr=0.5)  # the loaded hyper-parameters must win
                opt.load_state_dict(state["opt"])
            w.grad = Tensor(g)
            opt.step()
        return w.data, opt

    resumed, opt = run(resume=True)
    straight, _ = run(resume=False)
    np.testing.assert_array_equal(resumed, straight)
    assert all(opt.param_groups[0][k] == v for k, v in hyper.items())


def test_state_of_another_optimizer_is_refused():
    w = [Parameter(np.ones((2, 2)))]
    rms = RMSprop(w, momentum=0.9)
    with pytest.raises(ValueError, match=r"\['alpha', 'centered', 'momentum'\] are not options "
                                         r"of Adagrad"):
        Adagrad(w).load_state_dict(rms.state_dict())
    with pytest.raises(ValueError, match=r"\['momentum', 'nesterov'\] are not options of AdamW"):
        AdamW(w).load_state_dict(SGD(w, lr=0.1, momentum=0.5).state_dict())


@pytest.mark.parametrize(("make", "message"), [
    (lambda w: RMSprop(w, alpha=1.5), r"alpha must be a finite real number in \[0, 1\]"),
    (lambda w: RMSprop(w, centered="no"), "centered must be True or False, got 'no'"),
    (lambda w: RMSprop(w, momentum=1.0), r"momentum must be a finite real number in \[0, 1\)"),
    (lambda w: RMSprop(w, eps=0), "eps must be a finite real number > 0"),
    (lambda w: Adagrad(w, lr_decay=-0.1), "lr_decay must be a finite real number >= 0"),
    (lambda w: Adagrad(w, initial_accumulator_value=-1),
     "initial_accumulator_value must be a finite real number >= 0"),
    (lambda w: AdamW(w, amsgrad=1), "amsgrad must be True or False, got 1"),
    (lambda w: AdamW(w, betas=(0.9, 1.0)), r"betas\[1\] must be a finite real number in \[0, 1\)"),
    (lambda w: AdamW(w, momentum=0.9), r"AdamW: unknown option\(s\) \['momentum'\]"),
])
def test_bad_hyperparameters_name_the_option(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make([Parameter(np.ones((2, 2)))])


# ---------------------------------------------------------------- against torch itself
TORCH_CASES = [
    ("RMSprop", {}), ("RMSprop", {"lr": 0.05, "momentum": 0.9, "centered": True,
                                  "weight_decay": 0.1, "alpha": 0.9}),
    ("Adagrad", {}), ("Adagrad", {"lr": 0.3, "lr_decay": 0.1, "weight_decay": 0.1,
                                  "initial_accumulator_value": 0.5}),
    ("AdamW", {}), ("AdamW", {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True,
                              "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
]


@pytest.mark.parametrize(("name", "hyper"), TORCH_CASES,
                         ids=[f"{n}-{'-'.join(h) or 'defaults'}" for n, h in TORCH_CASES])
def test_matches_torch(name, hyper):
    """Weights decay in both, biases only in torch, so torch gets them in a group without."""
    torch = pytest.importorskip("torch")
    grads = gradients(W0.shape)
    w, b = run_graphgrad(lambda ps: getattr(gg.optim, name)(ps, **hyper), grads=grads, bias=True)
    tw = torch.tensor(W0.copy(), requires_grad=True)
    tb = torch.tensor(W0[0].copy(), requires_grad=True)
    opt = getattr(torch.optim, name)([{"params": [tw]}, {"params": [tb], "weight_decay": 0.0}],
                                     **hyper)
    for g in grads:
        tw.grad, tb.grad = torch.tensor(g), torch.tensor(g[0])
        opt.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("cls", "hyper"), [
    (RMSprop, {"momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    (Adagrad, {"lr_decay": 0.1, "initial_accumulator_value": 0.1}),
    (AdamW, {"amsgrad": True, "l1": 0.01}),
])
def test_same_steps_on_every_device(device, cls, hyper):
    """Only array-API calls: the strict stand-in (and so CuPy) takes the same steps."""
    w = Parameter(W0, device=device)
    opt = cls([w], lr=0.05, **hyper)
    for g in gradients(W0.shape):
        w.grad = Tensor(g, device=device)
        opt.step()
    expected = run_graphgrad(lambda ps: cls(ps, lr=0.05, **hyper))
    assert w.device is device  # the updates stayed on the device
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)
