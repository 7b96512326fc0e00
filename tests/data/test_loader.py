import numpy as np
import pytest

from graphgrad.data import DataLoader, batches


def test_covers_every_example_once_per_epoch():
    x = np.arange(10)
    loader = DataLoader(x, batch_size=3, seed=0)
    assert len(loader) == 4
    epoch = list(loader)
    assert [len(b) for b in epoch] == [3, 3, 3, 1]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(10))


def test_shuffles_differently_each_epoch_and_reproducibly():
    x = np.arange(50)
    first = DataLoader(x, batch_size=50, seed=3)
    second = DataLoader(x, batch_size=50, seed=3)
    a1, a2 = next(iter(first)), next(iter(first))
    b1, b2 = next(iter(second)), next(iter(second))
    assert not np.array_equal(a1, np.arange(50))
    assert not np.array_equal(a1, a2)
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)
    other = next(iter(DataLoader(x, batch_size=50, seed=4)))
    assert not np.array_equal(a1, other)


def test_arrays_stay_aligned_and_drop_last():
    x = np.arange(7) * 10
    y = np.arange(7)
    z = -np.arange(7)
    loader = DataLoader(x, y, z, batch_size=2, drop_last=True)
    assert len(loader) == 3
    for bx, by, bz in loader:
        assert np.array_equal(bx, by * 10) and np.array_equal(bz, -by)


def test_no_shuffle_keeps_order():
    chunks = list(batches(np.arange(5), batch_size=2, shuffle=False))
    assert [c.tolist() for c in chunks] == [[0, 1], [2, 3], [4]]


def test_errors():
    with pytest.raises(ValueError, match="same length.*\\[3, 4\\]"):
        DataLoader(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="at least one array"):
        DataLoader()
