"""The 8x8 handwritten digits bundled with scikit-learn (1,797 images, no network needed).

`load_digits()` gives the split every graphgrad example and test uses: stratified, 80/20, seed 0,
standardised with the mean and standard deviation of the *training* split only (the lecture's
``X -= np.mean(X, axis=0); X /= np.std(X, axis=0)``, applied without peeking at the test set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DigitsSplit", "Standardizer", "load_digits", "stratified_split"]


@dataclass(frozen=True)
class Standardizer:
    """Per-feature mean/std learned from one array (the training split), applied to any other.

    Features with zero spread (the digits' always-blank corner pixels) get a std of 1, so they map
    to 0 instead of dividing by zero.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, axis: int | tuple[int, ...] | None = 0) -> Standardizer:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(
                f"Standardizer.fit needs at least one example along axis 0, got shape {x.shape}"
            )
        mean = x.mean(axis=axis, keepdims=True)
        std = x.std(axis=axis, keepdims=True)
        std = np.where(std > 0, std, 1.0)
        return cls(mean=mean, std=std)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        try:
            fits = np.broadcast_shapes(x.shape, self.mean.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"Standardizer was fitted on examples of shape {self.mean.shape[1:]}, "
                f"got an array of shape {x.shape}"
            )
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return ((x - self.mean) / self.std).astype(dtype, copy=False)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x) * self.std + self.mean


@dataclass(frozen=True)
class DigitsSplit:
    """Train/test arrays of the digits. Images are (N, 1, 8, 8) NCHW, or (N, 64) when flat."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    standardizer: Standardizer | None

    @property
    def num_classes(self) -> int:
        return 10

    def __iter__(self):  # allows `x_train, y_train, x_test, y_test = load_digits()`
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))


def stratified_split(
    y: np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with every class split in the same proportion, reproducibly.

    Uses scikit-learn's `train_test_split(stratify=y, random_state=seed)`, the split people compare
    results on.
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    y = np.asarray(y)
    index = np.arange(len(y))
    train, test = train_test_split(
        index, test_size=test_fraction, stratify=y, random_state=seed, shuffle=True
    )
    return np.sort(train), np.sort(test)


def load_digits(
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    standardize: bool | str = True,
    flat: bool = False,
    dtype: str | np.dtype = "float32",
) -> DigitsSplit:
    """The digits, split stratified 80/20 with `seed`, standardised from the training split only.

    ``flat=False`` gives NCHW images (N, 1, 8, 8) for conv nets; ``flat=True`` gives (N, 64) rows
    for fully connected nets. Labels are int64 in 0..9. Pixel values are 0..16 before scaling.

    ``standardize``: ``"feature"`` (the lecture's per-column ``X -= mean; X /= std``), ``"global"``
    (one mean and std over all pixels: keeps an image's spatial contrast, what a conv net wants;
    per-pixel scaling blows the rarely inked border pixels up to 50 standard deviations), ``True``
    (``"global"`` for images, ``"feature"`` for flat rows) or ``False`` (raw 0..16).
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = bunch.data.astype(np.float64)  # (1797, 64)
    y = bunch.target.astype(np.int64)
    train, test = stratified_split(y, test_fraction, seed)
    x_train, x_test = x[train], x[test]
    modes = {True: "feature" if flat else "global", "feature": "feature", "global": "global"}
    if standardize is not False and standardize not in modes:
        raise ValueError(
            f"standardize must be 'feature', 'global', True or False, got {standardize!r}"
        )
    standardizer = None
    if standardize is not False:
        axis = 0 if modes[standardize] == "feature" else None
        standardizer = Standardizer.fit(x_train, axis=axis)
        x_train, x_test = standardizer.transform(x_train), standardizer.transform(x_test)
    if not flat:
        x_train = x_train.reshape(-1, 1, 8, 8)
        x_test = x_test.reshape(-1, 1, 8, 8)
    return DigitsSplit(
        x_train=np.ascontiguousarray(x_train, dtype=dtype),
        y_train=y[train],
        x_test=np.ascontiguousarray(x_test, dtype=dtype),
        y_test=y[test],
        standardizer=standardizer,
    )
