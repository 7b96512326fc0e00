"""fit(..., compile=True): the compiled forward + loss step trains exactly as eager fit does."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.train import fit


@pytest.fixture(scope="module")
def digits():
    return load_digits(flat=True)


def _run(digits, compile: bool):
    calls = []

    def loss_fn(out, y):
        calls.append(out.shape[0])
        return gg.cross_entropy(out, y)

    with gg.default_dtype("float64"):
        model = nn.Sequential(nn.Linear(64, 16, rng=0), nn.ReLU(), nn.Dropout(0.2, rng=3),
                              nn.Linear(16, 10, rng=1))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        # 200 examples in batches of 64: the last batch has 8 (one more trace when compiled)
        history = fit(model, opt, (digits.x_train[:200], digits.y_train[:200]), epochs=3,
                      val=(digits.x_test[:100], digits.y_test[:100]), progress=False,
                      loss_fn=loss_fn, compile=compile)
    return history, [p.numpy() for p in model.parameters()], calls


def test_compiled_fit_follows_the_eager_loss_curve(digits):
    eager, eager_weights, eager_calls = _run(digits, compile=False)
    compiled, compiled_weights, compiled_calls = _run(digits, compile=True)
    # eager: every step runs the Python loss and every validation; compiled: one trace per batch
    # size (64, then the last batch's 8), the validation stays eager
    assert compiled_calls == [64, 8, 100, 100, 100] and len(eager_calls) == 3 * 4 + 3
    assert eager.train_loss[-1] < eager.train_loss[0]  # it trains: the comparison means something
    np.testing.assert_allclose(compiled.train_loss, eager.train_loss, rtol=1e-10)
    np.testing.assert_allclose(compiled.val_loss, eager.val_loss, rtol=1e-10)
    assert compiled.train_accuracy == eager.train_accuracy
    for c, e in zip(compiled_weights, eager_weights):
        np.testing.assert_allclose(c, e, rtol=1e-9, atol=1e-12)


def test_compile_does_not_combine_with_workers(digits):
    model = nn.Sequential(nn.Linear(64, 10, rng=0))
    with pytest.raises(ValueError, match="compile=True .* workers="):
        fit(model, optim.SGD(model.parameters(), lr=0.1), (digits.x_train[:64],
            digits.y_train[:64]), epochs=1, progress=False, compile=True, workers=2)


def test_demo_command_passes_compile_on(monkeypatch):
    from graphgrad.__main__ import main
    from graphgrad.cli import demo

    seen = {}
    monkeypatch.setattr(demo, "run_demo", lambda out, **kwargs: seen.update(kwargs))
    assert main(["demo", "--out", "unused", "--epochs", "1", "--no-progress", "--compile"]) == 0
    assert seen["compile"] is True
    assert main(["demo", "--out", "unused", "--epochs", "1", "--no-progress"]) == 0
    assert seen["compile"] is False
