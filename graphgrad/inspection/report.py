"""One figure per technique for the digits CNN: what `graphgrad inspect` and
`examples/inspect_digits.py` write.

`load_or_train` gives a trained LeNet (from a `gg.save` checkpoint such as `graphgrad demo`'s
`model.npz`, or trained here in a few seconds); each `FIGURES[name](context, out)` writes
`inspect_<name>*.png` into `out` and returns the numbers worth printing. `quick=True` shrinks every
computation (fewer images, steps and epochs) so a test can run the whole set in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import (
    adversarial,
    deepdream,
    gabor,
    guided,
    kernels,
    occlusion,
    plotting,
    saliency,
    separable,
    toeplitz,
    tsne,
)
from ._model import scores
from .activation_maximization import class_model
from .receptive_geometry import receptive_fields


@dataclass
class Context:
    """The model under inspection and the digits it was trained on."""

    model: Any  # an nn.Module (the figures read its named parameters)
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    quick: bool = False
    seed: int = 0

    def sample(self, count: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The first test image of each class in turn (0, 1, 2, ...), `count` of them."""
        picks = []
        for k in range(count):
            label = (k + offset) % 10
            candidates = np.flatnonzero(self.y_test == label)
            picks.append(candidates[(k + offset) // 10 % len(candidates)])
        return self.x_test[np.array(picks)], self.y_test[np.array(picks)]

    def accuracy(self) -> float:
        return float(np.mean(scores(self.model, self.x_test).argmax(axis=1) == self.y_test))


def load_or_train(checkpoint=None, epochs: int = 15, seed: int = 0, quick: bool = False,
                  progress: bool = False) -> Context:
    """A LeNet for the digits: loaded from `checkpoint` (a `gg.save` file of LeNet's weights) or
    trained with SGD + Nesterov momentum and cosine decay (`quick`: 2 epochs)."""
    from ..data import load_digits
    from ..io import load
    from ..nn import LeNet

    data = load_digits()
    model = LeNet(rng=seed)
    if checkpoint is not None:
        load(checkpoint, into=model)
    else:
        from .. import optim
        from ..train import fit

        epochs = 2 if quick else epochs
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                              weight_decay=1e-4)
        schedule = optim.CosineDecay(optimizer, total=epochs, min_factor=0.02)
        fit(model, optimizer, (data.x_train, data.y_train), epochs=epochs, batch_size=32,
            seed=seed, schedule=schedule, progress=progress)
    model.eval()
    return Context(model, data.x_train, data.y_train, data.x_test, data.y_test, quick, seed)


def _name(path) -> str:
    return Path(path).name


# ----- one function per technique -----------------------------------------------------------------
def kernels_figure(ctx: Context, out: Path) -> dict:
    weight = kernels.first_layer_kernels(ctx.model)
    corr = kernels.kernel_correlation(weight)
    image, label = ctx.sample(1, offset=3)
    maps = kernels.feature_maps(ctx.model, image[0], "relu:0")
    maps2 = kernels.feature_maps(ctx.model, image[0], "relu:1")
    files = [
        plotting.plot_kernels(weight, out / "inspect_kernels.png",
                              title=f"first-layer kernels {weight.shape}"),
        plotting.plot_correlation(corr, out / "inspect_correlation.png",
                                  title="correlation between first-layer kernels"),
        plotting.plot_feature_maps(maps, out / "inspect_activations.png", image=image[0],
                                   title=f"first ReLU layer's maps for a {label[0]}"),
        plotting.plot_feature_maps(maps2[:15], out / "inspect_activations2.png", image=image[0],
                                   title=f"second ReLU layer's maps (first 15) for a {label[0]}"),
    ]
    return {"files": files, "mean |corr|": kernels.mean_abs_off_diagonal(corr)}


def saliency_figure(ctx: Context, out: Path) -> dict:
    x, y = ctx.sample(8)
    maps = saliency.saliency_map(ctx.model, x, y)
    path = plotting.plot_heatmaps(x, maps, out / "inspect_saliency.png",
                                  titles=[f"class {k}" for k in y], map_label="|dS_c/dI|",
                                  title="class saliency maps |dS_c/dI| (Simonyan et al.)")
    return {"files": [path]}


def occlusion_figure(ctx: Context, out: Path) -> dict:
    x, y = ctx.sample(8)
    start = time.perf_counter()
    maps = occlusion.occlusion_map(ctx.model, x, y, patch=3, stride=1, fill="mean")
    seconds = time.perf_counter() - start
    path = plotting.plot_heatmaps(x, maps, out / "inspect_occlusion.png", cmap="viridis",
                                  titles=[f"class {k}" for k in y], map_label="p(true class)",
                                  title="occlusion: p(true class) with a 3x3 grey square centred "
                                        "on each pixel (Zeiler & Fergus)")
    return {"files": [path], "seconds for 8 maps": round(seconds, 3)}


def class_model_figure(ctx: Context, out: Path) -> dict:
    steps = 15 if ctx.quick else 200
    plain = class_model(ctx.model, list(range(10)), shape=(1, 8, 8), steps=steps,
                                     lr=0.2, l2=0.05)
    regular = class_model(ctx.model, list(range(10)), shape=(1, 8, 8), steps=steps,
                                       lr=0.2, l2=0.05, blur_every=4, blur_sigma=0.5,
                                       clip_norm=20)
    images = np.concatenate([plain.images, regular.images])
    predicted = scores(ctx.model, images).argmax(axis=1)
    titles = [f"{k % 10} (-> {p})" for k, p in enumerate(predicted)]
    path = plotting.plot_images(images, out / "inspect_class_model.png", titles=titles,
                                row_labels=["L2 only", "+ blur, clip"],
                                title="class model visualisation: argmax_I S_c(I) - "
                                      "λ||I||², from a zero image")
    hit = float(np.mean(predicted == np.tile(np.arange(10), 2)))
    return {"files": [path], "classified as their class": hit,
            "mean final score": float(regular.objective[-1].mean())}


def deep_dream_figure(ctx: Context, out: Path) -> dict:
    x, _y = ctx.sample(5, offset=2)
    steps = 5 if ctx.quick else 20
    low = deepdream.deep_dream(ctx.model, x, "relu:0", steps=steps, lr=0.05)
    high = deepdream.deep_dream(ctx.model, x, "relu:1", steps=steps, lr=0.05)
    images = np.concatenate([x, low.images, high.images])
    path = plotting.plot_images(images, out / "inspect_deep_dream.png", cols=len(x),
                                row_labels=["input", "dream: ReLU 1", "dream: ReLU 2"],
                                title="deep dream: amplify a whole layer from a real image")
    growth = float(np.mean(high.energy[-1] / high.energy[0]))
    return {"files": [path], "layer energy growth (ReLU 2)": round(growth, 2)}


def guided_figure(ctx: Context, out: Path) -> dict:
    x, y = ctx.sample(6, offset=4)
    variants = guided.backprop_variants(ctx.model, x, y)
    images = np.concatenate([x] + [variants[k] for k in ("gradient", "deconvnet", "guided")])
    path = plotting.plot_images(images, out / "inspect_guided.png", cols=len(x), cmap="RdBu_r",
                                symmetric=True, row_cmaps=["gray", None, None, None],
                                row_labels=["input", "gradient", "deconvnet", "guided"],
                                title="backward to the pixels with three ReLU rules "
                                      "(red +, blue -)")
    positive = {k: round(float(np.mean(variants[k] > 0)), 2) for k in variants}
    return {"files": [path], "fraction of positive pixels": positive}


def adversarial_figure(ctx: Context, out: Path) -> dict:
    count = 60 if ctx.quick else 360
    x, y = ctx.x_test[:count], ctx.y_test[:count]
    fast = adversarial.fgsm(ctx.model, x, y, eps=0.3)
    lowered = float(np.mean(fast.probability_after < fast.probability_before))
    p1 = plotting.plot_adversarial(x, fast, y, out / "inspect_fgsm.png",
                                   title=f"FGSM, eps = 0.3: {fast.summary()}")
    few = 4 if ctx.quick else 40
    xt, yt = ctx.sample(few, offset=1)
    targets = (yt + 1) % 10
    targeted = adversarial.targeted_perturbation(ctx.model, xt, targets,
                                                 steps=25 if ctx.quick else 60,
                                                 search_steps=2 if ctx.quick else 6)
    p2 = plotting.plot_adversarial(xt, targeted, yt, out / "inspect_targeted.png",
                                   title=f"argmin ||dx|| s.t. f(x+dx) = y+1: "
                                         f"{targeted.summary()}")
    image_norm = float(np.linalg.norm(xt.reshape(len(xt), -1), axis=1).mean())
    return {"files": [p1, p2], "fgsm": fast.summary(),
            "fgsm lowers p(true) on": lowered, "targeted": targeted.summary(),
            "mean image L2 norm": round(image_norm, 2)}


def tsne_figure(ctx: Context, out: Path) -> dict:
    count = 100 if ctx.quick else len(ctx.x_test)
    x, y = ctx.x_test[:count], ctx.y_test[:count]
    codes = tsne.cnn_codes(ctx.model, x)
    embedding = tsne.tsne_embedding(codes, perplexity=30, seed=ctx.seed,
                                    iterations=250 if ctx.quick else 1000)
    p1 = plotting.plot_tsne(embedding, y, out / "inspect_tsne.png", images=x,
                            thumbnails=25 if ctx.quick else 70,
                            title=f"t-SNE (scikit-learn) of {codes.shape[1]}-d CNN codes "
                                  f"of {count} test digits")
    queries = np.array([np.flatnonzero(y == k)[0] for k in range(0, 10, 2)])
    near = tsne.nearest_neighbours(codes, queries, k=6)
    p2 = plotting.plot_neighbours(x, queries, near, out / "inspect_neighbours.png", labels=y)
    pixels = x.reshape(len(x), -1)
    return {"files": [p1, p2],
            "5-NN label agreement, codes": round(tsne.neighbour_agreement(codes, y, 5), 3),
            "5-NN label agreement, pixels": round(tsne.neighbour_agreement(pixels, y, 5), 3)}


def gabor_figure(ctx: Context, out: Path) -> dict:
    bank, _ = gabor.gabor_bank(15, orientations=8, frequencies=(0.6, 1.2),
                               phases=(0.0, np.pi / 2))
    p1 = plotting.plot_images(bank, out / "inspect_gabor_bank.png", cols=8, cmap="gray",
                              symmetric=True,
                              title="a Gabor bank: 8 orientations x 2 frequencies x 2 phases")
    weight = kernels.first_layer_kernels(ctx.model)[:, 0]
    fit = gabor.fit_gabor(weight, steps=100 if ctx.quick else 400)
    p2 = plotting.plot_gabor_fit(weight, fit, out / "inspect_gabor_fit.png", count=8,
                                 title=f"Gabor functions fitted by gradient descent (graphgrad) "
                                       f"to {weight.shape[1]}x{weight.shape[2]} kernels")
    return {"files": [p1, p2], "median relative fit error": float(np.median(fit.error))}


def separable_figure(ctx: Context, out: Path) -> dict:
    name = [n for n, p in ctx.model.named_parameters() if p.ndim == 4][0]  # the first conv
    weight = dict(ctx.model.named_parameters())[name].numpy()
    errors = separable.rank_errors(weight)
    accuracies = separable.accuracy_with_rank(ctx.model, name, ctx.x_test, ctx.y_test)
    path = plotting.plot_separable(errors, accuracies, out / "inspect_separable.png",
                                   title=f"{name} {weight.shape}: each kernel as a sum of r "
                                         "separable (rank-1) kernels")
    return {"files": [path], "layer": name, "error per rank": np.round(errors, 3).tolist(),
            "accuracy per rank": accuracies}


def _conv_stack(dilations, size: int):
    from ..nn import Conv2d, Flatten, Linear, ReLU, Sequential

    layers = []
    for d in dilations:
        layers += [Conv2d(1, 1, 3, padding=d, dilation=d), ReLU()]
    return Sequential(*layers, Flatten(), Linear(size * size, 2))


def receptive_field_figure(ctx: Context, out: Path) -> dict:
    depth, size = 6, 160
    curves = {}
    for label, dilations in (("3x3 convs", [1] * depth),
                             ("3x3 convs, dilation 1, 2, 4, ...", [2 ** k for k in range(depth)])):
        fields = receptive_fields(_conv_stack(dilations, size), (1, size, size))
        curves[label] = [f.size[0] for name, f in fields.items() if name.isdigit() and
                         int(name) % 2 == 0 and not f.whole_input]    # the conv layers
    lenet = receptive_fields(ctx.model, (1, 8, 8))
    spatial = {n: f for n, f in lenet.items() if not f.whole_input and "relu" not in n}
    image, _ = ctx.sample(1, offset=8)
    path = plotting.plot_receptive_fields(curves, out / "inspect_receptive_field.png",
                                          image=image[0], fields=spatial,
                                          title="receptive field vs depth")
    return {"files": [path], "sizes": curves,
            "LeNet": {n: f.size[0] for n, f in lenet.items()}}


def conv_matrix_figure(ctx: Context, out: Path) -> dict:
    weight = kernels.first_layer_kernels(ctx.model)[:2]
    matrix = toeplitz.conv_matrix(weight, (1, 6, 6), padding=0)
    path = plotting.plot_conv_matrix(matrix, out / "inspect_conv_matrix.png", kernel=weight[0, 0],
                                     title="2 first-layer kernels on a 6x6 input")
    return {"files": [path], "shape": matrix.shape}


FIGURES: dict[str, Callable[[Context, Path], dict]] = {
    "kernels": kernels_figure,
    "saliency": saliency_figure,
    "occlusion": occlusion_figure,
    "class-model": class_model_figure,
    "deep-dream": deep_dream_figure,
    "guided": guided_figure,
    "adversarial": adversarial_figure,
    "tsne": tsne_figure,
    "gabor": gabor_figure,
    "separable": separable_figure,
    "receptive-field": receptive_field_figure,
    "conv-matrix": conv_matrix_figure,
}


def run(ctx: Context, out, techniques=None, echo: Callable[[str], None] | None = print) -> dict:
    """Write the figures of `techniques` (default: all) into `out`; {name: measurements}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(FIGURES) if not techniques or "all" in techniques else list(techniques)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown technique(s) {unknown}; valid: {list(FIGURES)} or 'all'")
    results = {}
    for name in names:
        start = time.perf_counter()
        result = FIGURES[name](ctx, out)
        result["seconds"] = round(time.perf_counter() - start, 2)
        results[name] = result
        if echo is not None:
            numbers = {k: v for k, v in result.items() if k != "files"}
            echo(f"{name}: {', '.join(_name(p) for p in result['files'])}  {numbers}")
    return results


__all__ = ["Context", "FIGURES", "load_or_train", "run"]
