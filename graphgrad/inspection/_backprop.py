"""One backward pass from a class score (or one unit of a layer) to the input pixels.

Saliency, guided backpropagation and the deconvnet are this same pass; the last two only change
what happens at each ReLU, and they do it with the engine's gradient hooks
(`Tensor.register_hook`) on the nodes of the graph the forward pass built: no layer is written a
second time. For a ReLU node y = relu(x) with upstream gradient g:

    plain gradient:   g * [x > 0]                 (the engine's own rule)
    guided backprop:  [g > 0] * g * [x > 0]       hook on y: g -> relu(g); the engine masks by x
    deconvnet:        [g > 0] * g                 hook on y: g -> relu(g) (kept as r); hook on x
                                                  adds back what the engine's mask removed:
                                                  g_x -> g_x - vjp_relu(r) + r

Max pooling needs nothing: its VJP already routes each window's gradient to the window's winner,
the "switches" the deconvnet unpools with.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autodiff import sweep
from ..graph import ancestors
from ._model import ModelError, Traced, as_batch, call, find_layer, inspecting, targets_for

RULES = ("gradient", "guided", "deconvnet")


def _rectify(g: Tensor) -> Tensor:
    return g * (g > 0.0).astype(g.dtype)


def install_relu_rule(nodes: list[Tensor], rule: str) -> int:
    """Register the hooks of `rule` on every fused ReLU node in `nodes`; returns how many."""
    if rule not in RULES:
        raise ModelError(f"relu rule must be one of {RULES}, got {rule!r}")
    if rule == "gradient":
        return 0
    count = 0
    for node in nodes:
        if node.op is None or node.op.name != "relu" or not node.requires_grad:
            continue
        count += 1
        if rule == "guided":
            node.register_hook(_rectify)
            continue
        stash: dict[str, Tensor] = {}

        def on_output(g, node=node, stash=stash):
            r = _rectify(g)
            stash["r"] = r
            stash["passed"] = node.op.vjp(r, node, *node.inputs, **node.params)[0]
            return r

        def on_input(g, stash=stash):
            if "r" not in stash:
                return None
            return g - stash["passed"] + stash["r"]

        node.register_hook(on_output)
        (source,) = node.inputs
        if source.requires_grad:
            source.register_hook(on_input)
    return count


def unit_seed(unit):
    """A layer seed: one-hot per image at `unit` (an index into one image's activations; a
    channel index selects the whole map) or, for unit=None, at each image's strongest
    activation. Objective: the activation (the sum of the selected map)."""
    def seed_fn(values: np.ndarray) -> np.ndarray:
        seed = np.zeros_like(values)
        per_image = values.shape[1:]
        for i in range(len(values)):
            if unit is None:
                index: tuple = np.unravel_index(np.argmax(values[i]), per_image)
            else:
                index = tuple(int(k) for k in np.atleast_1d(unit))
                if len(index) > len(per_image) or any(
                        not -n <= k < n for k, n in zip(index, per_image)):
                    raise ModelError(f"unit {unit!r} is not an index into one image's "
                                     f"activations of shape {per_image}")
            seed[(i,) + tuple(index)] = 1.0
        return seed
    return seed_fn


def energy_seed(values: np.ndarray) -> np.ndarray:
    """The whole layer: objective 1/2 ||a||^2 per image, whose gradient with respect to a is a."""
    return values.copy()


def backprop_to_input(model, x, target=None, *, layer=None, unit=None, seed=None,
                      rule: str = "gradient") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(d objective / d x (N, C, H, W), class scores (N, K), objective (N,)) for a batch.

    The objective per image is the class score S_c (target: int, N ints, or None for the
    predicted class), or with `layer=` (module path, op selector or callable x -> Tensor) one unit
    of that layer (`unit`, see `unit_seed`). `seed=`, a function a -> dObjective/da of the
    root's values a (the layer's, or the class scores without `layer`), replaces both, e.g.
    `energy_seed` or softmax(a) - onehot(y) for the cross-entropy.
    The objective reported is sum(seed * a) per image (halved for `energy_seed`).
    """
    batch, _ = as_batch(x)
    with inspecting(model):
        leaf = Tensor(batch, requires_grad=True)
        out = call(model, leaf)
        out_scores = out.numpy()
        if layer is None:
            root = out
        elif callable(layer) and not isinstance(layer, str):
            root = layer(leaf)
        else:
            root = find_layer(Traced(leaf, out, ancestors([out])), layer)
        if not isinstance(root, Tensor) or not root.requires_grad:
            raise ModelError(f"layer {layer!r} does not give a Tensor that depends on the input")
        install_relu_rule(ancestors([root]), rule)
        values = root.numpy()
        if seed is not None:
            gradient_seed = np.asarray(seed(values), dtype=values.dtype)
        elif layer is None:
            targets = targets_for(target, len(batch), out_scores, out.shape[1])
            gradient_seed = np.zeros(out.shape, dtype=out_scores.dtype)
            gradient_seed[np.arange(len(batch)), targets] = 1.0
        else:
            gradient_seed = unit_seed(unit)(values)
        objective = (gradient_seed * values).reshape(len(batch), -1).sum(axis=1)
        if seed is energy_seed:
            objective = objective / 2
        found = sweep([root], [Tensor(gradient_seed)], accumulate=False)
    grad = found.get(id(leaf))
    gradient = np.zeros_like(batch) if grad is None else grad.numpy()
    return gradient, out_scores, objective


__all__ = ["RULES", "backprop_to_input", "energy_seed", "install_relu_rule", "unit_seed"]
