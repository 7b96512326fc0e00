"""A `graphviz.Digraph` that remembers its GraphView, saving in several formats at once, and the
matplotlib fallback when Graphviz's `dot` program is missing."""

from __future__ import annotations

import base64
import os
import re
import shutil
import warnings
from pathlib import Path

import graphviz

from ..atomic import atomic_write_bytes

FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH, so graphgrad cannot lay out the diagram "
    "with Graphviz. Install it: Debian/Ubuntu `sudo apt-get install graphviz`, Fedora `sudo dnf "
    "install graphviz`, macOS `brew install graphviz`, conda `conda install -c conda-forge "
    "graphviz`, Windows `winget install graphviz` (or `make dot` in the graphgrad repository). "
    "`.source` still holds the DOT text; the picture is drawn with the matplotlib + networkx "
    "fallback instead."
)


class DotMissingWarning(UserWarning):
    """Graphviz's `dot` is not installed; a matplotlib fallback drew the picture."""


def dot_available() -> bool:
    return shutil.which("dot") is not None


class VizDigraph(graphviz.Digraph):
    """A `graphviz.Digraph` (same `.source`, `.render`, Jupyter display) that also carries the
    GraphView it was drawn from, so it can be drawn without `dot` and saved in several formats."""

    def __init__(self, *args, view_data=None, options=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.view_data = view_data
        self.viz_options = options

    def copy(self):
        out = super().copy()
        out.view_data, out.viz_options = self.view_data, self.viz_options
        return out

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               **kwargs):
        """`graphviz.Digraph.render`; without `dot`, the fallback draws the same graph."""
        try:
            return super().render(filename=filename, directory=directory, view=view,
                                  cleanup=cleanup, format=format, **kwargs)
        except graphviz.ExecutableNotFound:
            if self.view_data is None:
                raise
            warnings.warn(INSTALL_HINT, DotMissingWarning, stacklevel=2)
            fmt = format or self.format or "png"
            outfile = kwargs.get("outfile")
            if outfile is None:
                base = Path(directory or self.directory or "") / (filename or self.filename)
                outfile = f"{base}.{fmt}"
            fmt = Path(outfile).suffix.lstrip(".") or fmt
            data = fallback_bytes(self, fmt)
            atomic_write_bytes(outfile, data)
            return str(outfile)

    def _repr_mimebundle_(self, include=None, exclude=None, **params):
        if dot_available():
            return {"image/svg+xml": svg_bytes(self).decode("utf-8")}
        return {"image/png": fallback_bytes(self, "png"),
                "text/plain": f"<graphgrad diagram: {INSTALL_HINT}>"}


_IMAGE_HREF = re.compile(r'xlink:href="([^"]+\.png)"')


def _inline_images(svg: bytes) -> bytes:
    """Thumbnails are PNG files referenced by path; embed them so the SVG stands alone."""

    def replace(match):
        path = match.group(1)
        if not os.path.isfile(path):
            return match.group(0)
        with open(path, "rb") as handle:
            data = base64.b64encode(handle.read()).decode("ascii")
        return f'xlink:href="data:image/png;base64,{data}"'

    return _IMAGE_HREF.sub(replace, svg.decode("utf-8")).encode("utf-8")


def svg_bytes(dot) -> bytes:
    return _inline_images(dot.pipe(format="svg"))


def dot_bytes(dot, fmt: str, dpi: int = 200) -> bytes:
    """Output of `dot` in format `fmt` (svg with thumbnails inlined; bitmaps at `dpi`)."""
    if fmt == "svg":
        return svg_bytes(dot)
    if fmt in ("png", "jpg", "jpeg", "gif", "bmp"):
        dot = dot.copy()
        dot.attr(dpi=str(dpi))
    return dot.pipe(format=fmt)


def fallback_bytes(dot, fmt: str) -> bytes:
    from .fallback import draw_matplotlib

    view = getattr(dot, "view_data", None)
    if view is None:
        raise RuntimeError("this Digraph carries no GraphView: the fallback cannot draw it")
    return draw_matplotlib(view, getattr(dot, "viz_options", None), fmt=fmt,
                           style="circuit" if dot.name == "circuit" else "graph")


def save(dot, path, formats=FORMATS, *, source: bool = False, dpi: int = 200) -> list[str]:
    """Save one diagram in every format of `formats` (SVG, PNG and PDF by default), atomically.

    `path` names the files without or with an extension ("docs/images/circuit" or
    "circuit.svg"; the extension is replaced per format). Without `dot` the matplotlib fallback
    writes the same formats (after one warning explaining how to install Graphviz). Returns the
    paths written.
    """
    if isinstance(formats, str):
        formats = (formats,)
    bad = [f for f in formats if f not in ("svg", "png", "pdf", "jpg", "gif", "dot", "gv")]
    if bad:
        raise ValueError(f"save(): unsupported formats {bad}; valid: svg, png, pdf, jpg, gif, dot")
    base = Path(path)
    if base.suffix.lstrip(".") in ("svg", "png", "pdf", "jpg", "gif", "dot", "gv"):
        base = base.with_suffix("")
    have_dot = dot_available()
    if not have_dot and any(f not in ("dot", "gv") for f in formats):
        warnings.warn(INSTALL_HINT, DotMissingWarning, stacklevel=2)
    written = []
    for fmt in formats:
        target = f"{base}.{fmt}"
        if fmt in ("dot", "gv"):
            data = dot.source.encode("utf-8")
        elif have_dot:
            data = dot_bytes(dot, fmt, dpi)
        else:
            data = fallback_bytes(dot, fmt)
        atomic_write_bytes(target, data)
        written.append(target)
    if source and "dot" not in formats:
        atomic_write_bytes(f"{base}.dot", dot.source.encode("utf-8"))
        written.append(f"{base}.dot")
    return written
