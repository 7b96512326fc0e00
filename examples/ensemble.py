"""Model ensembles: "one way to always improve final accuracy: take several trained models and
average their predictions" (lecture notes).

Trains a few small networks that differ only in their random seed (initial weights and batch
order), then averages their predicted class probabilities.

    python examples/ensemble.py [--quick] [--members N]
"""

from __future__ import annotations

import argparse

import numpy as np

from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.ensemble import Ensemble, average_probabilities
from graphgrad.train import evaluate, fit


def member(seed: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, 32, rng=seed), nn.ReLU(), nn.Dropout(0.2, rng=seed),
                         nn.Linear(32, 10, init="xavier", rng=seed + 100))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for CI)")
    parser.add_argument("--members", type=int, default=5)
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else 15

    data = load_digits(flat=True)
    models, accuracies = [], []
    for seed in range(args.members):
        model = member(seed)
        fit(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
            (data.x_train, data.y_train), epochs=epochs, seed=seed, progress=False)
        _, acc = evaluate(model, data.x_test, data.y_test)
        models.append(model)
        accuracies.append(acc)
        print(f"member {seed}: test accuracy {acc:.3f}")

    probabilities = average_probabilities(models, data.x_test)
    ensemble_acc = float(np.mean(probabilities.argmax(1) == data.y_test))
    _, module_acc = evaluate(Ensemble(models), data.x_test, data.y_test)  # same, as a Module
    print(f"average of members: {np.mean(accuracies):.3f}; ensemble: {ensemble_acc:.3f}")
    return {"members": accuracies, "ensemble": ensemble_acc, "ensemble_module": module_acc}


if __name__ == "__main__":
    main()
