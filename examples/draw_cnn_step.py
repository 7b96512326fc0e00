"""Draw one training step of a LeNet-sized CNN: collapsed to its layers by default, gate by gate
on request, with value and gradient statistics and heatmap thumbnails in every node.

Run: python examples/draw_cnn_step.py --out docs/images
"""

import argparse

import numpy as np

import graphgrad as gg
import graphgrad.viz  # for gg.viz
from graphgrad import nn


def graph(batch: int = 4):
    """Cross-entropy loss of LeNet on a random batch of 8x8 images, after backward()."""
    model = nn.LeNet(rng=0)
    rng = np.random.default_rng(0)
    images = gg.tensor(rng.standard_normal((batch, 1, 8, 8)).astype("float32"), name="images")
    labels = gg.tensor(rng.integers(0, 10, size=batch), name="labels")
    loss = gg.cross_entropy(model(images), labels)
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def main(out: str = "demo_out/viz") -> list[str]:
    loss = graph()
    written = gg.viz.save(gg.viz.draw(loss, thumbnails=True, title="LeNet training step"),
                          f"{out}/cnn_step")
    written += gg.viz.save(gg.viz.draw(loss, expand=["conv1", "conv", "relu1"],
                                       title="conv1 and relu1 opened down to their gates"),
                           f"{out}/cnn_step_conv1_open", ("svg", "png"))
    print(gg.viz.summary(loss))
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_out/viz", help="folder for the pictures")
    for path in main(parser.parse_args().out):
        print(path)
