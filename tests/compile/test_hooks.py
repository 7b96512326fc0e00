"""The core's tracing hooks: nothing of graphgrad is replaced while tracing, values read at
run time stay run-time values (logsumexp's shift, dropout imported by name)."""

import sys
import threading

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import dropout as dropout_imported_early  # bound before any trace runs
from graphgrad.compiler import ConcretizationError

primitive_module = sys.modules["graphgrad._primitive"]  # `gg.primitive` is the declaring function
tensor_module = sys.modules["graphgrad._tensor"]


def _numpy_logsumexp(a: np.ndarray) -> np.ndarray:
    peak = a.max(axis=1, keepdims=True)
    return (peak + np.log(np.exp(a - peak).sum(axis=1, keepdims=True)))[:, 0]


def test_logsumexp_shift_follows_each_call_not_the_first():
    compiled = gg.compile(lambda x: gg.logsumexp(x, axis=1))
    small = np.array([[0.0, 1.0, 2.0], [0.5, -0.5, 0.0]])
    large = np.array([[1000.0, 1001.0, 999.0], [-2000.0, -2001.0, -1999.5]])
    with gg.default_dtype("float64"):
        for values in (small, large):
            x = gg.tensor(values, requires_grad=True)
            out = compiled(x)
            np.testing.assert_allclose(out.numpy(), _numpy_logsumexp(values), rtol=1e-12)
            out.sum().backward()
            softmax = np.exp(values - values.max(axis=1, keepdims=True))
            np.testing.assert_allclose(x.grad.numpy(), softmax / softmax.sum(axis=1, keepdims=True),
                                       rtol=1e-12)
    assert compiled.cache_info()["traces"] == 1


def test_dropout_imported_by_name_draws_a_fresh_mask_every_call():
    compiled = gg.compile(lambda x, gen: dropout_imported_early(x, 0.5, generator=gen))
    gen = np.random.default_rng(0)
    x = gg.tensor(np.ones(64))
    masks = {tuple(compiled(x, gen).numpy()) for _ in range(4)}
    assert len(masks) == 4
    # the same draws as eager dropout from the same generator state
    gen_eager, gen_compiled = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(2):
        np.testing.assert_array_equal(compiled(x, gen_compiled).numpy(),
                                      dropout_imported_early(x, 0.5, generator=gen_eager).numpy())


def test_tracing_replaces_nothing_and_switches_its_hooks_off_after():
    apply_before, item_before = primitive_module.apply, gg.Tensor.__dict__["item"]
    seen = {}

    def fn(x):
        seen["apply"] = primitive_module.apply
        seen["item"] = gg.Tensor.__dict__["item"]
        seen["hook"] = primitive_module._tracer is not None and tensor_module._tracer is not None
        return x * 2.0

    gg.compile(fn)(gg.tensor([1.0, 2.0]))
    assert seen == {"apply": apply_before, "item": item_before, "hook": True}
    assert primitive_module._tracer is None and tensor_module._tracer is None


def test_another_thread_reads_values_while_a_trace_runs():
    started, release, results = threading.Event(), threading.Event(), []

    def slow(x):
        started.set()
        release.wait(10)
        return x + 1.0

    tracer = threading.Thread(target=lambda: results.append(gg.compile(slow)(gg.tensor(1.0))))
    tracer.start()
    started.wait(10)
    try:
        eager = gg.tensor(3.0) * 2.0   # not recorded, and its value can be read
        assert eager.item() == 6.0 and eager.op is None
    finally:
        release.set()
        tracer.join(10)
    assert results[0].item() == 2.0


def test_value_read_inside_a_helper_names_the_method():
    compiled = gg.compile(lambda x: x * (2.0 if x.sum().tolist() > 0 else 3.0))
    with pytest.raises(ConcretizationError, match=r"tolist\(\) reads the value"):
        compiled(gg.tensor([1.0, 2.0]))
