"""Benchmark: data-parallel fit on a local Ray, the digits LeNet, against one process in the run.

For each global batch size: seconds per epoch with one process (`fit`), with one Ray worker (the
cost of the machinery alone) and with two; for the Ray runs the communication time per step
(wall time of a step minus the slowest worker's work: serialisation, object store, scheduling,
and the driver's weighted average) and the workers' work per step. The three set-ups take turns,
one epoch each per round, so load from other processes hits them alike; medians and minima over
the rounds. All three see the same batches and reach the same weights (the equivalence test).

    python benchmarks/bench_distributed.py [--rounds 5] [--batches 32 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics

import numpy as np
from threadpoolctl import threadpool_limits

from graphgrad import distributed, optim, set_num_threads
from graphgrad.data import DataLoader, load_digits
from graphgrad.nn import LeNet
from graphgrad.train import fit

LR, MOMENTUM = 0.05, 0.9


def trainer(data, batch: int, workers: int | None):
    """one_epoch() -> (seconds, StepTimings or None), each call one more epoch of the same run."""
    model = LeNet(rng=0)
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True)
    loader = DataLoader(data.x_train, data.y_train, batch_size=batch, seed=0)

    def one_epoch():
        if workers is None:
            return fit(model, optimizer, loader, epochs=1, progress=False).seconds[0], None
        timings = distributed.StepTimings()
        history = distributed.fit(model, optimizer, loader, epochs=1, workers=workers,
                                  progress=False, timings=timings)
        return history.seconds[0], timings

    return one_epoch


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of the one process (each Ray worker has its 1 CPU's one)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    # the same threads per process as a worker: on a loaded 2-core machine, 2 kernel threads plus
    # OpenBLAS's made the one process 5-10x slower (oversubscription), which is not what we measure
    threadpool_limits(args.threads)
    set_num_threads(args.threads)
    data = load_digits()
    distributed.init(num_cpus=2)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{len(data.x_train)} training images, {args.rounds} rounds (one epoch each, in turns)")
    report = {}
    try:
        for batch in args.batches:
            setups = {"1 process": trainer(data, batch, None),
                      "1 Ray worker": trainer(data, batch, 1),
                      "2 Ray workers": trainer(data, batch, 2)}
            for one_epoch in setups.values():
                one_epoch()  # warm-up epoch: imports, worker processes, caches
            seconds = {name: [] for name in setups}
            comm = {name: [] for name in setups}
            work = {name: [] for name in setups}
            for _ in range(args.rounds):
                for name, one_epoch in setups.items():
                    took, timings = one_epoch()
                    seconds[name].append(took)
                    if timings is not None:
                        comm[name].extend(timings.communication)
                        work[name].extend(timings.worker)
            steps = len(DataLoader(data.x_train, batch_size=batch))
            print(f"\nglobal batch {batch} ({steps} steps per epoch)")
            print(f"{'set-up':<15}{'s/epoch median':>15}{'min':>8}{'vs 1 process':>14}"
                  f"{'comm ms/step':>14}{'work ms/step':>14}")
            base = statistics.median(seconds["1 process"])
            for name in setups:
                med = statistics.median(seconds[name])
                c = f"{1e3 * statistics.median(comm[name]):.2f}" if comm[name] else "-"
                w = f"{1e3 * statistics.median(work[name]):.2f}" if work[name] else "-"
                print(f"{name:<15}{med:>15.3f}{min(seconds[name]):>8.3f}{med / base:>13.2f}x"
                      f"{c:>14}{w:>14}")
                report[f"{batch}/{name}"] = {
                    "seconds": seconds[name],
                    "comm_ms_median": float(1e3 * np.median(comm[name])) if comm[name] else None,
                    "work_ms_median": float(1e3 * np.median(work[name])) if work[name] else None}
    finally:
        distributed.shutdown()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
    return report


if __name__ == "__main__":
    main()
