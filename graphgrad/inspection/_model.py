"""What every technique needs from "a model": call it, read its graph, find a layer in it.

A model is an `nn.Module` or any function from an input Tensor (N, C, H, W) to class scores
(N, classes). Nothing here changes the model for good: `evaluating` switches a Module to eval
mode (dropout off) and `frozen` stops its parameters from requiring gradients (so backward to the
input skips the weight gradients); both restore the previous state on exit.

Layers are found in the graph the forward pass builds, never by patching the model:
- a module path (``"conv1"``, ``"features.0"``): the output of that module's call, read from the
  `Scope("module", ...)` tags every node carries;
- an op selector (``"relu"``, ``"relu:1"``, ``"conv:0"``): the k-th node (in creation order)
  whose op has that name; this works for plain functions too;
- a callable ``layer(x) -> Tensor`` that computes the layer's output itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .. import config
from .._tensor import Tensor
from ..errors import GraphgradError
from ..graph import ancestors
from ..train import probabilities


class ModelError(GraphgradError, ValueError):
    """A model, input or layer name the inspection functions cannot use."""


# The annotations every technique shares (why: one spelling of "what counts as a model" for help(),
# the API reference and mypy). An `nn.Module` is a Callable[[Tensor], Tensor] too.
Model = Callable[[Tensor], Tensor]
# an input image (C, H, W) or batch (N, C, H, W): a Tensor or anything np.asarray reads
Images = Tensor | npt.ArrayLike
# a layer: a module path ("conv1"), an op selector ("relu:1") or a callable x -> Tensor
Layer = str | Callable[[Tensor], Tensor]
# the class per image: one int for all, one int per image, or None (the predicted class)
Target = int | Sequence[int] | np.ndarray | None
# a unit of a layer: an index into one image's activations (a channel index: the whole map)
Unit = int | Sequence[int] | None


# ----- arrays in, arrays out ------------------------------------------------------------------
def as_batch(x, what: str = "x") -> tuple[np.ndarray, bool]:
    """x as a float (N, C, H, W) array, and whether a single (C, H, W) image was given."""
    if isinstance(x, Tensor):
        x = x.numpy()
    array = np.asarray(x)
    if array.dtype.kind not in "fiub":
        raise ModelError(f"{what} must be a numeric image array, got dtype {array.dtype}")
    if array.ndim == 3:
        return _floating(array)[None], True
    if array.ndim == 4:
        return _floating(array), False
    raise ModelError(f"{what} must be one image (C, H, W) or a batch (N, C, H, W), got shape "
                     f"{array.shape}")


def _floating(array: np.ndarray) -> np.ndarray:
    return array if array.dtype.kind == "f" else array.astype(np.float32)


def input_dtype(model) -> np.dtype:
    """The dtype to make inputs in: the model's parameters', else the default dtype."""
    if hasattr(model, "parameters"):
        params = model.parameters()
        if params:
            return np.dtype(str(params[0].dtype))
    return np.dtype(config.get_default_dtype())


def unbatch(array: np.ndarray, single: bool) -> np.ndarray:
    return array[0] if single else array


def targets_for(target, count: int, scores: np.ndarray | None = None,
                classes: int | None = None) -> np.ndarray:
    """One class index per image: an int for all, a sequence of N ints, or None = the prediction."""
    if target is None:
        if scores is None:
            raise ModelError("target=None means the predicted class, but no scores were computed")
        return scores.argmax(axis=1)
    values = np.broadcast_to(np.asarray(target), (count,)) if np.ndim(target) == 0 else \
        np.asarray(target)
    if values.shape != (count,) or values.dtype.kind not in "iu":
        raise ModelError(f"target must be an int or {count} ints (one per image), got {target!r}")
    if classes is not None and (values.min() < 0 or values.max() >= classes):
        raise ModelError(f"target {target!r} is out of range: the model has {classes} classes "
                         f"(valid targets 0..{classes - 1})")
    return values.astype(np.int64)


# ----- model state ----------------------------------------------------------------------------
@contextlib.contextmanager
def evaluating(model) -> Iterator[None]:
    """Eval mode (dropout off) for a Module for the duration; plain functions are left alone."""
    was_training = getattr(model, "training", None)
    if was_training and hasattr(model, "eval"):
        model.eval()
    try:
        yield
    finally:
        if was_training and hasattr(model, "train"):
            model.train()


@contextlib.contextmanager
def frozen(model) -> Iterator[None]:
    """Parameters of a Module stop requiring gradients for the duration (input gradients only)."""
    params = [p for p in model.parameters() if p.requires_grad] if hasattr(
        model, "parameters") else []
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p in params:
            p.requires_grad = True


@contextlib.contextmanager
def inspecting(model) -> Iterator[None]:
    """Eval mode, frozen parameters, and gradients recorded (even inside an outer no_grad)."""
    with evaluating(model), frozen(model), config.enable_grad():
        yield


def call(model, x: Tensor) -> Tensor:
    """model(x), checked to be a Tensor of class scores (N, classes)."""
    if not callable(model):
        raise ModelError(f"model must be an nn.Module or a function of one Tensor, got "
                         f"{type(model).__name__}")
    out = model(x)
    if not isinstance(out, Tensor):
        raise ModelError(f"the model must return a Tensor of class scores, got "
                         f"{type(out).__name__}")
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ModelError(f"the model must return class scores of shape (N, classes) = "
                         f"({x.shape[0]}, classes), got {out.shape}")
    return out


def scores(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class scores as an array, in eval mode, without recording a graph."""
    outputs = []
    with evaluating(model), config.no_grad():
        for start in range(0, len(x), batch_size):
            outputs.append(call(model, Tensor(x[start:start + batch_size])).numpy())
    return np.concatenate(outputs)


softmax = probabilities  # row-wise softmax of score arrays (one implementation, in train)


# ----- layers in the graph ----------------------------------------------------------------------
class Traced(NamedTuple):
    """One forward pass: the input leaf, the output, and every node between, by creation."""

    x: Tensor
    out: Tensor
    nodes: list[Tensor]


def run_traced(model: Model, x: np.ndarray, requires_grad: bool = True) -> Traced:
    """Run the model once on a fresh input leaf and collect the graph it built."""
    leaf = Tensor(x, requires_grad=requires_grad)
    out = call(model, leaf)
    return Traced(leaf, out, ancestors([out]))


def _module_path(node: Tensor) -> tuple[tuple[str, ...], tuple[int, ...]]:
    frames = [frame for frame in node.scope if frame.kind == "module"]
    return tuple(f.name for f in frames), tuple(f.uid for f in frames)


def layer_names(traced: Traced) -> list[str]:
    """Module paths in call order (the root module left out): what `layer=` accepts."""
    names: dict[str, None] = {}
    for node in traced.nodes:
        path, _ = _module_path(node)
        for depth in range(2, len(path) + 1):
            names[".".join(path[1:depth])] = None
    return list(names)


def find_layer(traced: Traced, layer: str) -> Tensor:
    """The output node of `layer` (a module path or an op selector ``name[:k]``) in a traced run."""
    if not isinstance(layer, str) or not layer:
        raise ModelError(f"layer must be a module path like 'conv1', an op selector like "
                         f"'relu:0', or a callable, got {layer!r}")
    parts = tuple(layer.split("."))
    outputs: dict[int, Tensor] = {}   # scope uid -> last node created inside that module call
    for node in traced.nodes:
        path, uids = _module_path(node)
        for end in range(len(path), 0, -1):
            if path[end - len(parts):end] == parts and end >= len(parts):
                uid = uids[end - 1]
                if uid not in outputs or node.seq > outputs[uid].seq:
                    outputs[uid] = node
                break
    if outputs:
        return min(outputs.values(), key=lambda t: t.seq)  # the first call of that module
    name, _, index = layer.partition(":")
    matches = [n for n in traced.nodes if n.op is not None and n.op.name == name]
    if matches:
        k = int(index) if index.lstrip("-").isdigit() else 0
        if not -len(matches) <= k < len(matches):
            raise ModelError(f"layer {layer!r}: the graph has {len(matches)} {name!r} node(s), "
                             f"valid selectors {name}:0 .. {name}:{len(matches) - 1}")
        return matches[k]
    ops = sorted({n.op.name for n in traced.nodes if n.op is not None})
    raise ModelError(f"no layer {layer!r} in this model; module paths: {layer_names(traced)}; "
                     f"op selectors (name or name:k): {ops}")


def layer_output(model, x: Tensor, layer) -> tuple[Tensor, Tensor | None]:
    """(the layer's output, the model's output or None) for input leaf x."""
    if callable(layer) and not isinstance(layer, str):
        value = layer(x)
        if not isinstance(value, Tensor):
            raise ModelError(f"layer callable must return a Tensor, got {type(value).__name__}")
        return value, None
    out = call(model, x)
    return find_layer(Traced(x, out, ancestors([out])), layer), out


def depends_on(node: Tensor, x: Tensor) -> bool:
    return any(n is x for n in ancestors([node]))


def penultimate(traced: Traced) -> Tensor:
    """The "CNN code": the input of the last weight layer (matmul or conv) fed by the image."""
    for node in reversed(traced.nodes):
        if node.op is not None and node.op.name in ("matmul", "conv"):
            for parent in node.inputs:
                if parent.requires_grad and depends_on(parent, traced.x):
                    return parent
    raise ModelError("found no matmul or conv layer fed by the input; pass layer= explicitly")


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Blur (N, C, H, W) images with a separable Gaussian (reflecting the border)."""
    if sigma <= 0:
        return images
    radius = max(1, int(round(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = images
    for axis in (2, 3):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > radius else "edge")
        acc = np.zeros_like(out)
        size = out.shape[axis]
        for offset, tap in enumerate(taps):
            acc += tap * np.take(padded, range(offset, offset + size), axis=axis)
        out = acc
    return out.astype(images.dtype, copy=False)


__all__ = ["ModelError", "Traced", "as_batch", "call", "evaluating", "find_layer", "frozen",
           "gaussian_blur", "inspecting", "layer_names", "layer_output", "penultimate", "scores",
           "softmax", "targets_for", "run_traced", "unbatch"]
