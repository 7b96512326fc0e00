"""A two-layer network on the 8x8 digits: the lecture's V = g(Σ w x), O = g(Σ w V), trained by
backpropagation with cross-entropy, with the baby-sitting curves.

    python examples/two_layer.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.train import fit, plot_history


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs (for CI)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=None, help="folder for the loss/accuracy curves")
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.quick else 30)

    data = load_digits(flat=True)  # (1437, 64) standardised from the training split
    model = nn.Sequential(nn.Linear(64, 64, init="xavier", rng=0), nn.Tanh(),
                          nn.Linear(64, 10, init="xavier", rng=1))
    print(model)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    history = fit(model, optimizer, (data.x_train, data.y_train), epochs=epochs,
                           val=(data.x_test, data.y_test), batch_size=32, seed=0,
                           progress=not args.quick)
    print(f"after {epochs} epochs: train accuracy {history.train_accuracy[-1]:.3f}, "
          f"test accuracy {history.val_accuracy[-1]:.3f}")
    if args.out is not None:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        print("curves:", plot_history(history, Path(args.out) / "two_layer_curves.png"))
    return {"history": history}


if __name__ == "__main__":
    main()
