"""Run the image chunks of a NumPy conv kernel on every core.

NumPy releases the GIL in its copies, adds and matmuls, so plain Python threads run chunks in
parallel: the window copies, single-threaded in NumPy, then use both cores as PyTorch does.
OpenBLAS is held to one thread while they run (through threadpoolctl): two of its threaded
products at once would serialize on its lock and oversubscribe the cores, and on one core its
threads only slow the chunks' small products. Each worker gets its
own scratch buffers (they are thread-local), and results come back in chunk order, so sums over
chunks are the same whatever the timing.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

from .. import config

Result = TypeVar("Result")
ChunkFn = Callable[[int, int], Result]

_pool_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (its number of threads, the pool)


def _forget_pool_in_child() -> None:
    """A forked child has none of the parent's threads, and a lock held at the fork stays held."""
    global _pool, _pool_lock, _blas_on_one_thread
    _pool, _pool_lock = None, threading.Lock()
    _blas_on_one_thread = _SharedBlasLimit()  # the child's BLAS keeps whatever limit it inherited


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def available_cores() -> int:
    """Cores this process may run on (CPU affinity respected where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_count() -> int:
    """Threads a kernel runs on: `gg.set_num_threads(n)`, else one per available core."""
    requested = config.requested_threads()
    return available_cores() if requested is None else requested


get_num_threads = worker_count  # the public name (PyTorch's)


def _executor(threads: int) -> ThreadPoolExecutor:
    """A shared pool of at least `threads` threads (a caller submits only as many runs as it
    wants threads), replaced by a larger one when more are asked for; a forked child forgets
    the parent's (see above).

    A replaced pool is never shut down: another thread (each has its own `gg.num_threads`) may
    be submitting to it at that moment, and shutting it down made that submit fail ("cannot
    schedule new futures after shutdown"). Once no caller holds it, it is garbage, and its
    idle threads exit by themselves (ThreadPoolExecutor wakes them when it is collected)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] < threads:
            _pool = (threads, ThreadPoolExecutor(threads, thread_name_prefix="graphgrad-conv"))
        return _pool[1]


@functools.cache
def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded (NumPy's OpenBLAS, ...): their
    `set_num_threads` is one C call (3 us for the pair of calls; `limit()` costs 13)."""
    from threadpoolctl import ThreadpoolController

    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


class _SharedBlasLimit:
    """BLAS on one thread while any caller's chunks run (`with _blas_on_one_thread:`).

    The limit is process-wide, so callers share it: the first one in sets it, the last one out
    restores what was there before. (Each taking its own threadpoolctl limit would go wrong when
    two threads' convs overlap: the second saves the first's limit of 1 as "the original" and, if
    it leaves last, puts it back for good.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._saved: list[tuple[Any, int]] = []  # (library, its threads), while someone is inside

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._saved = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
                for lib, _ in self._saved:
                    lib.set_num_threads(1)
            self._inside += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0:
                for lib, threads in self._saved:
                    lib.set_num_threads(threads)
                self._saved = []


_blas_on_one_thread = _SharedBlasLimit()


def _run_group(make_worker: Callable[[], ChunkFn], chunks: list[tuple[int, int]]) -> list:
    work = make_worker()
    return [work(start, stop) for start, stop in chunks]


# Work (bytes a call copies and multiplies) below which the chunks stay on the calling thread:
# waking a pool thread and limiting OpenBLAS cost 0.1-0.25 ms a call on a 2-core VM, more than
# a second core saves on LeNet's 8x8 convs (1.2 MB: 0.64 ms on one thread, 0.82 on two); at
# 64x16x14x14 (7 MB) two threads pay (14.0 -> 12.4 ms forward + backward).
PARALLEL_BYTES = 4 << 20


def map_chunks(count: int, step: int, make_worker: Callable[[], ChunkFn], *,
               work_bytes: int | None = None) -> list:
    """[work(start, stop) for each chunk of `step` items of range(count)], on every core.

    `make_worker()` runs once in each thread that takes part and returns `work`: set-up such as
    zeroing a scratch buffer happens once per thread, not once per chunk. Each thread takes a
    contiguous run of chunks; the calling thread takes the first run itself. A call whose
    `work_bytes` is below `PARALLEL_BYTES` runs on the calling thread alone.
    """
    chunks = [(start, min(start + step, count)) for start in range(0, count, step)]
    small = work_bytes is not None and work_bytes < PARALLEL_BYTES
    groups = 1 if small else min(worker_count(), len(chunks))
    with _blas_on_one_thread:  # a chunk's products are small: OpenBLAS's threads only cost
        if groups <= 1:        # (LeNet's input gradient: 0.75 ms on one, 1.0 on two)
            return _run_group(make_worker, chunks)
        bounds = [len(chunks) * g // groups for g in range(groups + 1)]
        runs = [chunks[lo:hi] for lo, hi in zip(bounds, bounds[1:])]
        pool = _executor(worker_count() - 1)
        futures = [pool.submit(_run_group, make_worker, run) for run in runs[1:]]
        try:
            results = _run_group(make_worker, runs[0])
        finally:
            wait(futures)  # never leave workers writing into buffers the caller lets go
        for future in futures:
            results.extend(future.result())
    return results
