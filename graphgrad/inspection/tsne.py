"""A global view: t-SNE of CNN codes, and nearest neighbours in code space.

"CNN codes" are the activations of the penultimate layer (the input of the last weight layer,
4096-d in AlexNet, the fc1 features of the digits LeNet). t-SNE (van der Maaten & Hinton 2008)
places two codes close in 2-d if they are close in code space. The embedding uses
scikit-learn's `sklearn.manifold.TSNE` (graphgrad does not implement t-SNE itself); nearest
neighbours are exact Euclidean distances in NumPy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._tensor import Tensor
from ..graph import ancestors
from ._model import (Images, Layer, Model, ModelError, Traced, as_batch, call, find_layer,
                     inspecting, penultimate)


def cnn_codes(model: Model, x: Images, layer: Layer | None = None,
              batch_size: int = 256) -> np.ndarray:
    """(N, D) activations of `layer` (default: the penultimate layer, found in the graph).

    `layer`: a module path ("fc1", "relu3"), an op selector, or a callable x -> Tensor.
    Activations with more axes are flattened per image.
    """
    batch, _ = as_batch(x)
    codes = []
    with inspecting(model):
        for start in range(0, len(batch), batch_size):
            leaf = Tensor(batch[start:start + batch_size], requires_grad=True)
            if callable(layer) and not isinstance(layer, str):
                node = layer(leaf)
            else:
                out = call(model, leaf)
                traced = Traced(leaf, out, ancestors([out]))
                node = penultimate(traced) if layer is None else find_layer(traced, layer)
            codes.append(node.numpy().reshape(len(leaf.data), -1))
    return np.concatenate(codes)


def tsne_embedding(codes: np.ndarray, perplexity: float = 30.0, seed: int = 0,
                   iterations: int = 1000) -> np.ndarray:
    """(N, 2) t-SNE embedding of codes (N, D) with scikit-learn's TSNE (PCA initialisation;
    `iterations` >= 250 optimisation steps; perplexity capped at (N - 1) / 3)."""
    try:
        from sklearn.manifold import TSNE
    except ImportError as error:  # pragma: no cover - scikit-learn is a dependency
        raise ImportError("tsne_embedding needs scikit-learn (pip install scikit-learn); "
                          "graphgrad does not implement t-SNE itself") from error
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 3:
        raise ModelError(f"tsne_embedding: expected codes (N >= 3, D), got shape {codes.shape}")
    perplexity = min(float(perplexity), (len(codes) - 1) / 3.0)
    import inspect as pyinspect

    steps = "max_iter" if "max_iter" in pyinspect.signature(TSNE).parameters else "n_iter"
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                random_state=seed, **{steps: max(250, int(iterations))})
    return tsne.fit_transform(codes)


def nearest_neighbours(codes: np.ndarray, queries: npt.ArrayLike, k: int = 5) -> np.ndarray:
    """(Q, k) indices into `codes` of the k nearest codes (Euclidean) to each query.

    `queries`: indices into `codes` (the query itself is left out) or query codes (Q, D).
    """
    codes = np.asarray(codes, dtype=np.float64)
    queries = np.asarray(queries)
    self_index = None
    if queries.ndim <= 1 and queries.dtype.kind in "iu":
        self_index = np.atleast_1d(queries)
        points = codes[self_index]
    elif queries.ndim == 2 and queries.shape[1] == codes.shape[1]:
        points = queries.astype(np.float64)
    else:
        raise ModelError(f"queries must be indices into codes or codes (Q, {codes.shape[1]}), "
                         f"got shape {queries.shape}")
    available = len(codes) - (1 if self_index is not None else 0)
    if not 1 <= k <= available:
        raise ModelError(f"k must be in 1..{available}, got {k}")
    distances = ((points ** 2).sum(axis=1)[:, None] + (codes ** 2).sum(axis=1)[None, :]
                 - 2.0 * points @ codes.T)                 # |p - c|^2 without an (Q, N, D) array
    if self_index is not None:
        distances[np.arange(len(points)), self_index] = np.inf
    order = np.argsort(distances, axis=1, kind="stable")
    return order[:, :k]


def neighbour_agreement(codes: np.ndarray, labels: npt.ArrayLike, k: int = 5) -> float:
    """Fraction of each point's k nearest neighbours that share its label (a k-NN purity)."""
    labels = np.asarray(labels)
    neighbours = nearest_neighbours(codes, np.arange(len(codes)), k)
    return float(np.mean(labels[neighbours] == labels[:, None]))


__all__ = ["cnn_codes", "nearest_neighbours", "neighbour_agreement", "tsne_embedding"]
