"""The conv kernels' chunk runner: order, per-thread set-up, errors, determinism, fork."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.backend import chunks, conv_numpy
from graphgrad.backend.windows import window_geometry


@pytest.fixture
def three_workers(monkeypatch):
    monkeypatch.setattr(chunks, "worker_count", lambda: 3)


def test_results_come_back_in_chunk_order_and_set_up_runs_once_per_thread(three_workers):
    set_ups = []

    def make_worker():
        set_ups.append(threading.get_ident())
        return lambda start, stop: (start, stop, threading.get_ident())

    results = chunks.map_chunks(10, 3, make_worker)
    assert [(a, b) for a, b, _ in results] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert len(set_ups) == 3  # three runs of chunks (1, 1 and 2 of the 4), each set up once
    assert results[0][2] == threading.get_ident() in set_ups  # the caller took the first run


def test_a_worker_error_reaches_the_caller_after_every_worker_finished(three_workers):
    finished = []

    def make_worker():
        def work(start, stop):
            if start == 3:
                raise ValueError("chunk 3 failed")
            finished.append(start)
        return work

    with pytest.raises(ValueError, match="chunk 3 failed"):
        chunks.map_chunks(9, 3, make_worker)
    assert sorted(finished) == [0, 6]


def test_weight_gradient_is_bitwise_the_same_for_any_number_of_threads(monkeypatch):
    """Partial sums are added in chunk order, so the threads' timing cannot change a bit."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 8, 9, 9)).astype(np.float32)
    y = rng.standard_normal((12, 16, 9, 9)).astype(np.float32)
    g = window_geometry("test", (9, 9), 3, 1, 1)
    monkeypatch.setattr(conv_numpy, "_CHUNK_BYTES", 1)  # one image per chunk
    monkeypatch.setattr(chunks, "PARALLEL_BYTES", 0)   # and threads however small the work
    results = []
    for workers in (1, 2, 3):
        monkeypatch.setattr(chunks, "worker_count", lambda workers=workers: workers)
        results.append(conv_numpy._conv_weight_grad_per_image(x, y, g))
    assert all(np.array_equal(results[0], other) for other in results[1:])


def _sum_in_child(queue):
    results = chunks.map_chunks(6, 1, lambda: (lambda start, stop: start))
    queue.put(sum(results))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_gets_a_pool_of_its_own(three_workers):
    chunks.map_chunks(6, 1, lambda: (lambda start, stop: start))  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_sum_in_child, args=(queue,))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0 and queue.get(timeout=5) == 15


def test_small_work_stays_on_the_calling_thread(three_workers, monkeypatch):
    """Waking pool threads costs more than a second core saves on small convs (LeNet's 8x8):
    below PARALLEL_BYTES every chunk runs on the caller; at or above it the pool takes part."""
    def threads_used(work_bytes):
        used = set()

        def make_worker():
            return lambda start, stop: used.add(threading.get_ident())

        chunks.map_chunks(6, 1, make_worker, work_bytes=work_bytes)
        return used

    assert threads_used(chunks.PARALLEL_BYTES - 1) == {threading.get_ident()}
    assert len(threads_used(chunks.PARALLEL_BYTES)) > 1  # (a quick pool thread may take two runs)
    calls = []
    monkeypatch.setattr(chunks, "map_chunks", lambda *a, **k: calls.append(k) or [])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16, 8, 8)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    monkeypatch.setattr(conv_numpy, "map_chunks", chunks.map_chunks)
    conv_numpy._conv_forward_per_image(x, w, window_geometry("test", (8, 8), 3, 1, 1), 1)
    assert calls and 0 < calls[0]["work_bytes"] < chunks.PARALLEL_BYTES  # LeNet's conv2: small


def test_set_num_threads_holds_the_kernels_to_that_many_threads():
    """`gg.num_threads(1)` (PyTorch's set_num_threads) runs every chunk on the calling thread;
    the setting is restored after the block; nonsense is refused with the valid range."""
    threads = set()

    def make_worker():
        return lambda start, stop: threads.add(threading.get_ident())

    with gg.num_threads(1):
        assert gg.get_num_threads() == 1
        chunks.map_chunks(8, 1, make_worker)
    assert threads == {threading.get_ident()}
    assert gg.get_num_threads() == chunks.available_cores()
    with gg.num_threads(3):
        assert gg.get_num_threads() == 3
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="expected a positive int"):
            gg.set_num_threads(bad)


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return min(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def test_overlapping_callers_share_the_blas_limit_and_the_last_one_out_restores_it():
    """Two threads' convs overlap: A in, B in, A out, B out. BLAS stays on one thread until B
    leaves, then gets back what it had before A, not the limit of 1 that B found."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        if before < 2:
            pytest.skip("this BLAS runs one thread only: nothing to restore")
        shared = chunks._blas_on_one_thread
        shared.__enter__()                            # A in
        shared.__enter__()                            # B in
        assert _blas_threads() == 1
        shared.__exit__(None, None, None)             # A out
        assert _blas_threads() == 1                   # B's chunks are still running
        shared.__exit__(None, None, None)             # B out
        assert _blas_threads() == before


def test_threads_with_different_thread_counts_share_the_pool_safely(monkeypatch):
    """One thread's new count used to shut down the pool another was submitting to
    (RuntimeError: cannot schedule new futures after shutdown)."""
    monkeypatch.setattr(conv_numpy, "_CHUNK_BYTES", 1)  # one image per chunk: the pool is used
    monkeypatch.setattr(chunks, "PARALLEL_BYTES", 0)   # however small the work
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal((4, 2, 10, 10)))
    w = gg.tensor(rng.standard_normal((3, 2, 3, 3)))
    expected = gg.conv2d(x, w, padding=1).numpy()
    errors, barrier = [], threading.Barrier(4)

    def run(index):
        try:
            barrier.wait()
            for call in range(50):
                with gg.num_threads(2 + (index + call) % 3):
                    assert np.allclose(gg.conv2d(x, w, padding=1).numpy(), expected)
        except Exception as error:  # noqa: BLE001  collected for the main thread's assert
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
