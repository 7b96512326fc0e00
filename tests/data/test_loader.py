import numpy as np
import pytest

from graphgrad.data import DataLoader, batches, random_shift


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


def test_random_shift_moves_each_image_by_at_most_max_shift_and_fills_with_its_background():
    """Every output image is its input translated by some (dy, dx) in [-2, 2]^2, the uncovered
    border filled with that image's minimum; the shifts differ between images and are drawn
    from the generator (same seed, same shifts)."""
    rng = np.random.default_rng(0)
    images = rng.uniform(1.0, 2.0, (16, 2, 6, 7))
    images[3] -= 5.0                                    # another background for one image
    shifted = random_shift(2)(images, np.random.default_rng(1))
    assert shifted.shape == images.shape
    found = set()
    for image, out in zip(images, shifted):
        background = image.min()
        matches = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                expected = np.full_like(image, background)
                expected[:, max(dy, 0):6 + min(dy, 0), max(dx, 0):7 + min(dx, 0)] = \
                    image[:, max(-dy, 0):6 - max(dy, 0), max(-dx, 0):7 - max(dx, 0)]
                if np.array_equal(out, expected):
                    matches.append((dy, dx))
        assert len(matches) == 1
        found.add(matches[0])
    assert len(found) > 4                               # not one shift for the whole batch
    np.testing.assert_array_equal(shifted, random_shift(2)(images, np.random.default_rng(1)))
    np.testing.assert_array_equal(random_shift(0)(images, rng), images)


def test_random_shift_rejects_bad_arguments():
    with pytest.raises(ValueError, match="non-negative integer"):
        random_shift(-1)
    with pytest.raises(ValueError, match="NCHW"):
        random_shift(1)(np.zeros((2, 3, 4)), np.random.default_rng(0))


def test_transform_augments_the_inputs_only_reproducibly_per_seed():
    x, y = np.arange(24.0).reshape(6, 1, 2, 2), np.arange(6)
    calls = []

    def negate_some(batch, generator):
        calls.append(len(batch))
        return batch * generator.choice([-1.0, 1.0], size=(len(batch), 1, 1, 1))

    runs = [list(DataLoader(x, y, batch_size=4, seed=5, transform=negate_some)) for _ in range(2)]
    assert calls == [4, 2, 4, 2]
    for (xa, ya), (xb, _yb) in zip(*runs):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(np.abs(xa), x[ya])      # the labels still match the inputs
