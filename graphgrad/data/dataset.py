"""PyTorch's map-style dataset protocol: `Dataset`, `TensorDataset`, `Subset`, `random_split`
and the `default_collate` that turns a list of samples into a batch of NumPy arrays."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]


class Dataset:
    """Base of map-style datasets: ``len(ds)`` samples, ``ds[i]`` the i-th (torch.utils.data
    .Dataset). Subclass and define both; `DataLoader(ds)` batches any object that has them.

    Why a class: a dataset that reads files or augments per sample computes each item on
    demand; the aligned-arrays form of `DataLoader` needs everything in memory up front.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(value: Any) -> np.ndarray:
    """A NumPy array of `value`; graphgrad Tensors give their values (on the host)."""
    numpy = getattr(value, "numpy", None)
    return np.asarray(numpy() if callable(numpy) and not isinstance(value, np.ndarray) else value)


class TensorDataset(Dataset):
    """Samples ``(a[i], b[i], ...)`` of arrays (or Tensors) aligned along axis 0
    (torch.utils.data.TensorDataset). Each sample is a tuple of NumPy arrays.

    Why: inputs and targets as one object that `random_split` and `DataLoader` can take;
    batches are cut by fancy indexing, not item by item.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.tensors = tuple(_as_array(t) for t in tensors)
        lengths = [len(t) if t.ndim else None for t in self.tensors]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [t.shape for t in self.tensors]
            raise ValueError(f"TensorDataset: all arrays must have the same length along axis "
                             f"0, got shapes {shapes}")

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])



class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (torch.utils.data.Subset)."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)



def _split_lengths(total: int, lengths: Sequence[int | float]) -> list[int]:
    """Counts as given (they must add up to `total`), or fractions as PyTorch rounds them:
    floor each, then hand the remainder out one by one from the first split on."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    for value in lengths:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                math.isfinite(value) and value >= 0):
            raise ValueError(f"random_split: lengths must be counts >= 0 or fractions in [0, 1], "
                             f"got {lengths!r}")
    if all(isinstance(value, numbers.Integral) for value in lengths):
        counts = [int(value) for value in lengths]
        if sum(counts) != total:
            raise ValueError(f"random_split: the lengths {counts} add up to {sum(counts)}, but "
                             f"the dataset has {total} samples (or pass fractions adding to 1)")
        return counts
    if not math.isclose(sum(lengths), 1.0) or any(value > 1 for value in lengths):
        raise ValueError(f"random_split: fractions must be in [0, 1] and add up to 1, got "
                         f"{lengths!r} (sum {sum(lengths)!r})")
    counts = [int(math.floor(total * value)) for value in lengths]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: np.random.Generator | None = None, *,
                 seed: int | None = 0) -> list[Subset]:
    """Split `dataset` into non-overlapping random `Subset`s of the given `lengths`
    (torch.utils.data.random_split): counts that add up to ``len(dataset)``, or fractions
    that add up to 1 (``[0.8, 0.2]``).

    The permutation comes from `generator` if given, else from ``default_rng(seed)``: the same
    seed gives the same split on every run, as `DataLoader`'s ``seed`` does for batches.
    """
    counts = _split_lengths(len(dataset), lengths)
    rng = generator if generator is not None else np.random.default_rng(seed)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"random_split: generator must be a numpy.random.Generator (or pass "
                        f"seed=), got {type(generator).__name__}")
    order = rng.permutation(len(dataset))
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - count:end]) for count, end in zip(counts, ends)]


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, field by field (torch's default_collate, but
    NumPy): tuples and lists give a tuple of stacked arrays, dicts a dict, numbers and arrays
    one array with a new leading axis."""
    if not samples:
        raise ValueError("default_collate: no samples to collate")
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        sizes = {len(sample) for sample in samples}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: samples have different numbers of fields "
                             f"{sorted(sizes)}; each sample must have the same structure")
        return tuple(default_collate(list(field)) for field in zip(*samples))
    arrays = [_as_array(sample) for sample in samples]
    shapes = {array.shape for array in arrays}
    if len(shapes) != 1:
        raise ValueError(f"default_collate: samples of different shapes {sorted(shapes)} can't "
                         f"be stacked into one batch; pad them or pass collate_fn=")
    return np.stack(arrays)


def fetch(dataset: Any, indices: np.ndarray, collate_fn: Any = None) -> Any:
    """The batch of `dataset` at `indices`: ``collate_fn([dataset[i] for i in indices])``, with
    a shortcut for a `TensorDataset` (or subsets of one) under the default collation: one
    fancy index per array instead of a Python loop over samples."""
    if collate_fn is None:
        base, where = dataset, np.asarray(indices)
        while isinstance(base, Subset):
            base, where = base.dataset, base.indices[where]
        if isinstance(base, TensorDataset):
            return tuple(t[where] for t in base.tensors)
    samples = [dataset[int(i)] for i in indices]
    return (collate_fn or default_collate)(samples)
