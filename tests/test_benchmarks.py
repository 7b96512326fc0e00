"""The benchmark scripts still run (they print figures, so nothing here times anything), and the
turn-taking timer they share keeps each step's best block."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from turns import best_times  # noqa: E402  (benchmarks/ is not a package)


def test_best_times_takes_turns_and_keeps_each_steps_best_call():
    # clock readings around each timed call: a takes 3, 1 then 2, 5; b takes 4, 4 then 0.5, 6
    readings = iter([0, 3, 3, 4, 10, 14, 14, 18, 20, 22, 22, 27, 30, 30.5, 30.5, 36.5])
    calls = []

    def step(name):
        return lambda: calls.append(name)

    best = best_times({"a": step("a"), "b": step("b")}, rounds=2, block=2,
                      clock=lambda: next(readings))
    assert calls == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3  # a warm-up call, then a block
    assert best == {"a": 1, "b": 0.5}


@pytest.mark.parametrize("script, args, shown", [
    ("bench_engine.py", ["--circuits", "20", "--rounds", "1", "--chain", "100",
                         "--chain-micrograd", "100"], "graphgrad"),
    ("bench_conv.py", ["--repeats", "1", "--kernels"], "matmul floor"),
    ("bench_backward_memory.py", ["--batch", "8", "--rounds", "1"], "KiB held by the loss"),
])
def test_benchmark_script_runs(script, args, shown):
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True,
                          text=True, timeout=300, check=False, cwd=BENCHMARKS)
    assert done.returncode == 0, done.stderr
    assert "graphgrad" in done.stdout and shown in done.stdout
