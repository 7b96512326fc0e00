"""Atomic file writing: a file is either the old one or the complete new one, never half-written.

Every writer in graphgrad (checkpoints, figures, diagrams, animations) goes through here: write to
a temporary file in the target's folder, flush it to disk, then rename over the target.

A process killed mid-write (SIGKILL, power loss) leaves its temporary file behind. Temporary files
carry a marker (`TEMP_MARKER`) and are locked (`flock`) while written, so the next write into
the same folder can tell graphgrad's abandoned ones from another process's write in progress and
remove only the abandoned ones (`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # not on POSIX: no locks, so stale files are only recognised by their age
    fcntl = None  # type: ignore[assignment]  # (checked with `fcntl is None` before each use)

__all__ = ["STALE_AFTER_S", "TEMP_MARKER", "atomic_write", "atomic_write_bytes",
           "remove_stale_temporaries"]

TEMP_MARKER = ".graphgrad-"
# tempfile's names: "." + target name + marker + 8 random characters + ".tmp"
_TEMP_NAME = re.compile(r"\..+" + re.escape(TEMP_MARKER) + r"[a-z0-9_]{8}\.tmp")
# a temporary file younger than this is never removed: it may be in the instant between its
# creation and its lock (and without locks, in use at all)
STALE_AFTER_S = 60.0 if fcntl is not None else 24 * 3600.0


def _default_file_mode() -> int:
    """The mode `open()` would give a new file: 0o666 minus the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _lock(handle: IO, blocking: bool) -> bool:
    """An exclusive `flock` on `handle`; False if another open file holds one."""
    if fcntl is None:
        return not blocking
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:  # held by someone (EWOULDBLOCK), or no locks on this file system
        return False
    return True


def remove_stale_temporaries(folder: str | os.PathLike,
                             older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete graphgrad's abandoned temporary files in `folder`; return the paths removed.

    Only names of graphgrad's pattern count, only ones last modified over `older_than_s` seconds
    ago, and only ones nobody holds locked (a write in progress holds its lock until the rename;
    a killed process's lock dies with it). Errors (a file vanishing meanwhile, no permission) are
    ignored: cleaning up must never make a write fail.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        names = [n for n in os.listdir(folder) if _TEMP_NAME.fullmatch(n)]
    except OSError:
        return removed
    for name in names:
        candidate = Path(folder) / name
        try:
            if now - candidate.stat().st_mtime < older_than_s:
                continue
            with open(candidate, "rb") as handle:
                if _lock(handle, blocking=False):
                    candidate.unlink()  # still locked by us, so no writer can be inside it
                    removed.append(candidate)
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb",
                 make_parents: bool = True) -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; on success it replaces `path` atomically.

    On any exception the temporary file is removed and `path` is left as it was. Abandoned
    temporary files of earlier, killed writes into the same folder are removed first.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if make_parents:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    remove_stale_temporaries(folder)
    # closed by `with handle` below; its name must outlive it for chmod, replace or unlink
    handle = tempfile.NamedTemporaryFile(mode=mode, dir=folder,  # noqa: SIM115
                                         prefix=f".{path.name}{TEMP_MARKER}", suffix=".tmp",
                                         delete=False)
    try:
        with handle:
            _lock(handle, blocking=True)  # held until closed: marks the file as in use
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(handle.name, _default_file_mode())  # temporary files are private (0600)
            os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_write(path) as handle:
        handle.write(data)
    return Path(path)
