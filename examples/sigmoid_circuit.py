"""The sigmoid neuron circuit of the lecture notes, gate by gate.

    f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))

with w0=2, x0=-1, w1=-3, x1=-2, w2=-3. Prints the forward value and every gradient; the notes
give f = 0.73 and the gradients -0.20, 0.39, -0.39, -0.59, 0.20.
Run: python examples/sigmoid_circuit.py
"""

import graphgrad as gg


def build():
    """The circuit, its inputs and output (returned so `graphgrad render` can draw it)."""
    w0 = gg.tensor(2.0, requires_grad=True, name="w0")
    x0 = gg.tensor(-1.0, requires_grad=True, name="x0")
    w1 = gg.tensor(-3.0, requires_grad=True, name="w1")
    x1 = gg.tensor(-2.0, requires_grad=True, name="x1")
    w2 = gg.tensor(-3.0, requires_grad=True, name="w2")
    f = 1 / (1 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))
    f.name = "f"
    return f, {"w0": w0, "x0": x0, "w1": w1, "x1": x1, "w2": w2}


def main():
    f, inputs = build()
    f.backward()
    print(f"f = {f.item():.2f}")
    for name, t in inputs.items():
        print(f"df/d{name} = {t.grad.item():+.2f}")
    return f


if __name__ == "__main__":
    main()
