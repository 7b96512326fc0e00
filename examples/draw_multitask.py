"""Two loss heads sharing a trunk: each head's branch in its own colour, the shared nodes showing
each head's share of their gradient; plus the backward animation of the sigmoid circuit.

Run: python examples/draw_multitask.py --out docs/images
"""

import argparse

import numpy as np

import graphgrad as gg
import graphgrad.viz  # for gg.viz


def graph():
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal((4, 3)), name="x")
    w = gg.tensor(rng.standard_normal((3, 3)), requires_grad=True, name="w_shared")
    a = gg.tensor(rng.standard_normal((3, 1)), requires_grad=True, name="w_a")
    b = gg.tensor(rng.standard_normal((3, 1)), requires_grad=True, name="w_b")
    h = gg.relu(x @ w)
    h.name = "trunk"
    loss_a = ((h @ a) ** 2).mean()
    loss_b = (3.0 * (h @ b)).abs().mean()
    loss_a.name, loss_b.name = "loss_a", "loss_b"
    return [loss_a, loss_b]


def main(out: str = "demo_out/viz") -> list[str]:
    heads = graph()
    written = gg.viz.save(gg.viz.draw(*heads, grads=True), f"{out}/multitask", ("svg", "png"))
    w0 = gg.tensor(2.0, requires_grad=True, name="w0")
    x0 = gg.tensor(-1.0, requires_grad=True, name="x0")
    w1 = gg.tensor(-3.0, requires_grad=True, name="w1")
    x1 = gg.tensor(-2.0, requires_grad=True, name="x1")
    w2 = gg.tensor(-3.0, requires_grad=True, name="w2")
    f = gg.reciprocal(1.0 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))
    written.append(gg.viz.animate_backward(f, f"{out}/sigmoid_backward.gif"))
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_out/viz", help="folder for the pictures")
    for path in main(parser.parse_args().out):
        print(path)
