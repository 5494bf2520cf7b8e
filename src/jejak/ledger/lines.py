"""Append-only JSON Lines files that the log commits to, line by line: the suppressions of alerts
(``alerts/suppressions.jsonl``), and any later record of who decided what.

A line may name a subscriber, so, as for records (:mod:`jejak.commitments`), the
leaf holds a keyed commitment, never the line:

    entry = source (ASCII) || 0x20 || SHA-256( store secret || 0x1F || line )

The appends of a source record the file and the first line they cover
(``ledger/appends.json``), so that :func:`verify_lines` re-hashes every line
against its leaf and names a line that was edited or removed. Lines are
committed after they are written (:func:`commit_lines`); a crash in between
only delays the commitment to the next call, which appends every line the
log does not hold yet.

Example::

    >>> commit_lines(Path("./jejak-data"), SUPPRESSIONS)   # doctest: +SKIP
    1
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from jejak.commitments import SEPARATOR, store_secret
from jejak.ledger.log import Log

if TYPE_CHECKING:
    from jejak.ledger.tiles import TileReader
    from jejak.ledger.verify import Report

#: source name -> the file, relative to the jejak home
SUPPRESSIONS = "suppression"
FILES = {SUPPRESSIONS: Path("alerts") / "suppressions.jsonl"}


def _lines(path: Path) -> list[bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    # a last line without its newline is still being written: it is not committed yet
    return [line for line in data.split(b"\n")[:-1] if line.strip()]


def line_entry(source: str, secret: bytes, line: bytes) -> bytes:
    """The log entry for one line of a source's file."""
    return source.encode("ascii") + b" " + hashlib.sha256(secret + SEPARATOR + line).digest()


def commit_lines(home: Path, source: str) -> int:
    """Append every line of ``source``'s file that the log does not hold yet; return how many."""
    home = Path(home)
    rel = FILES[source]
    lines = _lines(home / rel)
    log = Log(home)
    with log.writer() as w:
        done = sum(a["count"] for a in log.appends() if a.get("source") == source)
        todo = lines[done:]
        if not todo:
            return 0
        secret = store_secret(home)
        w.append(
            [line_entry(source, secret, line) for line in todo],
            {"source": source, "file": str(rel), "first_line": done},
        )
    return len(todo)


def verify_lines(home: Path, source: str, reader: TileReader, report: Report) -> None:
    """Re-hash every committed line of ``source`` against its leaf; add a problem for each mismatch."""
    from jejak.ledger import merkle as M
    from jejak.ledger.verify import Problem

    home = Path(home)
    rel = FILES[source]
    path = home / rel
    lines = _lines(path)
    secret = store_secret(home)
    log = Log(home)
    for a in log.appends():
        if a.get("source") != source:
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
            got = M.leaf_hash(line_entry(source, secret, lines[number]))
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
