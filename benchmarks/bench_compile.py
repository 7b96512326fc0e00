"""gg.compile beside eager graphgrad, micrograd and PyTorch CPU, measured in the same run.

  * the seed's sigmoid circuit, value and gradients: micrograd, eager graphgrad, the compiled
    function as a graph node (+ backward), compiled `value_and_grad` (fresh input tensors each
    time, and the same inputs reused), µs per circuit and per gate, engines taking turns;
  * second order, grad of grad of the neuron (d/d inputs of dneuron/dw0): eager, eager around a
    compiled region (its VJP compiled on demand), and the whole grad of grad compiled;
  * first-call (trace + code generation) times;
  * the LeNet digits epoch with a compiled step, against eager graphgrad and PyTorch CPU eager
    (same weights, batches and optimizer; epochs alternate), and the test accuracies;
  * peak traced memory (tracemalloc) of one compiled training step against an eager one;
  * the three conv2d shapes of bench_conv.py, forward + backward: compiled, eager, PyTorch.
Run: .venv/bin/python benchmarks/bench_compile.py [--rounds R] [--epochs E] [--skip-lenet]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import graphgrad as gg

from turns import best_times  # benchmarks/turns.py, beside this script

VALUES = (2.0, -1.0, -3.0, -2.0, -3.0)
GATES = {"micrograd": 9, "pytorch": 8}  # nodes each engine builds for the circuit; graphgrad: 8


def neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))


def _micrograd_circuit(n):
    from micrograd.engine import Value

    for _ in range(n):
        w0, x0, w1, x1, w2 = (Value(v) for v in VALUES)
        z = -(w0 * x0 + w1 * x1 + w2)
        e = Value(math.exp(z.data), (z,), "exp")  # micrograd 0.1.0 has no exp gate

        def _backward(z=z, e=e):
            z.grad += e.data * e.grad

        e._backward = _backward
        f = 1 / (1 + e)
        f.backward()


def _fresh():
    return [gg.tensor(v, requires_grad=False) for v in VALUES]


def _fresh_grad():
    return [gg.tensor(v, requires_grad=True) for v in VALUES]


def circuit_steps() -> dict:
    node = gg.compile(neuron)
    both = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    reused = _fresh()

    def eager(n):
        for _ in range(n):
            neuron(*_fresh_grad()).backward()

    def compiled_node(n):
        for _ in range(n):
            node(*_fresh_grad()).backward()

    def compiled_vg(n):
        for _ in range(n):
            both(*_fresh())

    def compiled_vg_reused(n):
        for _ in range(n):
            both(*reused)

    def compiled_vg_floats(n):  # as under jax.jit: numbers in, no tensors to make
        for _ in range(n):
            both(*VALUES)

    steps = {"graphgrad eager": eager, "compiled node": compiled_node,
             "compiled value_and_grad": compiled_vg,
             "compiled value_and_grad, inputs reused": compiled_vg_reused,
             "compiled value_and_grad, Python floats in": compiled_vg_floats}
    try:
        import micrograd  # noqa: F401
        steps["micrograd"] = _micrograd_circuit
    except ImportError:
        print("micrograd: not installed, column skipped (.venv/bin/pip install micrograd)")
    return steps


def bench_circuit(rounds: int, block_ms: float) -> None:
    """Each engine's block runs about `block_ms` (a few thousand compiled circuits, a few hundred
    of micrograd's), so a burst of load on this shared machine spoils a short block of each
    alike, and the best of many blocks is what each costs when left alone."""
    with gg.default_dtype("float64"):  # micrograd computes in Python floats: float64
        steps = circuit_steps()
        sizes = {}
        for k, s in steps.items():
            start = time.perf_counter()
            s(100)
            sizes[k] = max(100, int(block_ms / 1e3 / ((time.perf_counter() - start) / 100)))
        seconds = best_times({k: (lambda s=s, n=sizes[k]: s(n)) for k, s in steps.items()},
                             rounds, block=1)
    print(f"\nsigmoid circuit (float64), value and gradients, best of {rounds} turns of "
          f"~{block_ms:g} ms blocks:")
    print(f"{'engine':<42} {'µs/circuit':>10} {'µs/gate':>8}")
    per = {k: seconds[k] / sizes[k] * 1e6 for k in steps}
    for k, us in per.items():
        print(f"{k:<42} {us:>10.2f} {us / GATES.get(k, 8):>8.3f}")
    if "micrograd" in per:
        mg_gate = per["micrograd"] / 9
        for k in steps:
            if k != "micrograd":
                print(f"micrograd / {k}: {mg_gate / (per[k] / 8):.1f}x per gate, "
                      f"{per['micrograd'] / per[k]:.1f}x per circuit (target >= 10x)")


def second_order_steps() -> dict:
    """grad of grad of the neuron, three ways: the inputs are fresh tensors each call."""
    def hessian_row(fn):  # d/d(w0, x0, w1, x1, w2) of df/dw0
        return gg.grad(gg.grad(fn, argnums=0), argnums=(0, 1, 2, 3, 4))

    eager, region = hessian_row(neuron), hessian_row(gg.compile(neuron))
    whole = gg.compile(hessian_row(neuron))
    expected = [t.item() for t in eager(*_fresh())]
    for fn in (region, whole):
        got = [t.item() for t in fn(*_fresh())]
        assert np.allclose(got, expected, rtol=1e-12), (got, expected)

    def run(fn):
        def step(n):
            for _ in range(n):
                fn(*_fresh())
        return step

    return {"eager grad of grad": run(eager), "grad of grad of a compiled region": run(region),
            "compiled grad of grad": run(whole)}


def bench_second_order(rounds: int, block: int) -> None:
    with gg.default_dtype("float64"):
        steps = second_order_steps()
        seconds = best_times({k: (lambda s=s: s(block)) for k, s in steps.items()}, rounds,
                             block=1)
    print(f"\nsecond order: grad of grad of the neuron (float64, 5 second derivatives), best "
          f"block of {block}:")
    eager = seconds["eager grad of grad"]
    for k, t in seconds.items():
        print(f"{k:<42} {t / block * 1e6:>10.2f} µs  eager / this: {eager / t:.1f}x")


def first_call_times() -> None:
    with gg.default_dtype("float64"):
        start = time.perf_counter()
        gg.compile(neuron)(*_fresh_grad())
        neuron_s = time.perf_counter() - start
    model = gg.nn.LeNet(rng=0)
    data = gg.data.load_digits()
    step = gg.compile(lambda x, y: gg.cross_entropy(model(x), y))
    x, y = gg.tensor(data.x_train[:32]), gg.tensor(data.y_train[:32])
    start = time.perf_counter()
    step(x, y)
    lenet_s = time.perf_counter() - start
    start = time.perf_counter()
    step(x, y)
    again_s = time.perf_counter() - start
    print(f"\nfirst call (trace + generate): neuron {neuron_s * 1e3:.1f} ms; LeNet step "
          f"{lenet_s * 1e3:.1f} ms (the next call: {again_s * 1e3:.1f} ms)")


def _compiled_trainer(data, epochs: int, seed: int):
    from graphgrad import optim
    from graphgrad.data import DataLoader
    from graphgrad.nn import LeNet
    from graphgrad.train import evaluate

    from bench_training import BATCH, LR, MOMENTUM, WEIGHT_DECAY

    model = LeNet(rng=seed)
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True,
                          weight_decay=WEIGHT_DECAY)
    schedule = optim.CosineDecay(optimizer, total=epochs, min_factor=0.02)
    loader = DataLoader(data.x_train, data.y_train, batch_size=BATCH, seed=seed)
    step = gg.compile(lambda x, y: gg.cross_entropy(model(x), y))

    def one_epoch() -> float:
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            loss = step(gg.Tensor(x), gg.Tensor(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        schedule.step()
        return seconds

    return one_epoch, lambda: evaluate(model, data.x_test, data.y_test)[1], step


def _on_threads(run, threads: int):
    """run() with graphgrad's kernels, PyTorch and BLAS all on `threads` threads."""
    from threadpoolctl import threadpool_limits

    def with_threads():
        gg.set_num_threads(threads)
        try:
            import torch
            torch.set_num_threads(threads)
        except ImportError:
            pass
        with threadpool_limits(limits=threads):
            return run()
    return with_threads


def bench_lenet(epochs: int) -> None:
    """Each engine trains twice from the same weights: on both cores (the default, as each
    library sets itself up) and on one (this 2-core VM wakes a second thread slowly: PyTorch
    itself often runs LeNet faster on one). Epochs of all runs alternate."""
    from bench_training import graphgrad_trainer, torch_trainer

    data = gg.data.load_digits()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch: not installed, column skipped")
    runs, accuracy, steps = {}, {}, []
    initial = None
    for threads in (2, 1):
        initial, eager_epoch, eager_accuracy = graphgrad_trainer(data, epochs, 0)
        comp_epoch, comp_accuracy, step = _compiled_trainer(data, epochs, 0)
        steps.append(step)
        for name, run, acc in (("compiled", comp_epoch, comp_accuracy),
                               ("eager", eager_epoch, eager_accuracy)):
            if threads == 1 and name == "eager":
                continue
            runs[f"{name}, {threads} thr"], accuracy[f"{name}, {threads} thr"] = \
                _on_threads(run, threads), acc
        if torch is not None:
            run, acc = torch_trainer(data, epochs, 0, initial)
            runs[f"pytorch, {threads} thr"], accuracy[f"pytorch, {threads} thr"] = \
                _on_threads(run, threads), acc
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(epochs):  # epochs alternate: load slows all alike
        for name, run in runs.items():
            times[name].append(run())
    gg.set_num_threads(None)  # (back to the default: one per core)
    print(f"\nLeNet on the digits, {epochs} epochs, seconds per epoch (median / min), "
          f"test accuracy:")
    for name in runs:
        print(f"{name:<17} {statistics.median(times[name]):.3f} / {min(times[name]):.3f}"
              f"   accuracy {accuracy[name]():.4f}")
    if torch is not None:
        for threads in (2, 1):
            c, t = (statistics.median(times[f"{k}, {threads} thr"]) for k in ("compiled",
                                                                              "pytorch"))
            print(f"compiled / pytorch, both on {threads} thread{'s' * (threads > 1)}: "
                  f"{c / t:.2f}x (target <= 1.0x)")
        best_c = min(statistics.median(times[f"compiled, {n} thr"]) for n in (2, 1))
        best_t = min(statistics.median(times[f"pytorch, {n} thr"]) for n in (2, 1))
        eager = statistics.median(times["eager, 2 thr"])
        print(f"compiled / pytorch, each at its better setting: {best_c / best_t:.2f}x; "
              f"eager / pytorch (2 threads): "
              f"{eager / statistics.median(times['pytorch, 2 thr']):.2f}x")
    print(f"compiled step traces: {steps[0].cache_info()}")


def bench_memory() -> None:
    model = gg.nn.LeNet(rng=0)
    data = gg.data.load_digits()
    x, y = gg.tensor(data.x_train[:32]), gg.tensor(data.y_train[:32])
    step = gg.compile(lambda x, y: gg.cross_entropy(model(x), y))
    step(x, y).backward()

    def eager():
        gg.cross_entropy(model(x), y).backward()

    def compiled():
        step(x, y).backward()

    from bench_conv import _peak_memory

    peaks = {"eager": _peak_memory(eager), "compiled": _peak_memory(compiled)}
    print(f"\npeak traced memory of one LeNet training step (batch 32): eager "
          f"{peaks['eager'] / 2**20:.2f} MiB, compiled {peaks['compiled'] / 2**20:.2f} MiB "
          f"({peaks['compiled'] / peaks['eager']:.2f}x)")


def bench_conv(rounds: int) -> None:
    from bench_conv import SHAPES

    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
    print("\nconv2d forward + backward (all-ones cotangent), best of turns, ms:")
    print(f"{'shape':<22} {'compiled':>9} {'eager':>9} {'pytorch':>9} {'comp/eager':>10} "
          f"{'comp/torch':>10}")
    rng = np.random.default_rng(0)
    for n, c, size, o, k, pad in SHAPES:
        x_np = rng.standard_normal((n, c, size, size)).astype(np.float32)
        w_np = rng.standard_normal((o, c, k, k)).astype(np.float32)
        x = gg.tensor(x_np, requires_grad=True)
        w = gg.tensor(w_np, requires_grad=True)
        conv = gg.compile(lambda x, w, pad=pad: gg.conv2d(x, w, padding=pad).sum())

        def eager(x=x, w=w, pad=pad):  # defaults bind this shape's tensors (B023)
            x.grad = w.grad = None
            gg.conv2d(x, w, padding=pad).sum().backward()

        def compiled(x=x, w=w, conv=conv):
            x.grad = w.grad = None
            conv(x, w).backward()

        steps = {"compiled": compiled, "eager": eager}
        if torch is not None:
            tx = torch.tensor(x_np, requires_grad=True)
            tw = torch.tensor(w_np, requires_grad=True)

            def torch_step(tx=tx, tw=tw, pad=pad):
                tx.grad = tw.grad = None
                torch.nn.functional.conv2d(tx, tw, padding=pad).sum().backward()

            steps["pytorch"] = torch_step
        best = best_times(steps, rounds)
        pt = best.get("pytorch", math.nan)
        print(f"{f'{n}x{c}x{size}x{size} k{k} o{o}':<22} {best['compiled'] * 1e3:>9.2f} "
              f"{best['eager'] * 1e3:>9.2f} {pt * 1e3:>9.2f} "
              f"{best['compiled'] / best['eager']:>10.2f} {best['compiled'] / pt:>10.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block-ms", type=float, default=5.0,
                        help="milliseconds of circuits per timed block")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--skip-lenet", action="store_true")
    args = parser.parse_args(argv)
    bench_circuit(max(args.rounds, 15), args.block_ms)
    bench_second_order(args.rounds, 200)
    first_call_times()
    bench_memory()
    bench_conv(args.rounds)
    if not args.skip_lenet:
        bench_lenet(args.epochs)


if __name__ == "__main__":
    main()
