"""Checkpoints: `save(obj, path)` / `load(path)` in NumPy's `.npz` format, never pickling.

- `save` accepts a `Module` (its `state_dict()`), a `Tensor`, an array, or a (nested) dict of those
  with string keys; nested dicts are stored under ``outer/inner`` keys and restored as dicts. Any
  non-empty key without ``/`` (the nesting separator) and NUL (zip names end there) round-trips.
- The file is written to a temporary file in the same folder, flushed, then renamed over `path`
  (`os.replace`), so a crash never leaves a half-written checkpoint under the real name; the
  temporary files that killed saves left behind are removed by the next save into that folder.
- `load` is a reader with a budget. Before it decompresses any array it checks every zip member:
  a `.npy` name that nests cleanly, a plain compression method, a strictly parsed header whose
  shape and dtype (numeric, boolean or fixed-width string: never objects, so never unpickling)
  account for exactly the member's size in the zip directory, the sizes summed against
  ``max_bytes``, and each member's (and the file's) compression ratio against ``max_ratio``.
  It then reads each member with a bounded decompressor and checks its CRC-32.
  Anything malformed raises `CheckpointError` naming the file and the member.
- ``load(path, into=model)`` checks every name and shape before it assigns anything, so on a
  mismatch the model is left unchanged.

Why `.npz` and not safetensors: the files stay readable by a plain ``np.load`` and by every
checkpoint written so far, with no new dependency; the checks above give the same guarantees
safetensors' format gives (no code, bounded header, sizes checked against the file) plus a CRC.
"""

from __future__ import annotations

import ast
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .atomic import atomic_write
from .errors import GraphgradError

__all__ = ["DEFAULT_MAX_BYTES", "CheckpointError", "load", "save"]

SEPARATOR = "/"
SUFFIX = ".npy"
# generous for the models graphgrad trains; load(max_bytes=) to change
DEFAULT_MAX_BYTES = 4 * 2**30
MAX_HEADER_BYTES = 10_000  # NumPy's own limit on a .npy header
# A deflate bomb: a few MiB that inflate to GiB, inside the byte budget. Real weights deflate 1.1
# to ~10x and gg.save stores them uncompressed (1x); only near-constant data (zeros) reaches
# deflate's ceiling of ~1032x. So a member, or the whole file, is refused only when it unpacks
# to more than DEFAULT_MAX_RATIO times its compressed size AND to more than RATIO_FLOOR_BYTES:
# a model of zeros up to 256 MiB still loads, and no file makes load allocate more than
# max(256 MiB, 100x its own size). load(max_ratio=None) lifts it for a trusted file.
DEFAULT_MAX_RATIO = 100.0
RATIO_FLOOR_BYTES = 256 * 2**20
_MAGIC = b"\x93NUMPY"
_KINDS = "biufcSU"  # bool, ints, floats, complex, fixed-width bytes and str: no objects, no records
_CHUNK = 1 << 20
# what zipfile, zlib and struct raise on damaged input (RuntimeError: the encrypted flag;
# NotImplementedError: compression methods; EOFError, struct.error: truncation)
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, OSError,
           ValueError, RuntimeError, NotImplementedError, OverflowError, IndexError, KeyError)
_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same state always gives the same bytes


class CheckpointError(GraphgradError, ValueError):
    """A checkpoint cannot be written or read (pickled content, truncation, shape mismatch)."""


# ----------------------------------------------------------------------------------- save
def _to_numpy(value: Any, key: str) -> np.ndarray:
    data = getattr(value, "data", value)  # a Tensor carries its array in .data
    if type(data).__module__.startswith("numpy") or isinstance(data, (int, float, bool, str)):
        array = np.asarray(data)
    else:
        from graphgrad.backend import to_numpy

        array = np.asarray(to_numpy(data))
    if array.dtype.hasobject or array.dtype.kind not in _KINDS:
        raise CheckpointError(
            f"cannot save {key!r}: it is an array of dtype {array.dtype} "
            f"({'an object array, ' if array.dtype.hasobject else ''}{type(value).__name__}); "
            f"graphgrad checkpoints hold numeric, boolean or string arrays only and are never "
            f"pickled"
        )
    return array


def _check_key(key: Any) -> None:
    if isinstance(key, str) and key and SEPARATOR not in key and "\x00" not in key:
        try:
            key.encode("utf-8")
            return
        except UnicodeEncodeError:
            pass
    raise CheckpointError(
        f"checkpoint keys must be non-empty strings without {SEPARATOR!r} (it nests) or NUL, "
        f"encodable as UTF-8; got {key!r}"
    )


def _flatten(obj: Any, prefix: str, out: dict[str, np.ndarray]) -> None:
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            _check_key(key)
            _flatten(value, f"{prefix}{key}{SEPARATOR}", out)
        return
    key = prefix[: -len(SEPARATOR)] if prefix else "array"
    out[key] = _to_numpy(obj, key)


def _write_npz(handle, arrays: dict[str, np.ndarray]) -> None:
    """The zip NumPy's `savez` writes, member by member (savez's keywords would swallow keys
    such as ``allow_pickle`` or ``file``)."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(key + SUFFIX, date_time=_DATE)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


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
        _write_npz(handle, arrays)
    return path


# ----------------------------------------------------------------------------------- load
class _Member(NamedTuple):
    key: str
    info: zipfile.ZipInfo
    offset: int  # bytes of magic and header before the data
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool


def _read_exactly(stream, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise EOFError(f"{len(data)} bytes where {count} were expected")
    return data


def _parse_header(text: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    """A .npy header dict, strictly: a literal with exactly NumPy's three keys, no code."""
    try:
        header = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
        raise ValueError(f"the header is not a Python literal ({type(error).__name__})") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"the header is not a .npy header dict: {text.strip()[:80]!r}")
    descr, shape, fortran_order = header["descr"], header["shape"], header["fortran_order"]
    if not isinstance(descr, str):
        raise ValueError(f"dtype {descr!r} is a record type, not a plain array dtype")
    if not (isinstance(shape, tuple) and len(shape) <= 64
            and all(type(n) is int and n >= 0 for n in shape)):
        raise ValueError(f"shape {shape!r} is not a tuple of non-negative integers")
    if type(fortran_order) is not bool:
        raise ValueError(f"fortran_order {fortran_order!r} is not True or False")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError, SyntaxError) as error:
        raise ValueError(f"dtype {descr!r} is not a NumPy dtype ({error})") from None
    # NumPy refuses a shape whose non-zero sizes multiply past its index range, even when a 0
    # makes the array empty: say so here rather than let reshape fail with a bare ValueError
    if math.prod(n for n in shape if n) * max(dtype.itemsize, 1) > np.iinfo(np.intp).max:
        raise ValueError(f"shape {shape!r} of {dtype} is larger than any array NumPy can hold")
    return dtype, shape, fortran_order


def _check_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Member:
    name = info.filename
    key = name[: -len(SUFFIX)]
    if info.flag_bits & 0x1:
        raise CheckpointError(f"{path}: member {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise CheckpointError(f"{path}: member {name!r} uses compression method "
                              f"{info.compress_type}; only stored and deflated members are read")
    try:
        with archive.open(info) as stream:  # reads at most the header: bounded
            magic = _read_exactly(stream, 8)
            if magic[:6] != _MAGIC or magic[6] not in (1, 2, 3) or magic[7] != 0:
                raise ValueError(f"it does not start with the .npy magic (got {magic!r})")
            size_format = "<H" if magic[6] == 1 else "<I"
            raw_length = _read_exactly(stream, struct.calcsize(size_format))
            (length,) = struct.unpack(size_format, raw_length)
            if length > MAX_HEADER_BYTES:
                raise ValueError(f"its header claims {length} bytes (at most {MAX_HEADER_BYTES})")
            raw = _read_exactly(stream, length)
        dtype, shape, fortran_order = _parse_header(
            raw.decode("utf-8" if magic[6] == 3 else "latin1"))
    except _DAMAGE as error:
        raise CheckpointError(f"{path}: member {name!r} is not a valid .npy array "
                              f"({type(error).__name__}: {error})") from None
    if dtype.hasobject:
        raise CheckpointError(
            f"{path}: entry {key!r} holds pickled Python objects (member {name!r}, dtype "
            f"{dtype}); graphgrad never unpickles (that could run arbitrary code). Re-save it "
            f"with plain numeric arrays")
    if dtype.kind not in _KINDS or dtype.itemsize == 0:
        raise CheckpointError(f"{path}: member {name!r} has dtype {dtype}; checkpoints hold "
                              f"numeric, boolean or fixed-width string arrays only")
    offset = len(magic) + len(raw_length) + length
    declared = offset + math.prod(shape) * dtype.itemsize
    if declared != info.file_size:
        raise CheckpointError(
            f"{path}: member {name!r} declares shape {shape} of {dtype} ({declared} bytes with "
            f"its header), but the zip directory gives it {info.file_size} bytes")
    return _Member(key, info, offset, dtype, shape, fortran_order)


def _check_names(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    keys = set()
    for info in infos:
        name = info.filename
        if not name.endswith(SUFFIX):
            raise CheckpointError(f"{path}: member {name!r} is not a .npy array; a graphgrad "
                                  f"checkpoint holds .npy members only")
        key = name[: -len(SUFFIX)]
        if "" in key.split(SEPARATOR):
            raise CheckpointError(f"{path}: member {name!r} has an empty name part")
        if key in keys:
            raise CheckpointError(f"{path}: member {name!r} appears twice")
        keys.add(key)
    for key in keys:
        parts = key.split(SEPARATOR)
        for end in range(1, len(parts)):
            if SEPARATOR.join(parts[:end]) in keys:
                raise CheckpointError(
                    f"{path}: member {key + SUFFIX!r} lies inside "
                    f"{SEPARATOR.join(parts[:end]) + SUFFIX!r}, which is an array, not a folder")


def _read_member(path: Path, archive: zipfile.ZipFile, member: _Member) -> np.ndarray:
    """The member's array, decompressed at most `_CHUNK` bytes at a time, never past its
    declared size; zipfile checks the CRC-32 when the last byte has come out."""
    size = member.info.file_size - member.offset
    buffer = bytearray(size)
    view = memoryview(buffer)
    try:
        with archive.open(member.info) as stream:
            _read_exactly(stream, member.offset)
            done = 0
            while done < size:
                chunk = stream.read(min(_CHUNK, size - done))
                if not chunk:
                    raise EOFError(f"the data ends after {done} of {size} bytes")
                view[done:done + len(chunk)] = chunk
                done += len(chunk)
            if stream.read(1):
                raise ValueError("more data than its size in the zip directory")
    except _DAMAGE as error:
        raise CheckpointError(f"{path}: member {member.info.filename!r} is damaged "
                              f"({type(error).__name__}: {error})") from None
    flat = np.frombuffer(buffer, dtype=member.dtype)
    if member.fortran_order:
        return flat.reshape(member.shape[::-1]).transpose()
    return flat.reshape(member.shape)


def _check_entry_count(path: Path, file, found: int) -> None:
    """The end-of-directory record's count must match the entries zipfile read (a damaged
    directory size can make it read fewer)."""
    file.seek(0, os.SEEK_END)
    end = file.tell()
    file.seek(max(0, end - 65_557))  # the record (22 bytes) plus the longest comment
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # zipfile read the directory some other way (zip64 only): trust its checks
    entries = struct.unpack("<H", tail[at + 10: at + 12])[0]
    if entries != 0xFFFF and entries != found:
        raise CheckpointError(f"{path}: the zip directory lists {entries} members, but "
                              f"{found} could be read")


def _check_ratio(path: Path, infos: list[zipfile.ZipInfo], max_ratio: float | None) -> None:
    """Refuse a deflate bomb from the zip directory alone, before anything is inflated: one
    member, or all of them together (a bomb split into many members), unpacking to more than
    `max_ratio` times its compressed size and more than `RATIO_FLOOR_BYTES`."""
    if max_ratio is None or not infos:
        return

    def ratio(unpacked: int, packed: int) -> float:
        return unpacked / max(packed, 1)

    worst = max(infos, key=lambda info: ratio(info.file_size, info.compress_size))
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    single = worst.file_size > RATIO_FLOOR_BYTES and \
        ratio(worst.file_size, worst.compress_size) > max_ratio
    if single or total > RATIO_FLOOR_BYTES and ratio(total, packed) > max_ratio:
        scope = "" if single else (f"; all {len(infos)} members together unpack {total} bytes "
                                   f"from {packed}")
        raise CheckpointError(
            f"{path}: member {worst.filename!r} would unpack {worst.file_size} bytes from "
            f"{worst.compress_size} compressed ({ratio(worst.file_size, worst.compress_size):.0f}x)"
            f"{scope}: over max_ratio={max_ratio:g} and over {RATIO_FLOOR_BYTES} bytes, so it "
            f"looks like a deflate bomb; pass max_ratio=None to gg.load if the file is trusted")


def _read(path: Path, max_bytes: int, max_ratio: float | None = DEFAULT_MAX_RATIO
          ) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as file:
        if file.read(len(_MAGIC)) == _MAGIC:
            raise CheckpointError(
                f"{path} is a single .npy array, not a .npz checkpoint written by gg.save")
        file.seek(0)
        try:
            archive = zipfile.ZipFile(file)
            infos = archive.infolist()
            _check_entry_count(path, file, len(infos))
        except CheckpointError:
            raise
        except _DAMAGE as error:
            raise CheckpointError(
                f"{path} is truncated, corrupt or not an .npz checkpoint ({type(error).__name__}: "
                f"{error})") from None
        with archive:
            _check_names(path, infos)
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                largest = max(infos, key=lambda info: info.file_size)
                raise CheckpointError(
                    f"{path} would take {total} bytes to load (the largest member, "
                    f"{largest.filename!r}, {largest.file_size}), over max_bytes={max_bytes}; "
                    f"pass a larger max_bytes= to gg.load if the file is trusted")
            _check_ratio(path, infos, max_ratio)
            members = [_check_member(path, archive, info) for info in infos]
            return {member.key: _read_member(path, archive, member) for member in members}


def _unflatten(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, array in arrays.items():
        *outer, leaf = key.split(SEPARATOR)
        node = tree
        for part in outer:
            node = node.setdefault(part, {})
        node[leaf] = array
    return tree


def load(path: str | os.PathLike, into: Any = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
         max_ratio: float | None = DEFAULT_MAX_RATIO) -> Any:
    """Read a checkpoint written by `save`: a dict of NumPy arrays (nested dicts restored).

    ``max_bytes`` bounds the memory the arrays may take (checked before anything is read);
    ``max_ratio`` refuses a deflate bomb, a member (or the file) unpacking to over that many
    times its compressed size and over 256 MiB (None: no ratio limit). With ``into=`` (a
    `Module` or optimizer), the state is passed to ``into.load_state_dict``, which validates
    every name and shape before changing anything, and `into` is returned.
    """
    if type(max_bytes) is not int or max_bytes < 0:
        raise ValueError(f"load: max_bytes must be a non-negative int, got {max_bytes!r}")
    if max_ratio is not None and (isinstance(max_ratio, bool) or
                                  not isinstance(max_ratio, (int, float)) or not max_ratio >= 1):
        raise ValueError(f"load: max_ratio must be a number >= 1 or None, got {max_ratio!r}")
    path = Path(path)
    state = _unflatten(_read(path, max_bytes, max_ratio))
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
