"""A generic DAG: branches, a skip connection and a merge, written as ordinary Python.

    input ─ conv1 ─ relu ─┬─ conv2a ─ relu ─ conv2b ─┐
                          │                          (+) ─ relu ─┬─ max-pool ─┐
                          └──── skip (1x1 conv) ─────┘           └─ avg-pool ─┴─ concat ─ fc

Backpropagation follows every edge: the skip gives conv1 a short gradient path, and the two
pooling branches both send gradient into the merge. (No cycles: a recurrent net is unrolled
first, as the lecture says.)

    python examples/dag_skip.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.train import fit


class SkipNet(nn.Module):
    def __init__(self, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, rng=rng)
        self.conv2a = nn.Conv2d(16, 16, 3, padding=1, rng=rng)
        self.conv2b = nn.Conv2d(16, 16, 3, padding=1, rng=rng)
        self.skip = nn.Conv2d(16, 16, 1, rng=rng)
        self.max_pool = nn.MaxPool2d(2)
        self.avg_pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(2 * 16 * 4 * 4, 10, init="xavier", rng=rng)

    def forward(self, x):
        h = gg.relu(self.conv1(x))
        branch = self.conv2b(gg.relu(self.conv2a(h)))
        merged = gg.relu(branch + self.skip(h))                      # skip connection
        pooled = gg.concatenate([self.max_pool(merged), self.avg_pool(merged)], axis=1)
        return self.fc(pooled.flatten(1))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for CI)")
    parser.add_argument("--out", default=None, help="folder for the collapsed graph diagram")
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else 10

    data = load_digits()
    x_train, y_train = data.x_train, data.y_train
    if args.quick:
        x_train, y_train = x_train[:600], y_train[:600]
    model = SkipNet(rng=0)
    optimizer = optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    history = fit(model, optimizer, (x_train, y_train), epochs=epochs,
                  val=(data.x_test, data.y_test), batch_size=32, progress=not args.quick)
    print(f"test accuracy after {epochs} epochs: {history.val_accuracy[-1]:.3f}")

    # every parameter got a gradient through the DAG, including both ends of the skip
    loss = gg.cross_entropy(model(gg.tensor(data.x_train[:4])), data.y_train[:4])
    model.zero_grad()
    loss.backward(retain_graph=True)
    norms = {name: float(np.abs(p.grad.numpy()).sum()) for name, p in model.named_parameters()}
    if args.out is not None:
        try:
            from graphgrad import viz
        except ImportError:
            print("graphgrad.viz is not available: skipping the diagram")
        else:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            diagram = viz.draw(loss, title="SkipNet: branches, skip connection, merge")
            print("diagram:", viz.save(diagram, Path(args.out) / "dag_skip", formats=("svg",)))
    return {"test_accuracy": history.val_accuracy[-1], "grad_norms": norms}


if __name__ == "__main__":
    main()
