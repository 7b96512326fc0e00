"""The worked convolution of the CNN lecture (seed 002), drawn with every number.

A 3-channel 5x5 input padded by 1 to 7x7, two 3x3x3 filters W0 and W1 with biases b0 = 1 and
b1 = 0, stride 2: a 3x3x2 output volume. graphgrad is NCHW, so the lecture's x[:, :, d] is
x[0, d] here and its w0[:, :, d] is W0[0, d]. The picture shows the padded input volume, both
filters, both biases and the output volume, one table per channel.

The lecture's printed output agrees with this computation except in its bottom rows (it prints
o[2, :, 0] = 3 3 5 and o[2, :, 1] = 1 3 4; the arithmetic gives 3 4 4 and 1 4 7): the
transcription of the animated demo is garbled there. tests/examples/test_draw_examples.py checks
the output against plain NumPy loops, not against the printed table.

Run: python examples/conv_worked_example.py --out docs/images
"""

import argparse

import numpy as np

import graphgrad as gg
import graphgrad.viz  # for gg.viz

# the lecture's numbers, channel by channel (x[:, :, d] of the notes is X[d])
X = [[[1, 1, 1, 2, 2], [2, 0, 2, 1, 1], [1, 2, 2, 2, 1], [1, 0, 2, 1, 1], [0, 1, 1, 2, 0]],
     [[2, 0, 2, 2, 0], [0, 0, 1, 2, 2], [1, 0, 2, 2, 1], [0, 0, 2, 0, 2], [0, 2, 2, 2, 2]],
     [[1, 2, 0, 0, 2], [2, 0, 0, 1, 0], [1, 0, 0, 2, 2], [2, 1, 1, 0, 0], [2, 1, 1, 0, 2]]]
W0 = [[[-1, 0, 1], [1, 1, 1], [0, -1, 0]],
      [[1, 1, 0], [0, -1, -1], [-1, -1, -1]],
      [[0, 0, 0], [-1, 1, 1], [-1, -1, -1]]]
W1 = [[[-1, 0, -1], [1, -1, 1], [-1, 1, -1]],
      [[1, 0, 1], [1, 1, -1], [-1, 1, 0]],
      [[-1, 0, 0], [1, 1, 0], [-1, 0, -1]]]
B0, B1 = 1.0, 0.0
STRIDE, PAD = 2, 1


def graph():
    """The output volume o (1, 2, 3, 3), built from the named input, filters and biases."""
    x = gg.tensor(np.array(X, np.float64)[None], name="x")  # (1, 3, 5, 5)
    padded = gg.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))  # x needs no gradient: a leaf
    padded.name = "x (+pad 1)"
    w0 = gg.tensor(np.array(W0, np.float64)[None], requires_grad=True, name="W0")  # (1, 3, 3, 3)
    w1 = gg.tensor(np.array(W1, np.float64)[None], requires_grad=True, name="W1")
    b0 = gg.tensor(np.array([B0]), requires_grad=True, name="b0")
    b1 = gg.tensor(np.array([B1]), requires_grad=True, name="b1")
    o0 = gg.conv2d(padded, w0, b0, stride=STRIDE)
    o1 = gg.conv2d(padded, w1, b1, stride=STRIDE)
    o0.name, o1.name = "o[0]", "o[1]"
    out = gg.concatenate([o0, o1], axis=1)
    out.name = "o"
    return out


def main(out: str = "demo_out/viz") -> list[str]:
    o = graph()
    dot = gg.viz.draw(o, show="value", title="seed 002: 7x7x3 padded input, filters W0 W1, "
                                             "stride 2 -> 3x3x2 output")
    print(np.asarray(o.data)[0])
    return gg.viz.save(dot, f"{out}/conv_worked_example", ("svg", "png"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_out/viz", help="folder for the pictures")
    for path in main(parser.parse_args().out):
        print(path)
