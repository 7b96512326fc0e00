"""examples/optimizer_comparison.py: five optimizers on one ravine, one picture (issue 15)."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "optimizer_comparison.py"


def test_optimizer_comparison_runs_and_writes_its_figure(tmp_path):
    spec = importlib.util.spec_from_file_location("example_optimizer_comparison", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--out", str(tmp_path)])
    figure = tmp_path / "optimizer_comparison.png"
    assert result["figure"] == figure
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["optimizer_comparison.png"]  # no leftovers
    final = result["final_loss"]
    assert set(final) == {"SGD", "momentum (μ 0.9)", "RMSprop", "Adagrad", "Adam"}
    start = float(module.CURVATURE @ module.START @ module.START)  # wᵀAw = 81/20 + 2.25
    assert np.isclose(start, 6.3)
    for name, (_, points, losses) in result["paths"].items():
        np.testing.assert_allclose(points[0], module.START)
        assert np.isclose(losses[0], start), name
        assert final[name] < start / 10, (name, final[name])
    # the lecture's point: in a ravine, momentum and per-parameter rates beat plain SGD
    for name in ("momentum (μ 0.9)", "RMSprop", "Adam"):
        assert final[name] < final["SGD"], (name, final)
