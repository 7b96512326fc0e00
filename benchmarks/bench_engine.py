"""Per-gate cost of the engine (forward + backward), beside micrograd and PyTorch when installed.

Two workloads, each measured for every engine in the same run:
  * the lecture's sigmoid circuit, built and backpropagated many times (scalar gates);
  * a long chain y = y * 1.0 (1,000,000 gates by default), then one backward.
Prints microseconds per gate. The circuits are timed in blocks, the engines taking turns round
after round (`turns.py`): the best block of each is its cost, and the ratio is not at the mercy of
load that came while only one engine ran. Run: .venv/bin/python benchmarks/bench_engine.py
[--chain N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

import graphgrad as gg

from turns import best_times  # benchmarks/turns.py, beside this script


def _one_run(fn) -> float:
    """Seconds of one call, after collecting what earlier runs left (the chain is long)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def circuit_graphgrad(n):
    for _ in range(n):
        w0, x0 = gg.tensor(2.0, requires_grad=True), gg.tensor(-1.0, requires_grad=True)
        w1, x1 = gg.tensor(-3.0, requires_grad=True), gg.tensor(-2.0, requires_grad=True)
        w2 = gg.tensor(-3.0, requires_grad=True)
        f = 1 / (1 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))
        f.backward()


def _micrograd_exp(v):
    """micrograd 0.1.0 on PyPI has no exp gate: this one is written the way its other gates are."""
    import math

    from micrograd.engine import Value

    out = Value(math.exp(v.data), (v,), "exp")

    def _backward():
        v.grad += out.data * out.grad

    out._backward = _backward
    return out


def circuit_micrograd(n):
    from micrograd.engine import Value

    for _ in range(n):
        w0, x0, w1, x1, w2 = Value(2.0), Value(-1.0), Value(-3.0), Value(-2.0), Value(-3.0)
        f = 1 / (1 + _micrograd_exp(-(w0 * x0 + w1 * x1 + w2)))
        f.backward()


def circuit_torch(n):
    import torch

    for _ in range(n):
        w0, x0 = torch.tensor(2.0, requires_grad=True), torch.tensor(-1.0, requires_grad=True)
        w1, x1 = torch.tensor(-3.0, requires_grad=True), torch.tensor(-2.0, requires_grad=True)
        w2 = torch.tensor(-3.0, requires_grad=True)
        f = 1 / (1 + torch.exp(-(w0 * x0 + w1 * x1 + w2)))
        f.backward()


def chain_graphgrad(n):
    x = gg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    y.backward()


def chain_micrograd(n):
    from micrograd.engine import Value

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * n + 1000))
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0
    y.backward()  # recursive topological sort: may hit the C stack on long chains


def chain_torch(n):
    import torch

    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    y.backward()


CIRCUIT_GATES = {"graphgrad": 8, "micrograd": 9, "pytorch": 8}  # nodes each engine builds


def _available(name):
    try:
        __import__({"micrograd": "micrograd", "pytorch": "torch"}.get(name, "graphgrad"))
        return True
    except ImportError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=20000,
                        help="circuits per round; each turn times a block of a tenth of them")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--chain-micrograd", type=int, default=100_000,
                        help="micrograd's recursive backward crashes on long chains; "
                             "its chain is shorter")
    args = parser.parse_args(argv)
    engines = {"graphgrad": (circuit_graphgrad, chain_graphgrad),
               "micrograd": (circuit_micrograd, chain_micrograd),
               "pytorch": (circuit_torch, chain_torch)}
    engines = {name: fns for name, fns in engines.items() if _available(name)}
    for name in ("micrograd", "pytorch"):
        if name not in engines:
            print(f"{name}: not installed, skipped")
    block = max(1, args.circuits // 10)
    circuit_seconds = best_times({name: (lambda c=circuit: c(block))
                                  for name, (circuit, _) in engines.items()}, args.rounds, block=1)
    rows = {}
    for name, (_, chain) in engines.items():
        per_circuit = circuit_seconds[name] / block * 1e6
        chain_n = args.chain_micrograd if name == "micrograd" else args.chain
        chain_seconds = _one_run(lambda chain=chain, chain_n=chain_n: chain(chain_n))
        rows[name] = (per_circuit, per_circuit / CIRCUIT_GATES[name],
                      chain_seconds / chain_n * 1e6, chain_n)
    print(f"\n{'engine':<10} {'µs/circuit':>11} {'µs/gate':>8} {'chain µs/gate':>14} "
          f"{'chain length':>13}")
    for name, (per_circuit, per_gate, chain_gate, chain_n) in rows.items():
        print(f"{name:<10} {per_circuit:>11.1f} {per_gate:>8.2f} {chain_gate:>14.2f} "
              f"{chain_n:>13,}")
    if "graphgrad" in rows:
        for other in ("micrograd", "pytorch"):
            if other in rows:
                print(f"graphgrad / {other}: circuit {rows['graphgrad'][0] / rows[other][0]:.2f}x, "
                      f"chain per gate {rows['graphgrad'][2] / rows[other][2]:.2f}x")
    print(f"(forward + backward; circuit: best block of {block} over {args.rounds} rounds of "
          "turns; chain: one run; gc enabled)")


if __name__ == "__main__":
    main()
