"""Durable file operations: the one place jejak writes a file that must survive a crash.

A crash (power loss, ``kill -9``) at any moment leaves either the old file or the new one,
never half of one: the new content goes to a temporary name in the same folder, is fsynced,
renamed over the old one (``rename(2)`` is atomic within a file system), and the folder is
fsynced so that the rename itself is durable. Appends of a line are fsynced before returning.

``crash_point(name)`` kills the process where it is called when the setting ``crash_at`` (the
environment variable ``JEJAK_CRASH_AT``) names it, as ``kill -9`` would; the crash tests use it
to stop a writer between two steps.

Example::

    >>> write_atomic(Path("/tmp/x.json"), b"{}")      # doctest: +SKIP
    >>> append_line(Path("/tmp/x.jsonl"), '{"a": 1}')  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jejak.settings import settings


def crash_point(name: str) -> None:
    """For the crash tests: ``JEJAK_CRASH_AT=<name>`` kills the process here, as kill -9 would."""
    if settings().crash_at == name:
        os.kill(os.getpid(), 9)


def fsync_file(path: Path) -> None:
    """Flush one file's content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (names created, renamed or removed in it) to disk."""
    fsync_file(path)


def fsync_tree(root: Path) -> None:
    """fsync every file below ``root`` and the folders that hold them."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def temp_beside(path: Path) -> Path:
    """A temporary name beside ``path`` that no other process uses (pid and random part), for
    writers that may run at the same time (two ``jejak detect`` runs replace the same file)."""
    return path.with_name(f"{path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")


def replace(tmp: Path, path: Path, *, sync_folder: bool = True) -> None:
    """Move the finished file ``tmp`` over ``path``: fsync it, rename, fsync the folder."""
    fsync_file(tmp)
    os.replace(tmp, path)
    if sync_folder:
        fsync_dir(path.parent)


def write_atomic(
    path: Path, data: bytes, *, mode: int = 0o644, sync_folder: bool = True, mkdir: bool = False
) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file.

    ``sync_folder=False`` leaves the folder's fsync to a caller that writes many files in it;
    ``mkdir=True`` creates the folder first.
    """
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync_folder:
        fsync_dir(path.parent)


def write_json_atomic(path: Path, data: Any) -> None:
    """:func:`write_atomic` of ``data`` as JSON (indent 1, keys sorted)."""
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())


def append_line(path: Path, line: str) -> None:
    """Append one line (a newline is added) and fsync it before returning."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


__all__ = [
    "append_line",
    "crash_point",
    "fsync_dir",
    "fsync_file",
    "fsync_tree",
    "replace",
    "temp_beside",
    "write_atomic",
    "write_json_atomic",
]
