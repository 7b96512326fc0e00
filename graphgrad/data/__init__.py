"""Data: the scikit-learn digits, MNIST IDX files, standardisation, seeded batches."""

from graphgrad.data.digits import DigitsSplit, Standardizer, load_digits, stratified_split
from graphgrad.data.idx import IDXError, load_mnist, read_idx, write_idx
from graphgrad.data.loader import DataLoader, batches, random_shift

__all__ = [
    "DataLoader",
    "DigitsSplit",
    "IDXError",
    "Standardizer",
    "batches",
    "load_digits",
    "load_mnist",
    "random_shift",
    "read_idx",
    "stratified_split",
    "write_idx",
]
