"""Memory a LeNet training step's loss holds after backward(): the old release rule against the
new one, and against retain_graph=True, measured in the same run with tracemalloc.

* old rule (graphgrad before issue #12): backward cut every link (`inputs = ()`), so the loss held
  nothing; simulated here by a retained backward followed by cutting the links the same way;
* new rule: the structure stays drawable, arrays of up to KEEP_ELEMENTS elements and every
  node's gradient (statistics when large) are kept, large intermediates are released;
* retain_graph=True: every intermediate array is kept.
Prints KiB held by the live loss (traced bytes with it minus without it) and the step time of
each rule, the rules taking turns (benchmarks/turns.py). Run:
.venv/bin/python benchmarks/bench_backward_memory.py [--batch 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

import numpy as np

import graphgrad as gg
from graphgrad import nn
from graphgrad.graph import ancestors
from graphgrad.summary import KEEP_ELEMENTS

from turns import best_times  # benchmarks/turns.py, beside this script


def step(model, x, y, rule: str):
    loss = gg.cross_entropy(model(x), y)
    loss.backward(retain_graph=rule != "new")
    if rule == "old":
        for node in ancestors([loss]):
            node.inputs = ()
    return loss


def held_bytes(model, x, y, rule: str) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        loss = step(model, x, y, rule)
        for p in model.parameters():
            p.grad = None  # the gradients belong to the optimizer's step, not to the graph
        gc.collect()
        with_loss = tracemalloc.get_traced_memory()[0]
        del loss
        gc.collect()
        return with_loss - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    model = nn.LeNet()
    x = gg.tensor(rng.standard_normal((args.batch, 1, 8, 8)).astype(np.float32))
    y = gg.tensor(rng.integers(0, 10, args.batch))
    rules = ("old", "new", "retain")
    held = {rule: min(held_bytes(model, x, y, rule) for _ in range(3)) for rule in rules}
    times = best_times({rule: (lambda r=rule: step(model, x, y, r)) for rule in rules},
                       rounds=args.rounds)
    print(f"graphgrad, LeNet step, batch {args.batch}, arrays up to {KEEP_ELEMENTS} elements kept")
    print(f"{'rule':8} {'KiB held by the loss':>22} {'ms per step':>12} {'time / new':>11}")
    for rule in rules:
        print(f"{rule:8} {held[rule] / 1024:22.1f} {times[rule] * 1e3:12.2f} "
              f"{times[rule] / times['new']:11.2f}")
    print(f"new / old held: {held['new'] / max(held['old'], 1):.1f}x;  "
          f"new / retain_graph held: {held['new'] / held['retain']:.3f}")


if __name__ == "__main__":
    main()
