"""`graphgrad demo --out DIR`: the main job.

Trains a LeNet-style CNN on the scikit-learn digits (stratified 80/20 split, seed 0, standardised
from the training split), prints the test accuracy, and writes into DIR:

- ``curves.png``: train/test loss and accuracy per epoch (the lecture's baby-sitting plots)
- ``kernels.png``: the learned first-layer kernels (``kernels_init.png``: the same before training)
- ``confusion.png``: the test confusion matrix
- ``training_step.svg``/``.png``: the graph of one training step (forward values and backward
  gradients), each layer collapsed into one node
- ``sigmoid_circuit.svg``/``.png``: the lecture's sigmoid neuron as a circuit of gates with values
  and gradients
- ``history.json``, ``summary.txt``, ``model.npz`` (the trained weights, `gg.load`-able)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DEFAULT_EPOCHS = 15


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="train a LeNet-style CNN on the digits and write its figures",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                        help=f"training epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and batches")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--compile", action="store_true",
                        help="train with the forward + loss step compiled (gg.compile)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    run_demo(Path(args.out), epochs=args.epochs, seed=args.seed, progress=not args.no_progress,
             compile=args.compile)
    return 0


def train_lenet(epochs: int = DEFAULT_EPOCHS, seed: int = 0, progress: bool = True,
                batch_size: int = 32, lr: float = 0.05, compile: bool = False):
    """The demo's training run: (model, history, data). Deterministic for a given seed."""
    from graphgrad import optim
    from graphgrad.data import load_digits
    from graphgrad.nn import LeNet
    from graphgrad.train import fit

    data = load_digits()  # split seed 0 always: the benchmark split, whatever the model seed
    model = LeNet(rng=seed)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    schedule = optim.CosineDecay(optimizer, total=epochs, min_factor=0.02)
    history = fit(model, optimizer, (data.x_train, data.y_train), epochs=epochs,
                  val=(data.x_test, data.y_test), batch_size=batch_size, seed=seed,
                  schedule=schedule, progress=progress, compile=compile)
    return model, history, data


def _draw_training_step(model, data, out: Path) -> str:
    import graphgrad as gg
    from graphgrad import viz
    from graphgrad.composites.losses import cross_entropy

    x = gg.tensor(data.x_train[:8])
    model.zero_grad()
    loss = cross_entropy(model(x), data.y_train[:8])
    loss.backward(retain_graph=True)  # keep the graph so the diagram shows values and gradients
    try:
        diagram = viz.draw(loss, style="graph", depth=1,
                           title="one training step of LeNet (modules collapsed)")
        paths = viz.save(diagram, out / "training_step", formats=("svg", "png"))
    except Exception as error:  # noqa: BLE001  a drawing problem must not hide the training result
        return f"skipped training_step: {type(error).__name__}: {error}"
    return "wrote " + ", ".join(map(str, paths))


def _draw_sigmoid_circuit(out: Path) -> str:
    import graphgrad as gg
    from graphgrad import viz

    # the lecture's neuron: f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2)))
    with gg.default_dtype("float64"):
        w0, x0 = gg.tensor(2.0, requires_grad=True, name="w0"), gg.tensor(-1.0, name="x0")
        w1, x1 = gg.tensor(-3.0, requires_grad=True, name="w1"), gg.tensor(-2.0, name="x1")
        w2 = gg.tensor(-3.0, requires_grad=True, name="w2")
        with gg.expand_composites():
            f = gg.sigmoid(w0 * x0 + w1 * x1 + w2)
    f.backward(retain_graph=True)
    try:
        diagram = viz.draw(f, style="circuit", expand=True,
                           title="sigmoid neuron: values above, gradients below")
        paths = viz.save(diagram, out / "sigmoid_circuit", formats=("svg", "png"))
    except Exception as error:  # noqa: BLE001  as above: report the drawing problem, go on
        return f"skipped sigmoid_circuit: {type(error).__name__}: {error}"
    return "wrote " + ", ".join(map(str, paths))


def run_demo(out: Path, epochs: int = DEFAULT_EPOCHS, seed: int = 0, progress: bool = True,
             figures: bool = True, compile: bool = False) -> dict:
    """Train, evaluate, and write every output; returns the figures as a dict."""
    from graphgrad.atomic import atomic_write_bytes
    from graphgrad.inspection.plotting import plot_kernels
    from graphgrad.io import save
    from graphgrad.train import confusion_matrix, plot_confusion_matrix, plot_history, predict

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    from graphgrad.nn import LeNet

    initial_kernels = LeNet(rng=seed).conv1.weight.numpy()
    model, history, data = train_lenet(epochs=epochs, seed=seed, progress=progress,
                                       compile=compile)
    train_seconds = time.perf_counter() - start
    scores = predict(model, data.x_test)
    predictions = scores.argmax(axis=1)
    test_accuracy = float(np.mean(predictions == data.y_test))
    print(f"test accuracy: {test_accuracy:.4f} ({int(np.sum(predictions == data.y_test))}/"
          f"{len(data.y_test)} held-out digits, stratified 20% split, seed 0) after {epochs} "
          f"epochs in {train_seconds:.1f} s{' (compiled step)' if compile else ''}")

    notes = []
    if figures:
        notes.append(f"wrote {plot_history(history, out / 'curves.png')}")
        notes.append(f"wrote {plot_kernels(model.conv1.weight, out / 'kernels.png')}")
        title = "first-layer kernels at initialisation"
        notes.append(f"wrote {plot_kernels(initial_kernels, out / 'kernels_init.png', title)}")
        counts = confusion_matrix(data.y_test, predictions, 10)
        notes.append(f"wrote {plot_confusion_matrix(counts, out / 'confusion.png')}")
        notes.append(_draw_training_step(model, data, out))
        notes.append(_draw_sigmoid_circuit(out))
    save(model, out / "model.npz")
    notes.append(f"wrote {out / 'model.npz'}")
    atomic_write_bytes(out / "history.json", json.dumps(history.as_dict(), indent=1).encode())
    summary = {
        "test_accuracy": test_accuracy,
        "epochs": epochs,
        "seed": seed,
        "train_seconds": round(train_seconds, 2),
        "seconds_per_epoch": round(float(np.mean(history.seconds)), 3),
        "parameters": model.num_parameters(),
    }
    text = "\n".join(f"{key}: {value}" for key, value in summary.items())
    atomic_write_bytes(out / "summary.txt", (text + "\n\n" + repr(model) + "\n").encode())
    for note in notes:
        print(note)
    return {**summary, "history": history, "model": model}
