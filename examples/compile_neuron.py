"""The sigmoid neuron of the lecture notes, compiled: print the code gg.compile generates.

    f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))

The first call traces the function and writes straight-line Python for the forward pass and,
from the engine's own VJP rules, for the backward pass (named after the inputs: dw0, dx0, ...),
much like the hand-written code of the notes. Later calls run only that code.
Run: python examples/compile_neuron.py
"""

import graphgrad as gg


@gg.compile
def neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))


def main():
    with gg.default_dtype("float64"):  # 0-d float64 circuits compile to Python-float code
        inputs = {name: gg.tensor(value, requires_grad=True, name=name) for name, value in
                  [("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)]}
    f = neuron(*inputs.values())  # one node of the graph: compiled:neuron
    f.backward()
    print(neuron.source)
    print(f"f = {f.item():.2f}")
    for name, t in inputs.items():
        print(f"df/d{name} = {t.grad.item():+.2f}")
    return f, inputs


if __name__ == "__main__":
    main()
