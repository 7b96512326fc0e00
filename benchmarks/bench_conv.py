"""conv2d and max-pool forward+backward on the NumPy backend (float32) beside PyTorch CPU.

Prints, for the three shapes of issue 3: graphgrad and PyTorch times (each the best of several
runs, the two libraries taking turns in blocks, round by round, in the same process and threads,
so that load from other processes hits both alike), their ratio against the 1.5x target,
conv's GFLOP/s as a fraction of what NumPy's own matmul reaches here, and the tracemalloc peak of
one conv forward+backward beside the size of the whole (C*K, N*L) im2col buffer, the yardstick
(the NumPy fast paths copy windows chunk by chunk and never hold it whole). PyTorch is optional:
without it those columns say "n/a".

Run: .venv/bin/python benchmarks/bench_conv.py [--repeats 7] [--cpu] [--kernels]

`--cpu` runs both libraries on one thread and times the thread's CPU time: on a loaded machine
(wall-clock times of two-thread BLAS swing by 10x there) it still compares the work each does.
`--breakdown` splits the forward of each shape into its window copy and its matmuls, and times
the buffers a compiled function could own (a whole-batch window array and output allocated once,
NumPy `out=`) against fresh ones, beside PyTorch's forward (issue #16).
`--kernels` also times conv's three kernels one by one (graphgrad's backend kernels beside
PyTorch's conv2d, conv2d_input and conv2d_weight), each beside the time NumPy's matmul would need
for its multiply-adds alone: where a step misses, this says which kernel and by how much.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
import tracemalloc

import numpy as np

import graphgrad as gg
from graphgrad.backend import conv_kernels, windows
from graphgrad.composites.conv import conv2d
from graphgrad.composites.pooling import max_pool2d

from turns import best_times  # benchmarks/turns.py, beside this script

SHAPES = [  # (batch, channels, size, filters, kernel, padding)
    (64, 1, 28, 6, 5, 2),
    (64, 16, 14, 32, 3, 1),
    (32, 64, 32, 64, 3, 1),
]
TARGET = 1.5


CLOCK = [time.perf_counter]  # --cpu: time.thread_time (CPU time of this one thread)


def _median_time(fn, repeats: int) -> float:
    fn()  # warm up (allocations, workspaces, BLAS threads)
    times = []
    for _ in range(repeats):
        start = CLOCK[0]()
        fn()
        times.append(CLOCK[0]() - start)
    return statistics.median(times)


def _numpy_matmul_gflops(repeats: int) -> float:
    """What NumPy's matmul reaches on this machine (float32, a large square product)."""
    n = 1536
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    return 2 * n**3 / _median_time(lambda: a @ a, repeats) / 1e9


def _graphgrad_conv(x_np, w_np):
    x = gg.tensor(x_np, requires_grad=True)
    w = gg.tensor(w_np, requires_grad=True)

    def step():
        x.grad = w.grad = None
        y = conv2d(x, w, padding=PAD[0])
        gg.backward([y], [gg.tensor(ONES[0])])
        return x.grad, w.grad

    return step


def _graphgrad_pool(x_np):
    x = gg.tensor(x_np, requires_grad=True)
    g = None

    def step():
        nonlocal g
        x.grad = None
        y = max_pool2d(x, 2)
        if g is None:
            g = gg.tensor(np.ones(y.shape, np.float32))
        gg.backward([y], [g])
        return x.grad

    return step


PAD, ONES = [0], [None]


def _torch_steps(torch, x_np, w_np, p_np, pad):
    x = torch.tensor(x_np, requires_grad=True)
    w = torch.tensor(w_np, requires_grad=True)
    xp = torch.tensor(p_np, requires_grad=True)

    def conv_step():
        x.grad = w.grad = None
        y = torch.nn.functional.conv2d(x, w, padding=pad)
        y.backward(torch.ones_like(y))

    def pool_step():
        xp.grad = None
        y = torch.nn.functional.max_pool2d(xp, 2)
        y.backward(torch.ones_like(y))

    return conv_step, pool_step


def _kernel_lines(torch, x_np, w_np, pad: int, geometry, matmul_gflops: float, repeats: int,
                  label: str) -> list[str]:
    """Conv's forward, input gradient and weight gradient timed one by one, in turns with
    PyTorch's (when installed), beside the matmul floor: the kernel's multiply-adds at NumPy's
    own matmul rate."""
    n, c = x_np.shape[:2]
    o, k = w_np.shape[0], w_np.shape[2]
    out = geometry.out_size[0]
    y_np = np.random.default_rng(1).standard_normal((n, o, out, out), dtype=np.float32)
    steps = {
        "forward": lambda: conv_kernels.conv_forward(np, x_np, w_np, geometry),
        "input grad": lambda: conv_kernels.conv_input_grad(np, y_np, w_np, geometry),
        "weight grad": lambda: conv_kernels.conv_weight_grad(np, x_np, y_np, geometry),
    }
    if torch is not None:
        tx, tw, ty = torch.tensor(x_np), torch.tensor(w_np), torch.tensor(y_np)
        steps["torch forward"] = lambda: torch.nn.functional.conv2d(tx, tw, padding=pad)
        steps["torch input grad"] = lambda: torch.nn.grad.conv2d_input(tx.shape, tw, ty,
                                                                       padding=pad)
        steps["torch weight grad"] = lambda: torch.nn.grad.conv2d_weight(tx, tw.shape, ty,
                                                                         padding=pad)
    best = best_times(steps, repeats, clock=CLOCK[0])
    floor = 2 * n * o * c * k * k * out * out / (matmul_gflops * 1e9)
    lines = []
    for kernel in ("forward", "input grad", "weight grad"):
        ours, theirs = best[kernel], best.get("torch " + kernel)
        versus = (f"{theirs * 1e3:8.2f}ms {ours / theirs:6.2f}" if theirs
                  else f"{'n/a':>10} {'n/a':>6}")
        lines.append(f"{label:38} {kernel:12} {ours * 1e3:8.2f}ms {versus} "
                     f"{floor * 1e3:9.2f}ms {floor / ours:7.0%}")
    return lines


def _breakdown_lines(torch, x_np, w_np, pad: int, geometry, repeats: int,
                     label: str) -> list[str]:
    """Where conv's forward time goes, and what buffers reused across calls would save.

    The chunked kernel copies windows into per-thread scratch (reused already) and multiplies
    image by image into a fresh output; here the copy and the matmuls run alone, and the forward
    is redone with buffers owned by the caller: the whole batch's windows (N, C*K, L) and the
    output allocated once, filled by `np.copyto` and `np.matmul(..., out=)`."""
    from graphgrad.backend import conv_numpy

    n, c, o = x_np.shape[0], x_np.shape[1], w_np.shape[0]
    ck, positions = c * math.prod(geometry.kernel), math.prod(geometry.out_size)
    kernel = w_np.reshape(o, ck)
    owned_cols = np.empty((n, c) + geometry.kernel + geometry.out_size, np.float32)
    owned_y, owned_out = (np.empty((n, o, positions), np.float32) for _ in range(2))
    step = conv_numpy._images_per_chunk(n, ck * positions * 4)

    def copy_windows(cols):
        for start in range(0, n, step):
            np.copyto(cols[start:start + step],
                      conv_numpy._windows_channels_first(x_np[start:start + step], geometry))

    def forward_owned():
        copy_windows(owned_cols)
        np.matmul(kernel, owned_cols.reshape(n, ck, positions), out=owned_y)

    def forward_fresh():
        cols = np.empty_like(owned_cols)
        copy_windows(cols)
        return np.matmul(kernel, cols.reshape(n, ck, positions))

    steps = {
        "kernel (chunked, scratch windows)": lambda: conv_kernels.conv_forward(
            np, x_np, w_np, geometry),
        "  its window copy alone": lambda: copy_windows(owned_cols),
        "  its matmuls alone (out=)": lambda: np.matmul(
            kernel, owned_cols.reshape(n, ck, positions), out=owned_y),
        "whole-batch windows + y owned (out=)": forward_owned,
        "whole-batch windows + y fresh": forward_fresh,
        "output: fresh np.empty + write": lambda: np.copyto(np.empty_like(owned_y), owned_y),
        "output: owned buffer, write": lambda: np.copyto(owned_out, owned_y),
    }
    if torch is not None:
        tx, tw = torch.tensor(x_np), torch.tensor(w_np)
        steps["pytorch forward"] = lambda: torch.nn.functional.conv2d(tx, tw, padding=pad)
    best = best_times(steps, repeats, clock=CLOCK[0])
    theirs = best.get("pytorch forward")
    return [f"{label:38} {name:38} {t * 1e3:8.2f}ms "
            + (f"{t / theirs:6.2f}x pytorch" if theirs else "") for name, t in best.items()]


def _peak_memory(step) -> int:
    gc.collect()
    windows.release_workspace()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--breakdown", action="store_true",
                        help="split conv's forward into window copy and matmuls; owned buffers")
    parser.add_argument("--kernels", action="store_true",
                        help="also time conv's forward, input and weight gradients one by one")
    parser.add_argument("--cpu", action="store_true",
                        help="one thread for NumPy's BLAS and PyTorch, timed by the thread's CPU "
                             "time: compares the work done, robust to a loaded machine")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    if args.cpu:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        gg.set_num_threads(1)  # graphgrad's conv chunks on this one thread too
        if torch is not None:
            torch.set_num_threads(1)
        CLOCK[0] = time.thread_time
    matmul = _numpy_matmul_gflops(args.repeats)
    threads = torch.get_num_threads() if torch is not None else "n/a"
    print(f"NumPy {np.__version__}, float32; NumPy matmul reaches {matmul:.1f} GFLOP/s here; "
          f"PyTorch {'not installed' if torch is None else torch.__version__} "
          f"(threads: {threads}); {'CPU time of one thread' if args.cpu else 'wall-clock'}")
    print()
    header = (f"{'shape (N, C, HxW, filters kxk, pad)':38} {'op':9} {'graphgrad':>10} "
              f"{'pytorch':>9} {'ratio':>6} {'target':>7} {'GFLOP/s':>8} {'of matmul':>9}")
    print(header)
    print("-" * len(header))
    memory_lines, kernel_lines, breakdown_lines = [], [], []
    for n, c, size, o, k, pad in SHAPES:
        rng = np.random.default_rng(0)
        x_np = rng.standard_normal((n, c, size, size), dtype=np.float32)
        w_np = rng.standard_normal((o, c, k, k), dtype=np.float32) * 0.1
        geometry = windows.window_geometry("bench", (size, size), k, 1, pad)
        out = geometry.out_size[0]
        p_np = rng.standard_normal((n, o, out, out), dtype=np.float32)
        PAD[0], ONES[0] = pad, np.ones((n, o, out, out), np.float32)
        conv_step = _graphgrad_conv(x_np, w_np)
        pool_step = _graphgrad_pool(p_np)
        steps = {"conv": conv_step, "pool": pool_step}
        if torch is not None:
            steps["torch_conv"], steps["torch_pool"] = _torch_steps(torch, x_np, w_np, p_np, pad)
        best = best_times(steps, args.repeats, clock=CLOCK[0])
        t_conv, t_pool = best["conv"], best["pool"]
        r_conv, r_pool = best.get("torch_conv"), best.get("torch_pool")
        flops = 3 * 2 * n * o * c * k * k * out * out  # forward, input and weight gradients
        label = f"{n}, {c}, {size}x{size}, {o} {k}x{k}, pad {pad}"
        for op, t, r, gf in (("conv2d", t_conv, r_conv if torch else None, flops / t_conv / 1e9),
                             ("maxpool2", t_pool, r_pool if torch else None, None)):
            ratio = f"{t / r:.2f}" if r else "n/a"
            verdict = ("ok" if t / r <= TARGET else "MISSED") if r else "n/a"
            ref = f"{r * 1e3:.2f}ms" if r else "n/a"
            gfs = f"{gf:.1f}" if gf else ""
            frac = f"{gf / matmul:.0%}" if gf else ""
            print(f"{label:38} {op:9} {t * 1e3:8.2f}ms {ref:>9} {ratio:>6} {verdict:>7} "
                  f"{gfs:>8} {frac:>9}")
        if args.breakdown:
            breakdown_lines += _breakdown_lines(torch, x_np, w_np, pad, geometry, args.repeats,
                                                label)
        if args.kernels:
            kernel_lines += _kernel_lines(torch, x_np, w_np, pad, geometry, matmul, args.repeats,
                                          label)
        im2col = windows.im2col_bytes((n, c), (o, c, k, k), geometry, 4)
        peak = _peak_memory(conv_step)
        memory_lines.append(
            f"{label:38} im2col buffer {im2col / 2**20:7.1f} MiB, tracemalloc peak of one conv "
            f"forward+backward {peak / 2**20:7.1f} MiB = {peak / im2col:.2f}x "
            f"({'within' if peak <= 2 * im2col else 'ABOVE'} the 2x target)")
    print()
    print("Memory (the peak includes the output, both gradients and every thread's scratch "
          "buffers, freed beforehand so that they count):")
    for line in memory_lines:
        print(line)
    if breakdown_lines:
        print()
        print("conv2d forward, where the time goes and what owned buffers save (best of turns):")
        for line in breakdown_lines:
            print(line)
    if kernel_lines:
        print()
        heading = (f"{'conv kernels, one by one':38} {'kernel':12} {'graphgrad':>10} "
                   f"{'pytorch':>10} {'ratio':>6} {'matmul floor':>11} {'of ours':>7}")
        print(heading)
        print("-" * len(heading))
        for line in kernel_lines:
            print(line)


if __name__ == "__main__":
    main()
