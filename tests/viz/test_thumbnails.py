"""Heatmap thumbnails inside graph-style nodes, embedded in the SVG."""

import os

import numpy as np

import graphgrad as gg
from graphgrad.viz.thumbnails import heatmap, thumbnail, tiles

from .conftest import requires_dot


def test_tiles_pick_channels_kernels_and_matrices():
    fmap = np.arange(2 * 3 * 4 * 4, dtype=float).reshape(2, 3, 4, 4)
    assert len(tiles(fmap, is_kernel=False)) == 3  # the channels of the first sample
    np.testing.assert_array_equal(tiles(fmap, is_kernel=True)[1], fmap[1, 0])  # one per kernel
    assert len(tiles(np.ones((5, 7)), False)) == 1
    strip = np.arange(4 * 512, dtype=float).reshape(4, 512)  # (batch, features): binned columns
    (binned,) = tiles(strip, False)
    assert binned.shape == (4, 128)
    np.testing.assert_allclose(binned[1, 0], strip[1, :4].mean())
    assert heatmap([binned], "value").shape[0] >= 16  # a visible strip, not 4 pixels
    assert tiles(np.ones(9), False) is None


def test_gradient_heatmap_is_centred_on_zero():
    rgb = heatmap([np.array([[-1.0, 0.0], [0.0, 1.0]])], "grad")
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    zero, neg, pos = rgb[-1, 0], rgb[0, 0], rgb[-1, -1]
    assert abs(int(zero[0]) - int(zero[2])) < 20  # white-ish in the middle of RdBu
    assert neg[2] > neg[0] and pos[0] > pos[2]  # blue below zero, red above


def test_thumbnail_files_are_content_named(tmp_path):
    a = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    first = thumbnail(a, "value", False, str(tmp_path))
    assert thumbnail(a.copy(), "value", False, str(tmp_path)) == first
    assert thumbnail(a + 1.0, "grad", False, str(tmp_path)) != first
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(first).st_mode & 0o777 == 0o666 & ~mask  # readable like any new file
    assert all(name.startswith("thumb_") for name in os.listdir(tmp_path))  # no temp file left


@requires_dot
def test_svg_embeds_the_thumbnails(tmp_path):
    rng = np.random.default_rng(0)
    w = gg.tensor(rng.standard_normal((4, 4)), requires_grad=True, name="kernel")
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    dot = gg.viz.draw(loss, thumbnails=True, thumbnail_dir=str(tmp_path / "thumbs"))
    assert dot.source.count("<IMG SRC=") == 4  # value and gradient of w and of w*w
    gg.viz.save(dot, tmp_path / "t", ("svg", "png"))
    svg = (tmp_path / "t.svg").read_text()
    assert svg.count("data:image/png;base64,") == 4 and "thumbs/" not in svg
