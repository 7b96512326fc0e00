"""A seeded, shuffling batch iterator over aligned arrays (inputs and one or more targets) or
over a map-style dataset (PyTorch's `DataLoader(dataset, ...)`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from graphgrad._tensor import Tensor
from graphgrad.data.dataset import Dataset, fetch

__all__ = ["DataLoader", "batches", "random_shift"]


def random_shift(max_shift: int = 1) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """Augmentation for NCHW image batches: shift each image by up to `max_shift` pixels in x
    and y (independently, uniformly), filling with each image's minimum (the background).

    Use as ``DataLoader(x, y, transform=random_shift(1))``; small translations are the cheapest
    way to make a digit classifier generalise.
    """
    if not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}")

    def shift(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if batch.ndim != 4:
            raise ValueError(f"random_shift expects NCHW images, got shape {batch.shape}")
        if max_shift == 0:
            return batch
        m = max_shift
        n, _, h, w = batch.shape
        background = batch.min(axis=(1, 2, 3), keepdims=True)
        padded = np.pad(batch, ((0, 0), (0, 0), (m, m), (m, m)))
        padded[:, :, :m, :] = background
        padded[:, :, -m:, :] = background
        padded[:, :, :, :m] = background
        padded[:, :, :, -m:] = background
        dy = rng.integers(0, 2 * m + 1, size=(n,))
        dx = rng.integers(0, 2 * m + 1, size=(n,))
        out = np.empty_like(batch)
        for i in range(n):
            out[i] = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
        return out

    return shift


def _as_tensors(batch: Any) -> Any:
    """Each array of a collated batch (a tuple, a dict or one array) as a Tensor (no copy)."""
    if isinstance(batch, tuple):
        return tuple(_as_tensors(field) for field in batch)
    if isinstance(batch, dict):
        return {key: _as_tensors(value) for key, value in batch.items()}
    return Tensor(batch) if isinstance(batch, np.ndarray) else batch


def _check_aligned(arrays: tuple[np.ndarray, ...]) -> int:
    if not arrays:
        raise ValueError("DataLoader needs at least one array")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"all arrays must have the same length along axis 0, got {lengths}")
    return lengths[0]


def _is_dataset(obj: Any) -> bool:
    """A `Dataset`, or any other object with ``__len__``/``__getitem__`` that is not array-like
    (arrays, lists and Tensors keep meaning "one aligned array")."""
    if isinstance(obj, Dataset):
        return True
    array_like = isinstance(obj, (np.ndarray, list, tuple, str, bytes)) or hasattr(obj, "shape")
    return not array_like and hasattr(obj, "__getitem__") and hasattr(obj, "__len__")


class DataLoader:
    """Iterate over mini-batches of ``arrays`` (all indexed along axis 0 together), or of one
    map-style ``dataset`` (``DataLoader(dataset, batch_size=...)``, as in PyTorch).

    With ``shuffle=True`` each pass draws a fresh permutation from one `numpy.random.Generator`
    seeded with ``seed``: epoch 1 and epoch 2 differ, and the whole sequence of epochs is the same
    on every run. Arrays in, arrays out: each batch is a tuple of NumPy arrays (a single array if
    one array was given). A dataset, as in PyTorch, gives Tensors: its samples are stacked by
    `default_collate` (a tuple sample gives a tuple) and each array becomes a Tensor, ready for
    ``model(x)``, ``x.view(x.size(0), -1)``; a ``collate_fn`` of your own returns what it returns.
    ``transform(first_array_batch, generator)`` (e.g. `random_shift`) augments
    the inputs, drawing its randomness from the same seeded generator. Unlike PyTorch,
    ``shuffle`` defaults to True (training is what loaders are for here).
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = 0,
        drop_last: bool = False,
        transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        collate_fn: Callable[[Sequence[Any]], Any] | None = None,
    ) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = arrays[0] if len(arrays) == 1 and _is_dataset(arrays[0]) else None
        if self.dataset is None:
            if collate_fn is not None:
                raise ValueError("DataLoader: collate_fn applies to a dataset "
                                 "(DataLoader(dataset, collate_fn=...)); arrays are sliced")
            self.arrays = tuple(np.asarray(a) for a in arrays)
            self._size = _check_aligned(self.arrays)
        else:
            self.arrays = ()
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = np.random.default_rng(seed)
        self.transform = transform
        self.collate_fn = collate_fn

    @property
    def size(self) -> int:
        """Number of examples (a dataset's current length)."""
        return len(self.dataset) if self.dataset is not None else self._size

    def __len__(self) -> int:
        if self.drop_last:
            return self.size // self.batch_size
        return (self.size + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator:
        order = self.generator.permutation(self.size) if self.shuffle else np.arange(self.size)
        for batch in range(len(self)):
            index = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            if self.dataset is not None:
                batch = self._transformed(fetch(self.dataset, index, self.collate_fn))
                yield batch if self.collate_fn is not None else _as_tensors(batch)
                continue
            chunk = tuple(a[index] for a in self.arrays)
            chunk = self._transformed(chunk)
            yield chunk[0] if len(chunk) == 1 else chunk

    def _transformed(self, batch: Any) -> Any:
        """`batch` with `transform` applied to its inputs (the first field of a tuple)."""
        if self.transform is None:
            return batch
        if isinstance(batch, tuple):
            return (self.transform(batch[0], self.generator),) + batch[1:]
        if isinstance(batch, np.ndarray):
            return self.transform(batch, self.generator)
        raise TypeError(f"DataLoader: transform= needs batches that are arrays or tuples, got "
                        f"{type(batch).__name__}; apply it in collate_fn instead")


def batches(
    *arrays: np.ndarray,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = 0,
    drop_last: bool = False,
) -> Iterator:
    """One pass over ``arrays`` in mini-batches (a one-epoch `DataLoader`)."""
    return iter(
        DataLoader(*arrays, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    )
