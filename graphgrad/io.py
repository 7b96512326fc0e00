"""Checkpoints: `save(obj, path)` / `load(path)` in NumPy's `.npz` format, never pickling.

- `save` accepts a `Module` (its `state_dict()`), a `Tensor`, an array, or a (nested) dict of those
  with string keys; nested dicts are stored under ``outer/inner`` keys and restored as dicts.
- The file is written to a temporary file in the same folder, flushed, then renamed over `path`
  (`os.replace`), so a crash never leaves a half-written checkpoint under the real name.
- `load` always uses ``allow_pickle=False``: a file holding pickled objects, a truncated or corrupt
  file, or a file that is not `.npz` raises `CheckpointError` naming the file and the problem.
- ``load(path, into=model)`` checks every name and shape before it assigns anything, so on a
  mismatch the model is left unchanged.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write

__all__ = ["CheckpointError", "load", "save"]

SEPARATOR = "/"


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read (pickled content, truncation, shape mismatch)."""


def _to_numpy(value: Any, key: str) -> np.ndarray:
    data = getattr(value, "data", value)  # a Tensor carries its array in .data
    if type(data).__module__.startswith("numpy") or isinstance(data, (int, float, bool, str)):
        array = np.asarray(data)
    else:
        try:
            from graphgrad.backend import to_numpy
        except ImportError:  # engine not importable: only NumPy arrays can be saved
            array = np.asarray(data)
        else:
            array = np.asarray(to_numpy(data))
    if array.dtype.hasobject:
        raise CheckpointError(
            f"cannot save {key!r}: it is an object array ({type(value).__name__}); graphgrad "
            f"checkpoints hold numeric, boolean or string arrays only and are never pickled"
        )
    return array


def _flatten(obj: Any, prefix: str, out: dict[str, np.ndarray]) -> None:
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            if not isinstance(key, str) or not key or SEPARATOR in key:
                raise CheckpointError(
                    f"checkpoint keys must be non-empty strings without {SEPARATOR!r}, got {key!r}"
                )
            _flatten(value, f"{prefix}{key}{SEPARATOR}", out)
        return
    key = prefix[: -len(SEPARATOR)] if prefix else "array"
    out[key] = _to_numpy(obj, key)


def save(obj: Any, path: str | os.PathLike) -> Path:
    """Write `obj` to `path` as `.npz` atomically (temp file in the same folder + rename).

    Returns the path written. The name is used exactly as given (no suffix is added).
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    _flatten(obj, "", arrays)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CheckpointError(f"cannot save to {path}: folder {folder} does not exist")
    with atomic_write(path, make_parents=False) as handle:
        np.savez(handle, **arrays)
    return path


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, Mapping):  # a bare .npy array
            raise CheckpointError(
                f"{path} is a single .npy array, not a .npz checkpoint written by gg.save"
            )
        with npz:
            arrays = {}
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError as error:
                    if "allow_pickle" in str(error):
                        raise CheckpointError(
                            f"{path}: entry {key!r} holds pickled Python objects; graphgrad "
                            f"never unpickles (that could run arbitrary code). Re-save it with "
                            f"plain numeric arrays"
                        ) from None
                    raise CheckpointError(f"{path}: entry {key!r} is corrupt ({error})") from None
            return arrays
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path} is truncated, corrupt or not an .npz checkpoint ({type(error).__name__}: "
            f"{error})"
        ) from None


def _unflatten(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, array in arrays.items():
        *outer, leaf = key.split(SEPARATOR)
        node = tree
        for part in outer:
            node = node.setdefault(part, {})
        node[leaf] = array
    return tree


def load(path: str | os.PathLike, into: Any = None) -> Any:
    """Read a checkpoint written by `save`: a dict of NumPy arrays (nested dicts restored).

    With ``into=`` (a `Module` or optimizer), the state is passed to ``into.load_state_dict``,
    which validates every name and shape before changing anything, and `into` is returned.
    """
    path = Path(path)
    state = _unflatten(_read(path))
    if into is None:
        return state
    if not hasattr(into, "load_state_dict"):
        raise TypeError(f"into= needs an object with load_state_dict(), got {type(into).__name__}")
    try:
        into.load_state_dict(state)
    except (KeyError, ValueError) as error:
        message = error.args[0] if error.args else str(error)
        raise CheckpointError(f"{path} does not fit {type(into).__name__}: {message}") from None
    return into
