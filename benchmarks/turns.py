"""Timing several libraries fairly on a shared machine: they take turns, round after round.

Load from other processes comes and goes over seconds; timing one library after the other lets
it hit one of them only. Taking turns in short blocks spreads it over all alike, and the best
block of each is what it costs when left alone. Each turn starts with one unmeasured call: it
absorbs what the previous library left behind (PyTorch's OpenMP threads keep spinning on the
cores for a while after its call; a cache full of its arrays).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_times(steps: dict[str, Callable[[], object]], rounds: int, block: int = 3,
               clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """The best time of one call of each step, the steps taking turns in blocks, `rounds` times."""
    best = {name: math.inf for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            step()
            for _ in range(block):
                start = clock()
                step()
                best[name] = min(best[name], clock() - start)
    return best
