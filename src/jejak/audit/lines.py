"""Append-only JSON Lines files that the log commits to, line by line.

A *line source* is a file under the jejak home that its owner only ever appends to, one
decision per line: detect's suppressions of alerts (``alerts/suppressions.jsonl``), and next the
case database's actions. The owner declares its source (:class:`LineSource`: a name, the file,
how a line becomes a log entry) and :class:`jejak.Home` registers it
(``Home.register_line_source``); the ledger itself knows no source by name.

A line may name a subscriber, so, as for records (:mod:`jejak.commitments`), the leaf holds a
keyed commitment, never the line (the default :func:`line_entry`):

    entry = source (ASCII) || 0x20 || SHA-256( store secret || 0x1F || line )

The appends of a source record the file and the first line they cover
(``ledger/appends.json``), so that :func:`verify_lines` re-hashes every line against its leaf
and names a line that was edited or removed. Lines are committed after they are written (by the
store's ``on_commit`` hooks that :class:`jejak.Home` registers, see :meth:`Store.run_commit_hooks`);
a crash in between only delays the commitment to the next writer, which appends every line the
log does not hold yet.

Example::

    >>> SOURCE = LineSource("suppression", Path("alerts") / "suppressions.jsonl")  # doctest: +SKIP
    >>> home.register_line_source(SOURCE)                                         # doctest: +SKIP
    >>> commit_lines(home.log, SOURCE)                                            # doctest: +SKIP
    1
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jejak.commitments import SEPARATOR, store_secret
from jejak.errors import UsageError
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.tiles import TileReader
from jejak.ledger.verify import Problem, Report


def line_entry(source: str, secret: bytes, line: bytes) -> bytes:
    """The default log entry for one line of a source's file (see the module docstring)."""
    return source.encode("ascii") + b" " + hashlib.sha256(secret + SEPARATOR + line).digest()


@dataclass(frozen=True)
class LineSource:
    """An append-only file whose lines the log commits to.

    ``name``: the source's name in the log (ASCII, unique; it starts each entry and names the
    appends in ``ledger/appends.json``); ``path``: the file, relative to the jejak home;
    ``entry``: how a line becomes a log entry, given (name, the store secret, the line's bytes
    without its newline); the default is a keyed commitment (:func:`line_entry`).
    """

    name: str
    path: Path
    entry: Callable[[str, bytes, bytes], bytes] = line_entry

    def __post_init__(self) -> None:
        if not self.name or not self.name.isascii() or " " in self.name:
            raise UsageError("line source", f"name {self.name!r} must be ASCII without spaces")
        if Path(self.path).is_absolute():
            raise UsageError("line source", f"{self.path} must be relative to the jejak home")
        if self.name == "store":
            raise UsageError("line source", "the name 'store' is the store's records")


def _lines(path: Path) -> list[bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    # a last line without its newline is still being written: it is not committed yet
    return [line for line in data.split(b"\n")[:-1] if line.strip()]


def commit_lines(log: Log, source: LineSource) -> int:
    """Append every line of ``source``'s file that the log does not hold yet; return how many."""
    home = log.home
    lines = _lines(home / source.path)
    with log.writer() as w:
        done = sum(a["count"] for a in log.appends() if a.get("source") == source.name)
        todo = lines[done:]
        if not todo:
            return 0
        secret = store_secret(home)
        w.append(
            [source.entry(source.name, secret, line) for line in todo],
            {"source": source.name, "file": str(source.path), "first_line": done},
        )
    return len(todo)


def verify_lines(log: Log, source: LineSource, reader: TileReader, report: Report) -> None:
    """Re-hash every committed line of ``source`` against its leaf; add a problem for each mismatch."""
    path = log.home / source.path
    lines = _lines(path)
    secret = store_secret(log.home)
    for a in log.appends():
        if a.get("source") != source.name:
            continue
        for k in range(a["count"]):
            number, leaf = a["first_line"] + k, a["first"] + k
            if leaf >= reader.size:
                continue
            if number >= len(lines):
                report.problems.append(
                    Problem("deleted", str(path), f"logged line {number + 1} is gone", leaf=leaf)
                )
                continue
            got = M.leaf_hash(source.entry(source.name, secret, lines[number]))
            if got != reader.leaf_hash(leaf):
                report.problems.append(
                    Problem(
                        "edited",
                        str(path),
                        f"line {number + 1} does not match leaf {leaf}",
                        leaf=leaf,
                    )
                )
            report.records += 1


__all__ = ["LineSource", "commit_lines", "line_entry", "verify_lines"]
