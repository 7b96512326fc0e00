"""A small CNN trained on the digits once per session (a few seconds), and tiny exact models."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg


def small_cnn(seed: int = 0):
    """conv(8) - relu - maxpool - conv(16) - relu - maxpool - flatten - linear: 8x8 -> 10."""
    from graphgrad import nn

    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 10, init="xavier", rng=rng))


class Trained:
    def __init__(self, model, data):
        self.model = model
        self.data = data


@pytest.fixture(scope="session")
def trained():
    from graphgrad import optim
    from graphgrad.data import load_digits
    from graphgrad.train import fit

    with gg.default_dtype("float32"):
        data = load_digits()
        model = small_cnn()
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        fit(model, optimizer, (data.x_train, data.y_train), epochs=4, batch_size=32, seed=0,
            progress=False)
    model.eval()
    return Trained(model, data)


def accuracy(model, x, y) -> float:
    with gg.no_grad():
        return float(np.mean(model(gg.tensor(x)).numpy().argmax(axis=1) == y))
