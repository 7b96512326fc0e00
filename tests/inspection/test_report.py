"""The figure pipeline behind `graphgrad inspect` and examples/inspect_digits.py, end to end.

An untrained LeNet saved with gg.save stands in for a checkpoint: these tests check the plumbing
(every technique runs, writes a real PNG, the CLI and the example accept their options); the
techniques' answers are checked in their own test files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.inspection import plotting, report

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from graphgrad.io import save
    from graphgrad.nn import LeNet

    with gg.default_dtype("float32"):
        path = tmp_path_factory.mktemp("ckpt") / "lenet.npz"
        save(LeNet(rng=0), path)
    return path


def _is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 2000 and path.read_bytes()[:8] == PNG


def test_every_technique_writes_its_figures(checkpoint, tmp_path):
    with gg.default_dtype("float32"):
        ctx = report.load_or_train(checkpoint, quick=True)
        ctx.x_test, ctx.y_test = ctx.x_test[:60], ctx.y_test[:60]
        results = report.run(ctx, tmp_path, echo=None)
    assert list(results) == list(report.FIGURES)
    for name, result in results.items():
        assert result["files"], name
        for path in result["files"]:
            assert _is_png(Path(path)), path
    assert not list(tmp_path.glob(".*.tmp"))            # atomic writes leave no temporaries
    sizes = results["receptive-field"]["sizes"]
    assert sizes["3x3 convs"] == [3, 5, 7, 9, 11, 13]
    assert sizes["3x3 convs, dilation 1, 2, 4, ..."] == [3, 7, 15, 31, 63, 127]


def test_unknown_technique_is_named_with_the_valid_ones(checkpoint, tmp_path):
    with gg.default_dtype("float32"):
        ctx = report.load_or_train(checkpoint)
    with pytest.raises(ValueError, match=r"unknown technique\(s\) \['salency'\].*saliency"):
        report.run(ctx, tmp_path, ["salency"], echo=None)


def test_cli_subcommand(checkpoint, tmp_path):
    from graphgrad.__main__ import main

    assert main(["inspect", "conv-matrix", "saliency", "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path)]) == 0
    assert _is_png(tmp_path / "inspect_conv_matrix.png")
    assert _is_png(tmp_path / "inspect_saliency.png")
    assert main(["inspect", "nope", "--checkpoint", str(checkpoint)]) == 2
    assert main(["inspect", "--checkpoint", str(tmp_path / "missing.npz")]) == 2


def test_example_script_runs_quickly(checkpoint, tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "inspect_digits.py"), "--quick",
         "--checkpoint", str(checkpoint), "--out", str(tmp_path), "occlusion", "guided"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert "occlusion: inspect_occlusion.png" in done.stdout
    assert _is_png(tmp_path / "inspect_occlusion.png") and _is_png(tmp_path / "inspect_guided.png")


def test_plot_helpers_return_figures_without_a_path():
    fig = plotting.plot_kernels(np.random.default_rng(0).standard_normal((4, 1, 3, 3)))
    assert fig.axes and fig.get_size_inches()[0] > 0
    with pytest.raises(ValueError, match=r"expected \(O, C, kh, kw\)"):
        plotting.plot_kernels(np.zeros((3, 3)))
