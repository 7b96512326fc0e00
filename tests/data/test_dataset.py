"""Dataset, TensorDataset, Subset, random_split, default_collate, and DataLoader over a dataset."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


class Squares(Dataset):
    """Computed on demand: sample i is (i, i²)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([float(i)]), i * i


def test_a_dataset_is_batched_sample_by_sample():
    batches = list(DataLoader(Squares(7), batch_size=3, shuffle=False))
    assert len(batches) == 3
    x, y = batches[0]
    assert x.shape == (3, 1) and x[:, 0].tolist() == [0.0, 1.0, 2.0]
    assert y.tolist() == [0, 1, 4]
    assert batches[2][1].tolist() == [36]
    shuffled = list(DataLoader(Squares(7), batch_size=3, seed=1, drop_last=True))
    assert len(shuffled) == 2
    for x, y in shuffled:
        np.testing.assert_array_equal(x[:, 0] ** 2, y)  # fields stay aligned
    seen = np.concatenate([x[:, 0] for x, _ in DataLoader(Squares(7), batch_size=3)])
    assert sorted(seen.tolist()) == list(range(7))


def test_tensor_dataset_matches_the_array_form():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    dataset = TensorDataset(gg.tensor(x), y)  # Tensors give their values
    assert len(dataset) == 10
    first = dataset[3]
    assert isinstance(first, tuple) and first[0].tolist() == [6.0, 7.0] and first[1] == 3
    from_dataset = list(DataLoader(dataset, batch_size=4, seed=5))
    from_arrays = list(DataLoader(x, y, batch_size=4, seed=5))
    assert len(from_dataset) == len(from_arrays) == 3
    for (a, b), (c, d) in zip(from_dataset, from_arrays):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    single = next(iter(DataLoader(TensorDataset(x), batch_size=2, shuffle=False)))
    assert isinstance(single, tuple) and len(single) == 1  # a 1-field sample stays a tuple


def test_subsets_of_a_tensor_dataset_take_the_shortcut_with_the_same_batches():
    x, y = np.arange(12.0), np.arange(12) % 3
    nested = Subset(Subset(TensorDataset(x, y), [11, 0, 5, 7, 3]), [4, 0, 2])

    class Plain(Dataset):  # the same samples, fetched one by one
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[[3, 11, 5][i]], y[[3, 11, 5][i]]

    assert [float(v) for v, _ in (nested[i] for i in range(3))] == [3.0, 11.0, 5.0]
    for (a, b), (c, d) in zip(DataLoader(nested, batch_size=2, seed=0),
                              DataLoader(Plain(), batch_size=2, seed=0)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


@pytest.mark.parametrize(("n", "fractions", "expected"), [
    (10, [0.8, 0.2], [8, 2]),
    (30, [0.3, 0.3, 0.4], [9, 9, 12]),
    (7, [0.25, 0.25, 0.5], [2, 2, 3]),  # floors 1, 1, 3; the 2 left over go to the first two
    (11, [0.5, 0.5], [6, 5]),
])
def test_random_split_rounds_fractions_as_pytorch(n, fractions, expected):
    parts = random_split(Squares(n), fractions, seed=0)
    assert [len(p) for p in parts] == expected
    indices = np.concatenate([p.indices for p in parts])
    assert sorted(indices.tolist()) == list(range(n))  # disjoint and complete
    try:
        import torch
    except ImportError:
        return
    assert [len(p) for p in torch.utils.data.random_split(range(n), fractions)] == expected


def test_random_split_is_seeded_and_takes_a_generator():
    data = TensorDataset(np.arange(50))
    a = [p.indices.tolist() for p in random_split(data, [30, 20], seed=3)]
    b = [p.indices.tolist() for p in random_split(data, [30, 20], seed=3)]
    c = [p.indices.tolist() for p in random_split(data, [30, 20], seed=4)]
    assert a == b and a != c
    rng = np.random.default_rng(3)
    assert [p.indices.tolist() for p in random_split(data, [30, 20], rng)] == a
    train, _ = random_split(data, [30, 20], seed=3)
    assert train[0][0] == a[0][0] and len(list(DataLoader(train, batch_size=8))) == 4


@pytest.mark.parametrize(("lengths", "message"), [
    ([3, 3], r"the lengths \[3, 3\] add up to 6, but the dataset has 5 samples"),
    ([0.5, 0.6], r"fractions must be in \[0, 1\] and add up to 1"),
    ([-1, 6], "lengths must be counts >= 0 or fractions"),
    ([], "lengths is empty"),
])
def test_random_split_errors(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(Squares(5), lengths)
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        random_split(Squares(5), [5], generator=3)


def test_default_collate_structures_and_errors():
    batch = default_collate([{"x": np.zeros(2), "y": 1}, {"x": np.ones(2), "y": 2}])
    assert batch["x"].shape == (2, 2) and batch["y"].tolist() == [1, 2]
    assert default_collate([[1, 2.0], [3, 4.0]])[1].tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\].*collate_fn="):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match=r"different numbers of fields \[1, 2\]"):
        default_collate([(1,), (1, 2)])


def test_collate_fn_and_transform_with_a_dataset():
    padded = DataLoader(Squares(4), batch_size=4, shuffle=False,
                        collate_fn=lambda samples: [s[1] for s in samples])
    assert next(iter(padded)) == [0, 1, 4, 9]
    doubled = DataLoader(Squares(4), batch_size=2, shuffle=False,
                         transform=lambda x, rng: 2 * x)
    x, y = next(iter(doubled))
    assert x[:, 0].tolist() == [0.0, 2.0] and y.tolist() == [0, 1]


def test_arrays_keep_their_meaning_and_errors_are_clear():
    assert next(iter(DataLoader([5, 6, 7], batch_size=3, shuffle=False))).tolist() == [5, 6, 7]
    with pytest.raises(ValueError, match="collate_fn applies to a dataset"):
        DataLoader(np.zeros(3), collate_fn=list)
    with pytest.raises(ValueError, match=r"same length along axis 0, got shapes \[\(3,\), \(4,\)"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(NotImplementedError, match="must define __len__"):
        len(Dataset())


def test_a_dataset_loader_hands_out_tensors_as_pytorchs_does():
    """Before: NumPy arrays, so `model(x)` failed in conv2d ("x must be a Tensor") and
    `x.view(x.size(0), -1)` meant NumPy's view."""
    import graphgrad as gg
    from graphgrad.data import DataLoader, TensorDataset

    x, y = np.arange(24.0).reshape(6, 4), np.arange(6)
    images, labels = next(iter(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False)))
    assert isinstance(images, gg.Tensor) and isinstance(labels, gg.Tensor)
    assert images.size(0) == 4 and images.view(images.size(0), -1).shape == (4, 4)
    np.testing.assert_array_equal(images.numpy(), x[:4])
    assert labels.dtype == np.int64 and labels.numpy().tolist() == [0, 1, 2, 3]
    arrays = next(iter(DataLoader(x, y, batch_size=4, shuffle=False)))  # arrays in, arrays out
    assert all(isinstance(a, np.ndarray) for a in arrays)
