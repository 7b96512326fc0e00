"""examples/digits_batchnorm.py on its --quick budget: it learns, and its checkpoint (with the
batch-norm running statistics) reloads to the same test accuracy."""

from .test_examples_training import run_example


def test_digits_batchnorm_learns_and_reloads(tmp_path):
    result = run_example("digits_batchnorm", "--out", str(tmp_path))
    assert result["test_accuracy"] > 0.9
    assert result["restored_accuracy"] == result["test_accuracy"]
    assert (tmp_path / "digits_batchnorm.npz").exists()
