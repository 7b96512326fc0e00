"""Backward animation: one frame per backward step, same layout in every frame."""

import os
from pathlib import Path

import pytest
from PIL import Image

import graphgrad as gg

from .conftest import neuron, requires_dot

pytestmark = requires_dot


def test_frames_reveal_gradients_one_step_at_a_time():
    from graphgrad.viz.animate import frames

    f, _ = neuron(backward=False)
    dot = gg.viz.draw(f, style="graph", grads=True)
    diagrams = frames(dot.view_data, "graph", dot.viz_options)
    order = dot.view_data.backward_order
    assert len(diagrams) == len(order) + 1
    assert order[0] == f"n{f.seq}"  # backward starts at the root
    hidden = [d.source.count("#ffffff00") for d in diagrams]
    assert hidden == sorted(hidden, reverse=True) and hidden[-1] == 0 and hidden[0] > 0
    sizes = {len(d.source.replace("#ffffff00", "#c62828")) for d in diagrams}
    assert len(sizes) <= 2  # same text in every frame (only colours and the outline change)


def small():
    a = gg.tensor(2.0, requires_grad=True, name="a")
    b = gg.tensor(-3.0, requires_grad=True, name="b")
    return gg.exp(a * b + a)


def test_gif_pdf_and_svg_frames(tmp_path):
    f = small()
    gif = gg.viz.animate_backward(f, tmp_path / "b.gif")
    with Image.open(gif) as image:
        assert image.n_frames >= 4 and image.info["loop"] == 0
    pdf = gg.viz.animate_backward(f, tmp_path / "b.pdf", format="pdf", dpi=50)
    data = Path(pdf).read_bytes()
    pages = len(gg.viz.trace(f, grads=True).backward_order) + 1
    assert data[:5] == b"%PDF-"
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") == pages
    folder = gg.viz.animate_backward(f, tmp_path / "frames", format="svg-frames", style="graph")
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names[0] == "frame_000.svg"
    assert len(names) == len(gg.viz.trace(f, grads=True).backward_order) + 1
    assert folder.endswith("frames")
    # the folder and its frames get the usual permissions, not mkdtemp's private 0700
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "frames").stat().st_mode & 0o777 == 0o777 & ~mask
    assert (tmp_path / "frames" / names[0]).stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.gif", "b.pdf", "frames"]


def test_unknown_format_is_named():
    f, _ = neuron(backward=False)
    with pytest.raises(ValueError, match="svg-frames"):
        gg.viz.animate_backward(f, "x.mp4", format="mp4")
