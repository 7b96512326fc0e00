import numpy as np
import pytest

from graphgrad import nn, optim
from graphgrad.data import DataLoader, load_digits
from graphgrad.inspection.plotting import plot_kernels
from graphgrad.train import (History, accuracy, confusion_matrix, evaluate, fit,
                             plot_confusion_matrix, plot_history, predict)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits():
    return load_digits(flat=True)


def mlp(seed=0):
    return nn.Sequential(nn.Linear(64, 32, rng=seed), nn.ReLU(), nn.Linear(32, 10, rng=seed + 1))


def test_fit_learns_digits_with_a_small_budget(digits):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(model, opt, (digits.x_train, digits.y_train), epochs=3,
                  val=(digits.x_test, digits.y_test), progress=False)
    assert history.epochs == 3 and len(history.val_accuracy) == 3 and len(history.seconds) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_accuracy[-1] >= 0.90  # chance is 0.10
    loss, acc = evaluate(model, digits.x_test, digits.y_test)
    assert acc == history.val_accuracy[-1] and loss == pytest.approx(history.val_loss[-1])


def test_fit_is_reproducible_and_seed_matters(digits):
    def run(seed):
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.05)
        return fit(model, opt, (digits.x_train[:256], digits.y_train[:256]), epochs=2,
                   seed=seed, progress=False).train_loss

    assert run(0) == run(0)
    assert run(0) != run(1)


def test_fit_with_loader_schedule_and_progress_bar(digits):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    schedule = optim.StepDecay(opt, 1, gamma=0.5)
    loader = DataLoader(digits.x_train[:128], digits.y_train[:128], batch_size=64, seed=0)
    history = fit(model, opt, loader, epochs=3, schedule=schedule, progress=True)
    assert history.lr == [0.1, 0.05, 0.025]
    assert history.val_loss == []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_stops_on_divergence(digits):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(FloatingPointError, match="loss became .* epoch 1.*smaller learning rate"):
        fit(model, opt, (digits.x_train, digits.y_train), epochs=1, progress=False)


def test_fit_argument_errors(digits):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(model, opt, (digits.x_train, digits.y_train), epochs=0)
    with pytest.raises(TypeError, match="DataLoader or a tuple"):
        fit(model, opt, digits.x_train, epochs=1)
    few = DataLoader(digits.x_train[:5], digits.y_train[:5], batch_size=8, drop_last=True)
    with pytest.raises(ValueError, match=r"no batches \(5 examples, batch_size 8, drop_last=True"):
        fit(model, opt, few, epochs=1, progress=False)  # was a ZeroDivisionError


def test_predict_uses_eval_mode_and_restores_training():
    model = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Dropout(0.9, rng=0))
    x = np.ones((4, 3), dtype=np.float32)
    a, b = predict(model, x), predict(model, x)
    np.testing.assert_array_equal(a, b)  # dropout is off
    assert model.training and model[1].training


def test_accuracy_and_confusion_by_hand():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(scores, [1, 0, 0]) == pytest.approx(2 / 3)
    counts = confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
    with pytest.raises(ValueError, match="accuracy: expected scores"):
        accuracy(np.zeros(3), [0, 1, 2])


def test_confusion_matrix_refuses_labels_outside_the_classes():
    # a -1 label used to wrap around silently into the last row
    with pytest.raises(ValueError, match=r"label -1 is not a class in 0\.\.2"):
        confusion_matrix([0, -1], [0, 1], 3)
    with pytest.raises(ValueError,
                       match=r"prediction 3 is not a class in 0\.\.2 \(num_classes=3\)"):
        confusion_matrix([0, 1], [0, 3], 3)


def test_plots_write_png_files(tmp_path):
    history = History(train_loss=[1.0, 0.5], train_accuracy=[0.5, 0.8], val_loss=[1.1, 0.7],
                      val_accuracy=[0.4, 0.7], lr=[0.1, 0.1], seconds=[1.0, 1.0])
    paths = [
        plot_history(history, tmp_path / "curves.png"),
        plot_kernels(np.random.default_rng(0).normal(size=(6, 1, 3, 3)), tmp_path / "k.png"),
        plot_confusion_matrix(np.eye(3, dtype=int) * 5, tmp_path / "cm.png"),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match=r"plot_kernels: expected \(O, C, kh, kw\)"):
        plot_kernels(np.zeros((3, 3)))
    assert history.as_dict()["val_accuracy"] == [0.4, 0.7]


def test_demo_command_on_a_smaller_budget(tmp_path, capsys, monkeypatch):
    """`graphgrad demo` with 3 epochs instead of 15: a lower bar than the demo's 97%."""
    from pathlib import Path

    from graphgrad.__main__ import main
    from graphgrad.io import load

    def not_atomic(*args, **kwargs):
        raise AssertionError("the demo must write every file through graphgrad.atomic")

    monkeypatch.setattr(Path, "write_text", not_atomic)
    monkeypatch.setattr(Path, "write_bytes", not_atomic)

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--epochs", "3", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.90, printed
    names = {p.name for p in out.iterdir()}
    assert {"curves.png", "kernels.png", "confusion.png", "history.json", "summary.txt",
            "model.npz"} <= names
    for png in ("curves.png", "kernels.png", "confusion.png"):
        assert (out / png).read_bytes()[:8] == PNG
    try:
        import graphgrad.viz  # noqa: F401
    except ImportError:
        assert "skipped" in printed
    else:
        assert {"training_step.svg", "sigmoid_circuit.svg"} <= names
        circuit = (out / "sigmoid_circuit.svg").read_text()
        assert "0.73" in circuit and "exp" in circuit  # sigma(1) and the expanded gates
    restored = load(out / "model.npz", into=nn.LeNet(rng=5))
    split = load_digits()
    _, restored_accuracy = evaluate(restored, split.x_test, split.y_test)
    assert restored_accuracy == pytest.approx(accuracy, abs=5e-5)  # printed with 4 decimals


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_does_not_blame_the_learning_rate_for_a_log_of_zero(digits):
    import graphgrad as gg

    model = mlp()
    before = [p.numpy().copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=1e-3)

    def log_of_zero(out, y):
        return gg.log(gg.sum(out * 0.0))

    with pytest.raises(FloatingPointError) as error:
        fit(model, opt, (digits.x_train, digits.y_train), epochs=2, loss_fn=log_of_zero,
            progress=False)
    message = str(error.value)
    assert "loss became -inf at epoch 1, step 1" in message
    assert "first step" in message and "learning rate" not in message
    assert all(np.array_equal(p.numpy(), b) for p, b in zip(model.parameters(), before))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_restores_the_last_finite_weights_when_they_blow_up(digits):
    """The weights before the step that made them NaN come back (fit used to leave NaN)."""
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=1e6)
    seen = []
    real_step = opt.step

    def recording_step():
        seen.append([p.numpy().copy() for p in model.parameters()])
        real_step()

    opt.step = recording_step
    with pytest.raises(FloatingPointError, match="restored") as error:
        fit(model, opt, (digits.x_train, digits.y_train), epochs=1, progress=False)
    assert len(seen) >= 1
    params = [p.numpy() for p in model.parameters()]
    assert all(np.isfinite(p).all() for p in params)
    assert all(np.array_equal(p, s) for p, s in zip(params, seen[-1]))
    assert f"step {len(seen) + 1}" in str(error.value)


class _RecordingPlateau(optim.ReduceLROnPlateau):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def step(self, metric=None):
        self.seen.append(metric)
        super().step(metric)


def test_fit_steps_a_plateau_scheduler_with_the_epoch_loss(digits):
    """A loss that cannot improve (its gradient is zero): after `patience` + 1 flat epochs the
    rate halves; the metric is the validation loss when there is one, else the training loss."""
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    scheduler = _RecordingPlateau(opt, factor=0.5, patience=1)
    flat = lambda out, y: (out * 0.0).sum() + 1.0  # noqa: E731
    history = fit(model, opt, (digits.x_train[:64], digits.y_train[:64]), epochs=6,
                  loss_fn=flat, progress=False, scheduler=scheduler)
    assert scheduler.seen == history.train_loss == [1.0] * 6
    assert history.lr == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]   # the rate each epoch trained with
    assert opt.param_groups[0]["lr"] == 0.025  # the sixth epoch was the first bad one again

    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05)
    scheduler = _RecordingPlateau(opt, patience=0)
    history = fit(model, opt, (digits.x_train[:128], digits.y_train[:128]), epochs=2,
                  val=(digits.x_test[:50], digits.y_test[:50]), progress=False, schedule=scheduler)
    assert scheduler.seen == history.val_loss and history.val_loss != history.train_loss


def test_fit_takes_one_schedule_argument_and_no_plateau_on_workers(digits):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    data = (digits.x_train[:64], digits.y_train[:64])
    with pytest.raises(ValueError, match="got both schedule= and scheduler="):
        fit(model, opt, data, epochs=1, schedule=optim.StepDecay(opt, 1),
            scheduler=optim.StepDecay(opt, 1))
    with pytest.raises(ValueError, match="ReduceLROnPlateau steps with each epoch's loss"):
        fit(model, opt, data, epochs=1, workers=2, scheduler=optim.ReduceLROnPlateau(opt))
