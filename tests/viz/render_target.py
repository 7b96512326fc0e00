"""A module:function target for the CLI test."""

import graphgrad as gg


def two_heads():
    w = gg.tensor([1.0, -2.0], requires_grad=True, name="w")
    h = w.exp()
    a, b = h.sum(), (h * 2.0).sum()
    a.name, b.name = "loss_a", "loss_b"
    return [a, b]
