"""A multi-task network: one shared trunk, two heads (the digit and its parity), trained on a
weighted sum of the two losses, or by backpropagating both roots at once.

    python examples/multitask_digits.py [--quick] [--two-roots]

The forward pass is plain Python, so any DAG is written the same way: call the trunk once and feed
its output to both heads. Gradients from both heads add up in the trunk's parameters.
"""

from __future__ import annotations

import argparse

import numpy as np

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.data import DataLoader, load_digits


class DigitAndParity(nn.Module):
    def __init__(self, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, rng=rng)
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.shared = nn.Linear(16 * 4 * 4, 64, rng=rng)
        self.digit_head = nn.Linear(64, 10, init="xavier", rng=rng)
        self.parity_head = nn.Linear(64, 2, init="xavier", rng=rng)

    def forward(self, x):
        trunk = gg.relu(self.shared(self.flatten(self.pool(gg.relu(self.conv1(x))))))
        return self.digit_head(trunk), self.parity_head(trunk)  # two outputs


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for CI)")
    parser.add_argument("--two-roots", action="store_true",
                        help="gg.backward([digit_loss, parity_loss]) instead of a weighted sum")
    parser.add_argument("--parity-weight", type=float, default=0.5)
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else 10

    data = load_digits()
    parity_train, parity_test = data.y_train % 2, data.y_test % 2
    model = DigitAndParity(rng=0)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(data.x_train, data.y_train, parity_train, batch_size=32, seed=0)
    for epoch in range(epochs):
        model.train()
        for x, digit, parity in loader:
            digit_scores, parity_scores = model(gg.tensor(x))
            digit_loss = gg.cross_entropy(digit_scores, digit)
            parity_loss = gg.cross_entropy(parity_scores, parity)
            optimizer.zero_grad()
            if args.two_roots:  # several roots at once: d(digit)/dθ + d(parity)/dθ
                gg.backward([digit_loss, parity_loss])
            else:               # one root: a weighted sum of the task losses
                (digit_loss + args.parity_weight * parity_loss).backward()
            optimizer.step()
        digit_scores, parity_scores = _predict_both(model, data.x_test)
        digit_acc = float(np.mean(digit_scores.argmax(1) == data.y_test))
        parity_acc = float(np.mean(parity_scores.argmax(1) == parity_test))
        print(f"epoch {epoch + 1}: digit accuracy {digit_acc:.3f}, parity accuracy "
              f"{parity_acc:.3f}")
    return {"digit_accuracy": digit_acc, "parity_accuracy": parity_acc}


def _predict_both(model, x):
    model.eval()
    with gg.no_grad():
        digit, parity = model(gg.tensor(x))
    model.train()
    return digit.numpy(), parity.numpy()


if __name__ == "__main__":
    main()
