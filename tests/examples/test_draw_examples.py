"""The draw_* examples (the pictures in docs/images) run and write every file they report."""

import re
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["draw_sigmoid_circuit", "draw_cnn_step", "draw_multitask",
                                  "conv_worked_example"])
def test_draw_example_writes_its_pictures(name, tmp_path):
    main = runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]
    written = [Path(p) for p in main(str(tmp_path))]
    assert written, f"{name} reported no files"
    for path in written:
        assert path.is_file() and path.stat().st_size > 0, path
        assert tmp_path in path.resolve().parents


def conv_by_loops(x, w, b, stride, pad):
    """Cross-correlation with plain loops (x: C,H,W; w: K,C,kh,kw): the check of the example's
    numbers, independent of graphgrad and of the lecture's garbled transcription."""
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    k, _, kh, kw = w.shape
    size = (xp.shape[1] - kh) // stride + 1
    out = np.zeros((k, size, size))
    for o in range(k):
        for i in range(size):
            for j in range(size):
                window = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
                total = b[o]
                for c in range(window.shape[0]):
                    for u in range(kh):
                        for v in range(kw):
                            total += window[c, u, v] * w[o, c, u, v]
                out[o, i, j] = total
    return out


def test_conv_worked_example_numbers_and_picture():
    """Seed 002's volumes: the output against plain loops, and every number in the picture."""
    example = runpy.run_path(str(EXAMPLES / "conv_worked_example.py"))
    o = example["graph"]()
    x, w = np.array(example["X"], float), np.array([example["W0"], example["W1"]], float)
    want = conv_by_loops(x, w, [example["B0"], example["B1"]], example["STRIDE"], example["PAD"])
    np.testing.assert_array_equal(np.asarray(o.data)[0], want)
    # the lecture's printed table agrees except its bottom rows (garbled transcription)
    np.testing.assert_array_equal(want[0, :2], [[0, -7, 1], [0, 1, 3]])
    np.testing.assert_array_equal(want[1, :2], [[5, 5, 3], [3, 5, 10]])
    import graphgrad as gg

    source = gg.viz.draw(o, show="value").source
    labels = {m.group(1): m.group(2) for m in re.finditer(r"^\t(\w+) \[label=(.*)$", source, re.M)}
    view = gg.viz.trace(o)
    by_name = {n.name: labels[n.id] for n in view.nodes if n.name}
    for name, array in (("x (+pad 1)", np.pad(x, ((0, 0), (1, 1), (1, 1)))), ("W0", w[:1]),
                        ("W1", w[1:]), ("o", want)):
        cells = re.findall(r'<TD ALIGN="RIGHT">(-?\d+)</TD>', by_name[name])
        assert [int(c) for c in cells] == [int(v) for v in array.ravel()], name  # every number
    assert ">1.000<" in by_name["b0"] and ">0.000<" in by_name["b1"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_conv_worked_example_fits_a_slide(tmp_path):
    from PIL import Image

    main = runpy.run_path(str(EXAMPLES / "conv_worked_example.py"))["main"]
    png = next(p for p in main(str(tmp_path)) if p.endswith(".png"))
    w, h = Image.open(png).size
    assert max(w, h) / min(w, h) <= 2.5
