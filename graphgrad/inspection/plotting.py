"""Figures for every inspection technique (matplotlib, imported lazily, Agg canvas).

Each `plot_*` takes the arrays an inspection function returned and gives a matplotlib `Figure`;
with `path=` it writes a PNG atomically (temporary file in the same folder, then rename) and
returns the path instead. No pyplot state is touched: figures are built on an Agg canvas, so
this works on headless machines and never changes the backend a notebook chose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .._tensor import Tensor
from ..atomic import atomic_write

if TYPE_CHECKING:  # annotations only: matplotlib loads when a figure is drawn
    from matplotlib.figure import Figure

    from .adversarial import AttackResult
    from .gabor import GaborFit
    from .receptive_geometry import ReceptiveField


# ----- figure plumbing ----------------------------------------------------------------------------
def figure(width: float, height: float) -> Figure:
    """A matplotlib Figure on an Agg canvas (no pyplot, no global backend switch)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Figure, path: str | Path | None, dpi: int = 110) -> Figure | Path:
    """Return the figure, or write it atomically to `path` (PNG) and return the Path."""
    if path is None:
        return fig
    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=dpi)
    return Path(path)


def _array(value) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


def _as_gray(image: np.ndarray) -> np.ndarray:
    """(C, H, W) or (H, W) -> something imshow draws: (H, W) or (H, W, 3)."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[0] == 1:
        return image[0]
    if image.ndim == 3 and image.shape[0] == 3:
        low, high = image.min(), image.max()
        return np.transpose((image - low) / (high - low + 1e-12), (1, 2, 0))
    if image.ndim == 3:
        return image.mean(axis=0)
    return image


def _grid(fig, count: int, cols: int):
    rows = max(1, math.ceil(count / cols))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return list(axes.flat)


def _show(ax, image, cmap="gray", symmetric=False, title=None, **kwargs):
    image = _as_gray(image)
    if symmetric and image.ndim == 2:
        limit = float(np.abs(image).max()) or 1.0
        kwargs.setdefault("vmin", -limit)
        kwargs.setdefault("vmax", limit)
    handle = ax.imshow(image, cmap=cmap, interpolation="nearest", **kwargs)
    if title is not None:
        ax.set_title(title, fontsize=8)
    return handle


# ----- kernels and activations --------------------------------------------------------------------
def plot_kernels(weight: Tensor | npt.ArrayLike, path: str | Path | None = None,
                 title: str = "first-layer kernels", cols: int = 8) -> Figure | Path:
    """A grid of kernels (O, C, kh, kw): gray (C = 1, white positive), colour (C = 3), else the
    channel mean; each kernel scaled symmetrically around 0."""
    w = _array(weight)
    if w.ndim != 4:
        raise ValueError(f"plot_kernels: expected (O, C, kh, kw), got shape {w.shape}")
    cols = min(cols, len(w))
    rows = math.ceil(len(w) / cols)
    fig = figure(1.2 * cols, 1.2 * rows + 0.6)
    for index, ax in enumerate(_grid(fig, len(w), cols)):
        if index < len(w):
            _show(ax, w[index], symmetric=w.shape[1] != 3, title=str(index))
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def plot_feature_maps(maps: Tensor | npt.ArrayLike, path: str | Path | None = None,
                      image: Tensor | npt.ArrayLike | None = None, title: str = "feature maps",
                      cols: int = 8) -> Figure | Path:
    """The maps (C, H, W) of one layer for one input (shown first when given)."""
    maps = _array(maps)
    if maps.ndim != 3:
        raise ValueError(f"plot_feature_maps: expected one image's maps (C, H, W), "
                         f"got {maps.shape}")
    count = len(maps) + (image is not None)
    cols = min(cols, count)
    fig = figure(1.3 * cols, 1.3 * math.ceil(count / cols) + 0.6)
    axes = _grid(fig, count, cols)
    if image is not None:
        _show(axes.pop(0), image, title="input")
    for index, (ax, fmap) in enumerate(zip(axes, maps)):
        _show(ax, fmap, cmap="viridis", title=str(index))
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def plot_correlation(corr: npt.ArrayLike, path: str | Path | None = None,
                     title: str = "kernel correlation") -> Figure | Path:
    """The (O, O) correlation matrix, -1 (blue) to 1 (red), with the mean |off-diagonal|."""
    from .kernels import mean_abs_off_diagonal

    corr = np.asarray(corr)
    fig = figure(5, 4.3)
    ax = fig.subplots()
    handle = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set(xlabel="kernel", ylabel="kernel",
           title=f"{title}\nmean |off-diagonal| = {mean_abs_off_diagonal(corr):.2f}")
    fig.colorbar(handle, ax=ax, fraction=0.046)
    fig.tight_layout()
    return finish(fig, path)


# ----- maps over images ---------------------------------------------------------------------------
def plot_heatmaps(images: Tensor | npt.ArrayLike, maps: Tensor | npt.ArrayLike,
                  path: str | Path | None = None, titles: Sequence[str] | None = None,
                  title: str = "", cmap: str = "hot", stride: int = 1, map_label: str = "",
                  symmetric: bool = False) -> Figure | Path:
    """Each image (N, C, H, W) beside its map (N, h, w): saliency, occlusion, ...

    A map coarser than the image (occlusion with stride > 1) is drawn with cell (r, c) centred on
    pixel (r * stride, c * stride).
    """
    images, maps = _array(images), _array(maps)
    if images.ndim == 3:
        images, maps = images[None], maps[None]
    n = len(images)
    fig = figure(2.2 * n, 4.6)
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        top, bottom = axes[0, i], axes[1, i]
        top.set_axis_off()
        bottom.set_axis_off()
        _show(top, images[i], title=None if titles is None else titles[i])
        rows, cols = maps[i].shape
        extent = (-0.5 * stride, (cols - 0.5) * stride, (rows - 0.5) * stride, -0.5 * stride)
        handle = _show(bottom, maps[i], cmap=cmap, symmetric=symmetric, extent=extent)
        height, width = images[i].shape[-2:]
        bottom.set_xlim(-0.5, width - 0.5)
        bottom.set_ylim(height - 0.5, -0.5)
    fig.colorbar(handle, ax=list(axes[1]), fraction=0.02, label=map_label)
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def plot_images(images: Tensor | npt.ArrayLike, path: str | Path | None = None,
                titles: Sequence[str] | None = None, title: str = "", cols: int = 10,
                cmap: str = "gray", symmetric: bool = False,
                row_labels: Sequence[str] | None = None,
                row_cmaps: Sequence[str | None] | None = None) -> Figure | Path:
    """A grid of images (N, C, H, W) or (N, H, W), each scaled on its own (`symmetric`: around
    0). `row_cmaps`: one colour map per row (None: `cmap`); gray rows are never symmetric."""
    images = _array(images)
    n = len(images)
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fig = figure(1.4 * cols + (0.8 if row_labels else 0), 1.5 * rows + 0.6)
    axes = _grid(fig, n, cols)
    for i in range(n):
        row_cmap = (row_cmaps[i // cols] if row_cmaps and i // cols < len(row_cmaps) else None)
        _show(axes[i], images[i], cmap=row_cmap or cmap,
              symmetric=symmetric and row_cmap != "gray",
              title=None if titles is None else titles[i])
    if row_labels:
        for r, label in enumerate(row_labels):
            ax = axes[r * cols]
            ax.text(-0.15, 0.5, label, transform=ax.transAxes, ha="right", va="center",
                    fontsize=9, rotation=90)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def plot_adversarial(original: Tensor | npt.ArrayLike, result: AttackResult,
                     labels: npt.ArrayLike, path: str | Path | None = None, title: str = "",
                     names: Sequence[str] | None = None, count: int = 6) -> Figure | Path:
    """Rows: original (with its true-class probability), perturbation, adversarial (prediction
    and probability), for the first `count` images of an `AttackResult`."""
    original = _array(original)
    labels = np.asarray(labels)
    count = min(count, len(original))
    names = names or [str(k) for k in range(10)]
    fig = figure(1.7 * count, 5.6)
    axes = fig.subplots(3, count, squeeze=False)
    for i in range(count):
        for ax in axes[:, i]:
            ax.set_axis_off()
        label = labels[i] if labels.ndim else int(labels)
        _show(axes[0, i], original[i],
              title=f"{names[label]}: p={result.probability_before[i]:.2f}")
        _show(axes[1, i], result.perturbation[i], cmap="RdBu_r", symmetric=True,
              title=f"|dx|2={result.l2[i]:.2f}")
        mark = "ok" if result.success[i] else "failed"
        _show(axes[2, i], result.adversarial[i],
              title=f"-> {names[result.predicted[i]]} ({mark})\n"
                    f"p={result.probability_after[i]:.2f}")
    for ax, text in zip(axes[:, 0], ("original", "perturbation", "adversarial")):
        ax.text(-0.12, 0.5, text, transform=ax.transAxes, ha="right", va="center", rotation=90)
    fig.suptitle(title or result.summary(), fontsize=10)
    fig.tight_layout()
    return finish(fig, path)


# ----- global view --------------------------------------------------------------------------------
def plot_tsne(embedding: npt.ArrayLike, labels: npt.ArrayLike, path: str | Path | None = None,
              images: Tensor | npt.ArrayLike | None = None, thumbnails: int = 60,
              title: str = "t-SNE of CNN codes", seed: int = 0) -> Figure | Path:
    """2-d embedding coloured by class, with small thumbnails of some images at their points."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    embedding, labels = np.asarray(embedding), np.asarray(labels)
    fig = figure(8, 7)
    ax = fig.subplots()
    classes = np.unique(labels)
    import matplotlib

    colours = matplotlib.colormaps["tab10"]
    for k in classes:
        chosen = labels == k
        ax.scatter(embedding[chosen, 0], embedding[chosen, 1], s=10, color=colours(int(k) % 10),
                   label=str(k), alpha=0.7)
    if images is not None and thumbnails:
        images = _array(images)
        rng = np.random.default_rng(seed)
        for i in rng.choice(len(images), size=min(thumbnails, len(images)), replace=False):
            box = OffsetImage(_as_gray(images[i]), zoom=1.6, cmap="gray_r")
            ab = AnnotationBbox(box, embedding[i], frameon=True, pad=0.05,
                                bboxprops={"edgecolor": colours(int(labels[i]) % 10)})
            ax.add_artist(ab)
    ax.legend(title="class", loc="best", fontsize=8, markerscale=2)
    ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    return finish(fig, path)


def plot_neighbours(images: Tensor | npt.ArrayLike, queries: npt.ArrayLike,
                    neighbours: npt.ArrayLike, path: str | Path | None = None,
                    labels: Sequence[object] | np.ndarray | None = None,
                    title: str = "nearest neighbours in code space") -> Figure | Path:
    """Each query image (first column) followed by its nearest neighbours (one row per query)."""
    images = _array(images)
    queries, neighbours = np.asarray(queries), np.asarray(neighbours)
    k = neighbours.shape[1]
    fig = figure(1.1 * (k + 1), 1.2 * len(queries) + 0.6)
    axes = fig.subplots(len(queries), k + 1, squeeze=False)
    for r, q in enumerate(queries):
        row = [q] + list(neighbours[r])
        for c, index in enumerate(row):
            ax = axes[r, c]
            ax.set_axis_off()
            name = "" if labels is None else str(labels[index])
            _show(ax, images[index], cmap="gray", title=("query " if c == 0 else "") + name)
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


# ----- kernels as functions -----------------------------------------------------------------------
def plot_gabor_fit(kernels: Tensor | npt.ArrayLike, fit: GaborFit,
                   path: str | Path | None = None,
                   title: str = "Gabor fits of first-layer kernels",
                   count: int = 8) -> Figure | Path:
    """Rows: kernels, their fitted Gabor functions, and the residuals, with the fit error."""
    kernels = _array(kernels)
    count = min(count, len(kernels))
    fig = figure(1.5 * count, 5.0)
    axes = fig.subplots(3, count, squeeze=False)
    for i in range(count):
        limit = float(np.abs(kernels[i]).max()) or 1.0
        for r, (image, label) in enumerate(((kernels[i], f"err {fit.error[i]:.2f}"),
                                            (fit.kernels[i], None),
                                            (kernels[i] - fit.kernels[i], None))):
            axes[r, i].set_axis_off()
            _show(axes[r, i], image, vmin=-limit, vmax=limit, title=label)
    for ax, text in zip(axes[:, 0], ("kernel", "Gabor fit", "residual")):
        ax.text(-0.15, 0.5, text, transform=ax.transAxes, ha="right", va="center", rotation=90)
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def plot_separable(errors: npt.ArrayLike, accuracies: dict[int, float] | None = None,
                   path: str | Path | None = None,
                   title: str = "separable approximation") -> Figure | Path:
    """Relative weight error per rank and, when given, the accuracy per rank."""
    errors = np.asarray(errors)
    ranks = np.arange(1, len(errors) + 1)
    fig = figure(9 if accuracies else 4.5, 3.8)
    axes = fig.subplots(1, 2 if accuracies else 1, squeeze=False)[0]
    axes[0].plot(ranks, errors, "o-")
    axes[0].set(xlabel="rank r (separable terms per kernel)", ylabel="||W - W_r|| / ||W||",
                title="weight error", xticks=ranks)
    axes[0].grid(alpha=0.3)
    if accuracies:
        keys = sorted(accuracies)
        axes[1].plot(keys, [accuracies[k] for k in keys], "s-", color="C1")
        axes[1].set(xlabel="rank r", ylabel="test accuracy", title="accuracy with rank-r layer",
                    xticks=keys)
        axes[1].grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def plot_receptive_fields(curves: Mapping[str, Sequence[int]], path: str | Path | None = None,
                          image: npt.ArrayLike | None = None,
                          fields: dict[str, ReceptiveField] | None = None,
                          title: str = "receptive field size") -> Figure | Path:
    """Receptive field size per depth for each named stack (dict name -> list of sizes), and,
    when given, squares of `fields` (name -> ReceptiveField) drawn on an input image."""
    from matplotlib.patches import Rectangle

    panels = 2 if image is not None and fields else 1
    fig = figure(5 * panels, 4.2)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for name, sizes in curves.items():
        axes[0].plot(np.arange(1, len(sizes) + 1), sizes, "o-", label=name)
    axes[0].set(xlabel="layers", ylabel="receptive field (pixels)", title=title, yscale="log")
    axes[0].grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    if panels == 2 and fields:  # (panels == 2 already means fields were given)
        ax = axes[1]
        _show(ax, image, title="fields of the centre unit")
        height, width = np.asarray(image).shape[-2:]
        for index, (name, field) in enumerate(fields.items()):
            centre = (height // 2 // field.jump[0], width // 2 // field.jump[1])
            rows, cols = field.window(*centre)
            ax.add_patch(Rectangle((cols.start - 0.5, rows.start - 0.5), field.size[1],
                                   field.size[0], fill=False, lw=2, color=f"C{index}",
                                   label=f"{name}: {field.size[0]}x{field.size[1]}"))
        ax.set_xlim(-0.5 - 2, width - 0.5 + 2)
        ax.set_ylim(height - 0.5 + 2, -0.5 - 2)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return finish(fig, path)


def plot_conv_matrix(matrix: npt.ArrayLike, path: str | Path | None = None,
                     kernel: npt.ArrayLike | None = None,
                     title: str = "conv2d as a matrix") -> Figure | Path:
    """The (O*OH*OW, C*H*W) matrix, zeros white: the offset copies of the kernel are visible."""
    matrix = np.asarray(matrix)
    panels = 2 if kernel is not None else 1
    fig = figure(4 + 4 * (panels - 1) + 2, 6)
    grid = fig.add_gridspec(1, panels, width_ratios=[1] * (panels - 1) + [4])
    if kernel is not None:
        ax = fig.add_subplot(grid[0, 0])
        ax.set_axis_off()
        _show(ax, np.asarray(kernel), cmap="RdBu_r", symmetric=True, title="kernel A")
    ax = fig.add_subplot(grid[0, panels - 1])
    limit = float(np.abs(matrix).max()) or 1.0
    shown = np.where(matrix == 0, np.nan, matrix)
    ax.imshow(shown, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest",
              aspect="auto")
    density = float(np.mean(matrix != 0))
    ax.set(xlabel="input pixel (flattened)", ylabel="output unit (flattened)",
           title=f"{title}: {matrix.shape[0]}x{matrix.shape[1]}, {density:.1%} non-zero")
    fig.tight_layout()
    return finish(fig, path)


__all__ = ["figure", "finish", "plot_adversarial", "plot_conv_matrix", "plot_correlation",
           "plot_feature_maps", "plot_gabor_fit", "plot_heatmaps", "plot_images",
           "plot_kernels", "plot_neighbours", "plot_receptive_fields", "plot_separable",
           "plot_tsne"]
