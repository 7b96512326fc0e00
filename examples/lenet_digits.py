"""A LeNet-style CNN on the 8x8 digits, step by step: data, model, SGD with Nesterov momentum and
a cosine schedule, the baby-sitting curves, the learned kernels, a checkpoint.

    python examples/lenet_digits.py [--quick] [--epochs N] [--out DIR]

(`graphgrad demo` runs the same training and also draws the graphs.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.inspection.plotting import plot_kernels
from graphgrad.io import load, save
from graphgrad.train import evaluate, fit, plot_history


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for CI)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=None, help="folder for curves, kernels and checkpoint")
    args = parser.parse_args(argv)
    epochs = args.epochs or (4 if args.quick else 15)

    data = load_digits()  # (N, 1, 8, 8), stratified 80/20 split, seed 0
    x_train, y_train = data.x_train, data.y_train
    if args.quick:
        x_train, y_train = x_train[:800], y_train[:800]
    model = nn.LeNet(rng=0)
    print(model)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    schedule = optim.CosineDecay(optimizer, total=epochs, min_factor=0.02)
    history = fit(model, optimizer, (x_train, y_train), epochs=epochs,
                  val=(data.x_test, data.y_test), batch_size=32, seed=0, schedule=schedule,
                  progress=not args.quick)
    for epoch in range(epochs):
        print(f"epoch {epoch + 1:2d}: loss {history.train_loss[epoch]:.4f}  "
              f"train acc {history.train_accuracy[epoch]:.3f}  "
              f"test acc {history.val_accuracy[epoch]:.3f}  lr {history.lr[epoch]:.4f}")

    result = {"history": history, "test_accuracy": history.val_accuracy[-1]}
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        plot_history(history, out / "lenet_curves.png")
        plot_kernels(model.conv1.weight, out / "lenet_kernels.png")
        save(model, out / "lenet.npz")
        restored = load(out / "lenet.npz", into=nn.LeNet(rng=1))  # other init, same weights
        _, restored_accuracy = evaluate(restored, data.x_test, data.y_test)
        assert np.isclose(restored_accuracy, result["test_accuracy"])
        print(f"wrote curves, kernels and {out / 'lenet.npz'} (reloaded: test accuracy "
              f"{restored_accuracy:.3f})")
        result["restored_accuracy"] = restored_accuracy
    return result


if __name__ == "__main__":
    main()
