"""Data: the scikit-learn digits, MNIST IDX files, standardisation, datasets, seeded batches."""

from graphgrad.data.dataset import Dataset, Subset, TensorDataset, default_collate, random_split
from graphgrad.data.digits import DigitsSplit, Standardizer, load_digits, stratified_split
from graphgrad.data.idx import IDXError, load_mnist, read_idx, write_idx
from graphgrad.data.loader import DataLoader, batches, random_shift

__all__ = [
    "DataLoader",
    "Dataset",
    "DigitsSplit",
    "IDXError",
    "Standardizer",
    "Subset",
    "TensorDataset",
    "batches",
    "default_collate",
    "load_digits",
    "load_mnist",
    "random_shift",
    "random_split",
    "read_idx",
    "stratified_split",
    "write_idx",
]
