"""Every training example of issue 5 runs on its --quick budget and reaches a meaningful bar."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name, *argv):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(["--quick", *argv])


def test_xor_hand_weights_then_learned():
    result = run_example("xor_hand_weights")
    hand = result["hand"][:, 0]
    assert np.all(hand[[0, 3]] < 1e-3) and np.all(hand[[1, 2]] > 1 - 1e-3)
    assert np.array_equal(result["learned"][:, 0] > 0.5, [False, True, True, False])
    assert result["losses"][-1] < 0.1 < result["losses"][0]


def test_two_layer():
    history = run_example("two_layer")["history"]
    assert history.val_accuracy[-1] >= 0.90


def test_lenet_digits_with_checkpoint(tmp_path):
    result = run_example("lenet_digits", "--out", str(tmp_path))
    assert result["test_accuracy"] >= 0.85
    assert result["restored_accuracy"] == result["test_accuracy"]
    written = {p.name for p in tmp_path.iterdir()}
    assert {"lenet_curves.png", "lenet_kernels.png", "lenet.npz"} <= written


@pytest.mark.parametrize("mode", [[], ["--two-roots"]])
def test_multitask_digits(mode):
    result = run_example("multitask_digits", *mode)
    assert result["digit_accuracy"] >= 0.85
    assert result["parity_accuracy"] >= 0.85


def test_dag_skip():
    result = run_example("dag_skip")
    assert result["test_accuracy"] >= 0.7  # 600 images, 3 epochs; chance is 0.1
    assert all(norm > 0 for norm in result["grad_norms"].values()), result["grad_norms"]
    assert {"skip.weight", "conv2b.weight", "conv1.weight"} <= set(result["grad_norms"])


def test_transfer_finetune():
    result = run_example("transfer_finetune")
    assert result["frozen_kept"]
    assert 0 < result["conv_change"] < 0.05  # fine-tuned at 1/100 of the rate: small steps
    for key in ("frozen", "finetuned", "scratch"):
        assert result[key] > 0.4, (key, result[key])  # chance is 0.2


def test_ensemble():
    result = run_example("ensemble", "--members", "3")
    assert result["ensemble"] >= min(result["members"])
    assert result["ensemble"] >= 0.9
    assert result["ensemble_module"] == pytest.approx(result["ensemble"], abs=1 / 360)
