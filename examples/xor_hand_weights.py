"""XOR from hand-set weights (the lecture's g(10 − 20x) construction), then learned.

With g the sigmoid and weights of size 20, each unit is a logic gate:
  AND:              g(−30 + 20·x1 + 20·x2)
  (NOT x1) AND (NOT x2) = NOR:  g(10 − 20·x1 − 20·x2)
  OR:               g(−10 + 20·x1 + 20·x2)
XNOR = OR(AND, NOR), and XOR = NOR(AND, NOR) = g(10 − 20·a1 − 20·a2).
Then the same 2-2-1 network learns XOR from random weights with SGD.

    python examples/xor_hand_weights.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse

import numpy as np

import graphgrad as gg
from graphgrad import nn, optim

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR = np.array([[0], [1], [1], [0]], dtype=np.float32)


def xor_network(rng=None) -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 2, init="xavier", rng=rng), nn.Sigmoid(),
                         nn.Linear(2, 1, init="xavier", rng=rng), nn.Sigmoid())


def hand_weights() -> dict[str, np.ndarray]:
    return {
        "0.weight": np.array([[20, 20], [-20, -20]], dtype=np.float32),  # a1 = AND, a2 = NOR
        "0.bias": np.array([-30, 10], dtype=np.float32),
        "2.weight": np.array([[-20, -20]], dtype=np.float32),            # NOR(a1, a2) = XOR
        "2.bias": np.array([10], dtype=np.float32),
    }


def truth_table(net) -> np.ndarray:
    with gg.no_grad():
        return net(gg.tensor(X)).numpy()


def learn(epochs: int, seed: int = 0):
    """Train a fresh 2-2-1 sigmoid net on the four XOR cases (full batch, SGD with momentum)."""
    net = xor_network(rng=seed)
    optimizer = optim.SGD(net.parameters(), lr=2.0, momentum=0.9)
    losses = []
    for _ in range(epochs):
        loss = gg.binary_cross_entropy(net(gg.tensor(X)), XOR)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return net, losses


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (for CI)")
    parser.add_argument("--out", default=None, help="folder for the circuit diagram")
    args = parser.parse_args(argv)

    net = xor_network()
    net.load_state_dict(hand_weights())
    hand = truth_table(net)
    print("hand-set weights:  x1 x2 -> XOR")
    for (x1, x2), y in zip(X, hand[:, 0]):
        print(f"                   {int(x1)}  {int(x2)}  -> {y:.5f}")

    learned, losses = learn(epochs=300 if args.quick else 1000)
    out = truth_table(learned)
    print(f"learned from random weights: loss {losses[0]:.3f} -> {losses[-1]:.4f}, "
          f"outputs {[round(float(v), 3) for v in out[:, 0]]}")

    if args.out is not None:
        try:
            from graphgrad import viz
        except ImportError:
            print("graphgrad.viz is not available: skipping the diagram")
        else:
            import pathlib

            pathlib.Path(args.out).mkdir(parents=True, exist_ok=True)
            loss = gg.binary_cross_entropy(net(gg.tensor(X[1:2])), XOR[1:2])
            loss.backward(retain_graph=True)  # keep the graph: the diagram shows gradients
            diagram = viz.draw(loss, style="circuit", depth=None,
                               title="hand-set XOR net on input (0, 1)")
            print("diagram:", viz.save(diagram, f"{args.out}/xor_circuit", formats=("svg",)))
    return {"hand": hand, "learned": out, "losses": losses}


if __name__ == "__main__":
    main()
