"""detect_anomaly: the first node (forward) or VJP (backward) that makes a NaN or an inf from
finite values is named, with its op, values and the line of this file that created it."""

import os
import re
import sys

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import _primitive, autodiff, autograd
from graphgrad.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from graphgrad.errors import AnomalyError, ArgumentError, GraphgradError

HERE = os.path.basename(__file__)


def next_line() -> int:
    """The number of the caller's next line: where the planted node is created."""
    return sys._getframe(1).f_lineno + 1


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        yield


def test_a_planted_log_of_zero_is_named_with_its_line_and_values(device):
    x = gg.tensor([1.0, 0.0, 2.0], device=device, requires_grad=True)
    with detect_anomaly():
        y = x * 2.0
        with pytest.raises(AnomalyError) as caught:
            line = next_line()
            gg.log(y - 2.0 * x)
    message = str(caught.value)
    assert f"{HERE}:{line}" in message
    assert "log produced -inf (3 of 3 elements) from finite inputs" in message
    assert "input shapes (3,)" in message
    assert "output[0] = -inf where input 0 = 0.0" in message


def test_a_planted_zero_times_inf_in_backward_names_the_node_and_its_line():
    """sqrt at 0: the VJP 0.5 / sqrt(0) is inf, times the upstream 0 is nan: its gates are judged
    as the backward of sqrt, not as a forward reciprocal somewhere inside graphgrad."""
    x = gg.tensor([4.0, 0.0], requires_grad=True)
    with detect_anomaly():
        line = next_line()
        root = gg.sqrt(x)
        loss = (root * gg.tensor([1.0, 0.0])).sum()
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert message.startswith("detect_anomaly: the backward of ")
    assert re.search(rf"\(the node created at \S*{HERE}:{line}\)", message)
    assert "produced nan (1 of 2 elements) in the gradient of its input 0" in message
    assert "gradient[1] = nan where upstream gradient = 0.0, input 0 = 0.0" in message
    assert x.grad is None  # stopped before anything reached the leaf


def test_backward_with_create_graph_and_autograd_grad_are_checked_too():
    x = gg.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        line = next_line()
        y = gg.sqrt(x).sum()
        with pytest.raises(AnomalyError, match=f"backward of .*{HERE}:{line}.* inf "):
            autograd.grad(y, x, create_graph=True)


def test_nan_in_nan_out_is_not_a_new_anomaly():
    x = gg.tensor([np.nan, 1.0], requires_grad=True)
    with detect_anomaly():
        y = gg.log(x) * gg.exp(x)  # nan comes in: nobody here made it
        y.sum().backward()  # the mul's VJP meets nan forward values: not its doing either
    assert np.isnan(y.numpy()[0]) and np.isnan(x.grad.numpy()[0])


def test_a_value_masked_out_later_still_counts_and_the_safe_spelling_passes():
    x = gg.tensor([0.0, 2.0], requires_grad=True)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="log produced -inf"):
            gg.where(x > 0, gg.log(x), 0.0)
        gg.where(x > 0, gg.log(gg.where(x > 0, x, 1.0)), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5])


def test_a_non_finite_upstream_gradient_is_not_blamed_on_the_next_node():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = gg.exp(x)
    with detect_anomaly():
        y.backward(gg.tensor([np.inf, 1.0]))  # the user's seed: not a node's doing
    assert np.isinf(x.grad.numpy()[0])


def test_off_by_default_and_restored_after_an_error():
    assert _primitive._anomaly is None and autodiff._anomaly is None and not is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        with detect_anomaly():
            assert is_anomaly_enabled() and is_anomaly_check_nan_enabled()
            gg.log(gg.tensor([0.0]))
    assert _primitive._anomaly is None and autodiff._anomaly is None and not is_anomaly_enabled()
    assert np.isneginf(gg.log(gg.tensor([0.0])).numpy()[0])  # off: no error


def test_check_nan_false_keeps_the_mode_on_without_checks():
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        gg.log(gg.tensor([0.0]))
    with pytest.raises(ArgumentError, match="check_nan must be a bool"):
        detect_anomaly(check_nan="no")


def test_nesting_the_decorator_and_set_detect_anomaly():
    @detect_anomaly()
    def planted():
        return gg.log(gg.tensor([0.0]))

    with pytest.raises(AnomalyError):
        planted()
    assert not is_anomaly_enabled()
    with detect_anomaly():
        with set_detect_anomaly(False):
            gg.log(gg.tensor([0.0]))
        with pytest.raises(AnomalyError):
            gg.log(gg.tensor([0.0]))
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert _primitive._anomaly is None


def test_the_error_is_a_graphgrad_error_and_a_runtime_error():
    assert issubclass(AnomalyError, GraphgradError) and issubclass(AnomalyError, RuntimeError)


def test_finite_work_passes_untouched_and_integer_results_are_not_checked():
    x = gg.tensor([[0.5, -1.0], [2.0, 3.0]], requires_grad=True)
    with detect_anomaly():
        loss = gg.cross_entropy(x, gg.tensor([0, 1]))
        loss.backward()
        gg.argmax(x, axis=1)
    expected = x.grad.numpy()
    x.grad = None
    gg.cross_entropy(x, gg.tensor([0, 1])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_an_overflow_in_a_non_elementwise_op_shows_its_inputs():
    a = gg.tensor(np.full((2, 3), 1e308))
    b = gg.tensor(np.array([[1e308], [1e308], [0.0]]))
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        gg.matmul(a, b)
    message = str(caught.value)
    assert "matmul produced inf (2 of 2 elements)" in message
    assert "input 1 (shape (3, 1)) = [1e+308, 1e+308, 0.0]" in message


def test_drawing_local_gradients_under_the_mode_is_not_an_anomaly():
    from graphgrad.autodiff import edge_vjps

    x = gg.tensor([0.0, 1.0], requires_grad=True)
    root = gg.sqrt(x)
    with detect_anomaly():
        local = edge_vjps(root, gg.ones_like(root))[0]
    assert np.isinf(local.numpy()[0])


def test_the_overhead_benchmark_runs():
    """benchmarks/bench_anomaly.py prints figures (nothing here is timed); it recompiles the
    engine's apply and sweep without the hook lines, so it must still find them."""
    import subprocess
    from pathlib import Path

    benchmarks = Path(__file__).resolve().parent.parent / "benchmarks"
    done = subprocess.run([sys.executable, "bench_anomaly.py", "--circuits", "20", "--rounds", "1"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=benchmarks)
    assert done.returncode == 0, done.stderr
    assert "no hook" in done.stdout and "hook, on" in done.stdout
