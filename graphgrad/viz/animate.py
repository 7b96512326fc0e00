"""Backward, one frame per step: the gradient appears node by node, for lectures.

Every frame is the same diagram; gradients not reached yet are drawn in a fully transparent
colour, so each frame has exactly the same layout and nothing jumps between frames. The node
being processed is outlined in orange.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import tempfile
from pathlib import Path

from ..atomic import atomic_write_bytes
from .render import INSTALL_HINT, dot_available

ANIMATION_FORMATS = ("gif", "pdf", "svg-frames")


def _default_folder_mode() -> int:
    """The mode `mkdir()` would give a new folder: 0o777 minus the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def frames(view, style: str, options) -> list:
    """The Digraphs of the animation: forward only, then one per node backward visits."""
    from . import render_view

    order = list(view.backward_order)
    out = [render_view(view, style, dataclasses.replace(options, reveal=frozenset(), current=None))]
    for k in range(1, len(order) + 1):
        reveal = frozenset(order[:k])
        out.append(render_view(view, style, dataclasses.replace(options, reveal=reveal,
                                                                current=order[k - 1])))
    return out


def animate_backward(root, path, format: str = "gif", *, style: str = "circuit",
                     frame_ms: int = 900, dpi: int = 110, **draw_kwargs) -> str:
    """Write the backward animation of `root` to `path`.

    format: "gif" (an animated GIF), "pdf" (one page per frame, for slides) or "svg-frames"
    (a folder of frame_000.svg, frame_001.svg ...). Gradients are computed on copies (the graph
    is not touched, backward() need not have run). Other keywords as for `draw`.
    """
    if format not in ANIMATION_FORMATS:
        raise ValueError(f"animate_backward(): unknown format {format!r}; "
                         f"valid: {ANIMATION_FORMATS}")
    if not dot_available():
        raise RuntimeError(INSTALL_HINT.split(" `.source`")[0] + " Animations need `dot`.")
    from . import draw

    draw_kwargs.setdefault("grads", True)
    dot = draw(root, style=style, **draw_kwargs)
    view, options = dot.view_data, dot.viz_options
    diagrams = frames(view, style, options)
    if format == "svg-frames":
        target = Path(path)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for i, diagram in enumerate(diagrams):
                atomic_write_bytes(staging / f"frame_{i:03d}.svg", diagram.pipe(format="svg"))
            staging.chmod(_default_folder_mode())  # mkdtemp's folder is private (0700)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return str(target)
    from PIL import Image

    images = []
    for diagram in diagrams:
        d = diagram.copy()
        d.attr(dpi=str(dpi))
        images.append(Image.open(io.BytesIO(d.pipe(format="png"))).convert("RGB"))
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    padded = []
    for im in images:  # same size for every frame (the orange outline may add a pixel)
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, (0, 0))
        padded.append(canvas)
    buffer = io.BytesIO()
    if format == "gif":
        durations = [frame_ms] * (len(padded) - 1) + [frame_ms * 3]
        padded[0].save(buffer, format="GIF", save_all=True, append_images=padded[1:],
                       duration=durations, loop=0)
    else:
        padded[0].save(buffer, format="PDF", save_all=True, append_images=padded[1:],
                       resolution=float(dpi))
    atomic_write_bytes(path, buffer.getvalue())
    return str(path)
