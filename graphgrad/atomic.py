"""Atomic file writing: a file is either the old one or the complete new one, never half-written.

Every writer in graphgrad (checkpoints, figures, diagrams, animations) goes through here: write to
a temporary file in the target's folder, flush it to disk, then rename over the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _default_file_mode() -> int:
    """The mode `open()` would give a new file: 0o666 minus the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", make_parents: bool = True) -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; on success it replaces `path` atomically.

    On any exception the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if make_parents:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    # closed by `with handle` below; its name must outlive it for chmod, replace or unlink
    handle = tempfile.NamedTemporaryFile(mode=mode, dir=folder,  # noqa: SIM115
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, _default_file_mode())  # temporary files are private (0600)
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def atomic_write_bytes(path, data: bytes) -> Path:
    with atomic_write(path) as handle:
        handle.write(data)
    return Path(path)
