"""Draw the lecture's sigmoid neuron circuit in both styles, with values and gradients.

    f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))     w0=2, x0=-1, w1=-3, x1=-2, w2=-3

The circuit diagram shows each gate (*, +, *-1, exp, +1, 1/x) with the forward value above every
wire and the gradient below it: 0.73 out, and -0.20, 0.39, -0.39, -0.59, 0.20 at the inputs.
Run: python examples/draw_sigmoid_circuit.py --out docs/images
Or, without Python: graphgrad render examples/draw_sigmoid_circuit.py --style circuit -o circuit.svg
"""

import argparse

import graphgrad as gg
import graphgrad.viz  # for gg.viz


def graph():
    """The neuron f, with backward already run (a plain backward(): the drawing shows it all)."""
    w0 = gg.tensor(2.0, requires_grad=True, name="w0")
    x0 = gg.tensor(-1.0, requires_grad=True, name="x0")
    w1 = gg.tensor(-3.0, requires_grad=True, name="w1")
    x1 = gg.tensor(-2.0, requires_grad=True, name="x1")
    w2 = gg.tensor(-3.0, requires_grad=True, name="w2")
    f = gg.reciprocal(1.0 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))  # the gates of the notes
    f.backward()
    return f


def main(out: str = "demo_out/viz") -> list[str]:
    f = graph()
    written = gg.viz.save(gg.viz.draw(f, style="circuit"), f"{out}/sigmoid_circuit")
    local = gg.viz.draw(f, style="circuit", gates=True, show="value,grad,local,flow")
    written += gg.viz.save(local, f"{out}/sigmoid_circuit_local", ("svg", "png"))
    written += gg.viz.save(gg.viz.draw(f, style="graph"), f"{out}/sigmoid_graph")
    # the same neuron written with the sigmoid composite: one σ node, or its gates on request
    w = gg.tensor([2.0, -3.0], requires_grad=True, name="w")
    x = gg.tensor([-1.0, -2.0], requires_grad=True, name="x")
    b = gg.tensor(-3.0, requires_grad=True, name="b")
    g = gg.sigmoid((w * x).sum() + b)
    written += gg.viz.save(gg.viz.draw(g, style="graph", expand="sigmoid", grads=True),
                           f"{out}/sigmoid_composite_expanded", ("svg", "png"))
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_out/viz", help="folder for the pictures")
    for path in main(parser.parse_args().out):
        print(path)
