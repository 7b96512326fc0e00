"""Reader for MNIST's IDX files (the files you already have; graphgrad downloads nothing).

IDX layout (big-endian): two zero bytes, a type byte, the number of dimensions, one uint32 per
dimension, then the values in C order. Files may be gzip-compressed (`*.gz`, as MNIST ships).
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from graphgrad.atomic import atomic_write_bytes
from graphgrad.errors import GraphgradError

__all__ = ["IDXError", "load_mnist", "read_idx", "write_idx"]

# type byte -> big-endian NumPy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_OF = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}


class IDXError(GraphgradError, ValueError):
    """A file is not a well-formed IDX file."""


def _read_bytes(path: str | os.PathLike) -> bytes:
    path = Path(path)
    with open(path, "rb") as raw:
        head = raw.read(2)
        raw.seek(0)
        if head == b"\x1f\x8b":  # gzip magic, whatever the file is called
            try:
                return gzip.decompress(raw.read())
            except (OSError, EOFError) as error:
                raise IDXError(f"{path}: gzip data is corrupt or truncated ({error})") from None
        return raw.read()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (plain or gzip) into a native-endian NumPy array of its stored shape."""
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXError(f"{path}: {len(data)} bytes is too short for an IDX header (4 bytes)")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES:
        valid = ", ".join(f"0x{code:02X} ({dtype.name})" for code, dtype in IDX_TYPES.items())
        raise IDXError(
            f"{path}: bad magic number 0x{data[:4].hex().upper()}; an IDX file starts with two "
            f"zero bytes, then a type byte among {valid}, then the number of dimensions"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXError(
            f"{path}: truncated header: {ndim} dimensions need {header_size} bytes, "
            f"the file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(data) - header_size
    if body != expected:
        problem = "truncated" if body < expected else "has trailing bytes"
        raise IDXError(
            f"{path}: {problem}: shape {shape} of {dtype.name} needs {expected} data bytes, "
            f"found {body}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file (uint8, int8, int16, int32, float32 or float64).

    A name ending in ``.gz`` is gzip-compressed. The file is written atomically (temporary file
    + rename), so an interrupted write never leaves a truncated file under the real name.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _TYPE_OF:
        valid = ", ".join(dtype.name for dtype in IDX_TYPES.values())
        raise IDXError(f"IDX cannot store dtype {array.dtype}; valid dtypes: {valid}")
    code = _TYPE_OF[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)  # mtime=0: the same array gives the same file
    atomic_write_bytes(path, payload)


def _find(directory: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")  # some mirrors name them train-images.idx3-ubyte
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(
        f"no {stem}[.gz] in {directory}; graphgrad reads MNIST's IDX files but does not download "
        f"them"
    )


def load_mnist(
    directory: str | os.PathLike, split: str = "train", *, images_dtype: str = "float32"
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images (N, 1, 28, 28) scaled to [0, 1] and int64 labels (N,) from a directory.

    ``split`` is ``"train"`` (train-images-idx3-ubyte, train-labels-idx1-ubyte) or ``"test"``
    (t10k-...). Files may be gzip-compressed.
    """
    prefixes = {"train": "train", "test": "t10k"}
    if split not in prefixes:
        raise ValueError(f"split must be one of {sorted(prefixes)}, got {split!r}")
    directory = Path(directory)
    prefix = prefixes[split]
    images = read_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1:
        raise IDXError(
            f"expected images of shape (N, rows, cols) and labels of shape (N,), "
            f"got {images.shape} and {labels.shape}"
        )
    if len(images) != len(labels):
        raise IDXError(f"{len(images)} images but {len(labels)} labels in {directory}")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    x = (images.astype(images_dtype) / scale)[:, None, :, :]
    return x, labels.astype(np.int64)
