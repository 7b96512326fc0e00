import numpy as np
import pytest
from sklearn.datasets import load_digits as sklearn_digits

from graphgrad.data import Standardizer, load_digits, stratified_split


@pytest.fixture(scope="module")
def raw():
    bunch = sklearn_digits()
    return bunch.data.astype(np.float64), bunch.target


def test_split_sizes_shapes_and_dtypes():
    split = load_digits()
    assert split.x_train.shape == (1437, 1, 8, 8)
    assert split.x_test.shape == (360, 1, 8, 8)
    assert split.x_train.dtype == np.float32
    assert split.y_train.dtype == np.int64
    assert set(np.unique(split.y_test)) == set(range(10))
    flat = load_digits(flat=True, dtype="float64")
    assert flat.x_train.shape == (1437, 64) and flat.x_train.dtype == np.float64


def test_split_is_stratified_disjoint_and_seeded(raw):
    _, y = raw
    train, test = stratified_split(y, 0.2, seed=0)
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == len(y) == 1797
    # every class keeps its share: 20% of its count, within one example
    for label in range(10):
        assert abs(np.sum(y[test] == label) - 0.2 * np.sum(y == label)) <= 1
    again, _ = stratified_split(y, 0.2, seed=0)
    other, _ = stratified_split(y, 0.2, seed=1)
    assert np.array_equal(train, again)
    assert not np.array_equal(train, other)


def test_standardisation_uses_training_split_only(raw):
    x, y = raw
    train, test = stratified_split(y, 0.2, seed=0)
    split = load_digits(flat=True, dtype="float64")
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[std == 0] = 1.0
    np.testing.assert_allclose(split.x_train, (x[train] - mean) / std, atol=1e-12)
    np.testing.assert_allclose(split.x_test, (x[test] - mean) / std, atol=1e-12)
    np.testing.assert_allclose(split.x_train.mean(axis=0), 0.0, atol=1e-9)
    # the test split is not re-centred: its own mean is not zero everywhere
    assert np.abs(split.x_test.mean(axis=0)).max() > 0.01


def test_unstandardised_pixels_are_raw(raw):
    x, y = raw
    train, _ = stratified_split(y, 0.2, seed=0)
    split = load_digits(standardize=False, flat=True, dtype="float64")
    assert split.standardizer is None
    np.testing.assert_array_equal(split.x_train, x[train])
    assert split.x_train.max() == 16.0


def test_standardizer_constant_feature_and_shape_error():
    data = np.array([[1.0, 5.0], [3.0, 5.0]])
    scaler = Standardizer.fit(data)
    np.testing.assert_allclose(scaler.transform(data), [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(scaler.inverse(scaler.transform(data)), data)
    with pytest.raises(ValueError, match="shape"):
        scaler.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least one example"):
        Standardizer.fit(np.zeros((0, 2)))


def test_bad_test_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(np.arange(10) % 2, 1.5)


def test_images_use_one_global_mean_and_std(raw):
    x, y = raw
    train, test = stratified_split(y, 0.2, seed=0)
    split = load_digits(dtype="float64")  # images: "global" by default
    mean, std = x[train].mean(), x[train].std()
    np.testing.assert_allclose(split.x_test.reshape(-1, 64), (x[test] - mean) / std, atol=1e-12)
    assert np.abs(split.x_test).max() < 5  # per-pixel scaling would give about 50
    per_feature = load_digits(standardize="feature", dtype="float64")
    assert np.abs(per_feature.x_test).max() > 20
    with pytest.raises(ValueError, match="standardize must be 'feature', 'global'"):
        load_digits(standardize="pixel")
