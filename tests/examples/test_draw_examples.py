"""The draw_* examples (the pictures in docs/images) run and write every file they report."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["draw_sigmoid_circuit", "draw_cnn_step", "draw_multitask"])
def test_draw_example_writes_its_pictures(name, tmp_path):
    main = runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]
    written = [Path(p) for p in main(str(tmp_path))]
    assert written, f"{name} reported no files"
    for path in written:
        assert path.is_file() and path.stat().st_size > 0, path
        assert tmp_path in path.resolve().parents
