"""What detect_anomaly's hook costs the scalar sigmoid circuit when the mode is off (and on).

Three variants of the same engine, timed in turns (`turns.py`) in one run:
  * "hook, off": the engine as shipped, anomaly mode off (one global lookup per node, one per
    backward sweep);
  * "no hook": `apply` and `sweep` recompiled from their own source without the anomaly lines,
    i.e. the engine before the hook existed;
  * "hook, on": inside `gg.detect_anomaly()` (a finiteness check per node and per VJP).
Prints microseconds per gate and the ratio to "no hook". Run:
.venv/bin/python benchmarks/bench_anomaly.py [--circuits N] [--rounds R] [--cpu-time]
"""

from __future__ import annotations

import argparse
import inspect
import textwrap
import time

from bench_engine import CIRCUIT_GATES, circuit_graphgrad  # benchmarks/, beside this script

from graphgrad import _primitive, _tensor, autodiff
from graphgrad.anomaly import detect_anomaly

from turns import best_times


def without_hook(module, name: str):
    """`module.name` recompiled without its lines that mention the anomaly hook, over a copy of
    the module's globals, under the module's file name (so creation sites stay correct)."""
    source = textwrap.dedent(inspect.getsource(getattr(module, name)))
    kept = "\n".join(line for line in source.splitlines() if "anomaly" not in line)
    if kept.count("\n") == source.count("\n"):
        raise SystemExit(f"{module.__name__}.{name} has no anomaly lines: nothing to compare")
    namespace = module.__dict__.copy()
    exec(compile(kept, module.__file__, "exec"), namespace)
    return namespace[name]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=2000,
                        help="circuits per round; each turn times a block of a tenth of them")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time this process's CPU seconds instead of wall-clock ones (on a "
                             "machine loaded by others: waiting for a core is not counted)")
    args = parser.parse_args(argv)
    shipped = (_primitive.apply, autodiff.sweep)
    bare = (without_hook(_primitive, "apply"), without_hook(autodiff, "sweep"))

    def use(engine):
        apply, sweep = engine
        _primitive.apply = _tensor._apply = apply
        autodiff.sweep = sweep

    block = max(1, args.circuits // 10)

    def run(engine, anomaly=False):
        def step():
            use(engine)
            if anomaly:
                with detect_anomaly():
                    circuit_graphgrad(block)
            else:
                circuit_graphgrad(block)
        return step

    try:
        seconds = best_times({"no hook": run(bare), "hook, off": run(shipped),
                              "hook, on": run(shipped, anomaly=True)}, args.rounds, block=1,
                             clock=time.process_time if args.cpu_time else time.perf_counter)
    finally:
        use(shipped)
    gates = CIRCUIT_GATES["graphgrad"]
    base = seconds["no hook"]
    clock = "CPU" if args.cpu_time else "wall-clock"
    print(f"graphgrad scalar sigmoid circuit ({gates} gates, fwd + bwd), best of {args.rounds} "
          f"rounds of {block} circuits, variants in turns, {clock} time:")
    for name, value in seconds.items():
        print(f"  {name:10s} {value / block / gates * 1e6:7.3f} us per gate   "
              f"{value / base:5.3f}x no hook")


if __name__ == "__main__":
    main()
