"""The digits CNN with batch normalisation after each convolution, trained with AdamW.

    python examples/digits_batchnorm.py [--quick] [--epochs N] [--out DIR]

conv 3x3 → BatchNorm2d → ReLU → conv 3x3 → BatchNorm2d → ReLU → max pool 2x2 → flatten →
linear → BatchNorm1d → ReLU → linear. Batch norm standardises each channel with the batch's
statistics while training and with its running mean and variance (buffers, saved in the
checkpoint) after `model.eval()`, which `fit` and `evaluate` switch to for the test set.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from graphgrad import nn, optim
from graphgrad.data import load_digits
from graphgrad.io import load, save
from graphgrad.train import evaluate, fit


class BatchNormCNN(nn.Module):
    """LeNet for 8x8 digits with batch norm; the convolutions drop their bias (batch norm's
    shift replaces it)."""

    def __init__(self, channels: tuple[int, int] = (16, 32), hidden: int = 64, rng=0) -> None:
        super().__init__()
        rng = nn.init.make_rng(rng)
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False, rng=rng), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False, rng=rng), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(c2 * 4 * 4, hidden, bias=False, rng=rng), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, 10, init="xavier", rng=rng))

    def forward(self, x):
        return self.classifier(self.features(x))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (for CI)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=None, help="folder for the checkpoint")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)

    data = load_digits()  # (N, 1, 8, 8), stratified 80/20 split, seed 0
    x_train, y_train = data.x_train, data.y_train
    if args.quick:
        x_train, y_train = x_train[:800], y_train[:800]
    model = BatchNormCNN(rng=0)
    print(model)
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    history = fit(model, optimizer, (x_train, y_train), epochs=epochs,
                  val=(data.x_test, data.y_test), batch_size=32, seed=0,
                  progress=False)
    for epoch in range(epochs):
        print(f"epoch {epoch + 1:2d}: loss {history.train_loss[epoch]:.4f}  "
              f"train acc {history.train_accuracy[epoch]:.3f}  "
              f"test acc {history.val_accuracy[epoch]:.3f}")
    _, test_accuracy = evaluate(model, data.x_test, data.y_test)
    print(f"test accuracy (eval mode, running statistics): {test_accuracy:.3f}")
    result = {"history": history, "test_accuracy": test_accuracy}
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        save(model, out / "digits_batchnorm.npz")
        restored = load(out / "digits_batchnorm.npz", into=BatchNormCNN(rng=1))
        _, result["restored_accuracy"] = evaluate(restored, data.x_test, data.y_test)
        assert np.isclose(result["restored_accuracy"], test_accuracy)
        print(f"wrote {out / 'digits_batchnorm.npz'} (reloaded, running statistics included: "
              f"test accuracy {result['restored_accuracy']:.3f})")
    return result


if __name__ == "__main__":
    main()
