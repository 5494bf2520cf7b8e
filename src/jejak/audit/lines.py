"""Append-only JSON Lines files that the log commits to, line by line.

A *line source* is a file under the jejak home that its owner only ever appends to, one
decision per line: detect's suppressions of alerts (``alerts/suppressions.jsonl``), and next the
case database's actions. The owner declares its source (:class:`LineSource`: a name, the file,
how a line becomes a log entry) and :class:`jejak.Home` registers it
(``Home.register_line_source``); the ledger itself knows no source by name.

A line may name a subscriber, so, as for records (:mod:`jejak.commitments`), the leaf holds a
keyed commitment, never the line (the default :func:`line_entry`):

    entry = source (ASCII) || 0x20 || SHA-256( store secret || 0x1F || line )

**Every line file is its log.** A new line is added with :func:`add_line`:
it waits in ``<file>.pending`` until the store's commit hooks (that
:class:`jejak.Home` registers) append it to the log, and only then to the file
(:func:`commit_lines`; a crash in between is finished by the next writer). The
appends of a source record the file and the first line they cover
(``ledger/appends.jsonl``), so that :func:`verify_lines` re-hashes every line
against its leaf and names a line that was edited or removed, and a line in the
file that no append covers (*unlogged*: written straight into the file, e.g. a
backdated suppression): nothing ever commits such a line.

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

from jejak import fsio
from jejak.commitments import SEPARATOR, store_secret
from jejak.errors import UsageError
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.tiles import TileReader
from jejak.ledger.verify import Problem, Report
from jejak.store import Store


def line_entry(source: str, secret: bytes, line: bytes) -> bytes:
    """The default log entry for one line of a source's file (see the module docstring)."""
    return source.encode("ascii") + b" " + hashlib.sha256(secret + SEPARATOR + line).digest()


@dataclass(frozen=True)
class LineSource:
    """An append-only file whose lines the log commits to.

    ``name``: the source's name in the log (ASCII, unique; it starts each entry and names the
    appends in ``ledger/appends.jsonl``); ``path``: the file, relative to the jejak home;
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


def pending_path(home: Path, source: LineSource) -> Path:
    """Where a new line waits for the log: ``<file>.pending`` (see :func:`add_line`)."""
    path = Path(home) / source.path
    return path.with_name(path.name + ".pending")


def add_line(store: Store, source: LineSource, line: str) -> None:
    """Add one line to ``source``'s file, the log first.

    Under the store's writer lock the line goes to ``<file>.pending`` (fsynced);
    the store's commit hooks (:class:`jejak.Home` registers :func:`commit_lines`)
    then append it to the log and only after that to the file. A line written
    into the file by any other means is never committed: ``verify`` names it
    *unlogged* (a backdated decision).
    """
    if "\n" in line or not line.strip():
        raise UsageError("line", "a line-file line is one non-empty line")
    with store.writer():
        path = pending_path(store.home, source)
        path.parent.mkdir(parents=True, exist_ok=True)
        fsio.append_line(path, line)
        store.run_commit_hooks()


def _append_to_file(path: Path, lines: list[bytes]) -> None:
    """Append ``lines`` to ``path`` (dropping a torn, unterminated last line first), fsynced."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    path.parent.mkdir(parents=True, exist_ok=True)
    fsio.write_atomic(path, data + b"".join(line + b"\n" for line in lines))


def commit_lines(log: Log, source: LineSource) -> int:
    """Move the lines waiting in ``<file>.pending`` into the log, then into the file; how many.

    Only lines that went through :func:`add_line` are ever committed. The
    steps: append them to the log (one append recording the file and its first
    line number), append them to the file, delete the pending file. A crash
    after the log took them is finished here: the log's last append of the
    source already holds exactly these lines, so only the file is written.
    """
    home = log.home
    pending = pending_path(home, source)
    waiting = _lines(pending)
    if not waiting:
        return 0
    path = home / source.path
    secret = store_secret(home)
    entries = [source.entry(source.name, secret, line) for line in waiting]
    with log.writer() as w:
        lines = _lines(path)
        mine = [a for a in log.appends() if a.get("source") == source.name]
        last = mine[-1] if mine else None
        if last is not None and last["first_line"] + last["count"] > len(lines):
            # the log holds lines the file does not: a crash between the two steps
            done = (
                last["first_line"] == len(lines)
                and last["count"] == len(waiting)
                and [log.entry(last["first"] + k) for k in range(last["count"])] == entries
            )
            if not done:
                return 0  # not ours to repair: verify names the lines that are gone
        else:
            w.append(
                entries, {"source": source.name, "file": str(source.path), "first_line": len(lines)}
            )
            fsio.crash_point("lines-after-log")
        _append_to_file(path, waiting)
        pending.unlink()
        fsio.fsync_dir(pending.parent)
    return len(waiting)


def logged_lines(log: Log, source: LineSource) -> list[tuple[int, int, bytes]]:
    """(line number, leaf, line) of every line of ``source``'s file that the log holds."""
    lines = _lines(log.home / source.path)
    out = []
    for a in log.appends():
        if a.get("source") != source.name:
            continue
        for k in range(a["count"]):
            number = a["first_line"] + k
            if number < len(lines):
                out.append((number, a["first"] + k, lines[number]))
    return out


def verify_lines(
    log: Log,
    source: LineSource,
    reader: TileReader,
    report: Report,
    redacted: dict[int, str] | None = None,
) -> None:
    """Every line file is its log: re-hash each logged line against its leaf, name a logged line
    that is gone and a line of the file that the log does not hold (*unlogged*).

    ``redacted``: leaf -> commitment (hex) of a line an erasure entry rewrote without the
    subscriber's number (:mod:`jejak.audit.erasure`); such a line may match either.
    """
    path = log.home / source.path
    lines = _lines(path)
    secret = store_secret(log.home)
    redacted = redacted or {}
    waiting = len(_lines(pending_path(log.home, source)))
    covered: set[int] = set()
    for a in log.appends():
        if a.get("source") != source.name:
            continue
        for k in range(a["count"]):
            number, leaf = a["first_line"] + k, a["first"] + k
            if leaf >= reader.size:
                continue
            covered.add(number)
            if number >= len(lines):
                if number >= len(lines) + waiting:  # else: a crashed commit, finished next time
                    report.problems.append(
                        Problem(
                            "deleted", str(path), f"logged line {number + 1} is gone", leaf=leaf
                        )
                    )
                continue
            ok = M.leaf_hash(source.entry(source.name, secret, lines[number])) == reader.leaf_hash(
                leaf
            )
            if not ok and leaf in redacted:
                digest = hashlib.sha256(secret + SEPARATOR + lines[number]).hexdigest()
                ok = digest == redacted[leaf]
            if not ok:
                report.problems.append(
                    Problem(
                        "edited",
                        str(path),
                        f"line {number + 1} does not match leaf {leaf}",
                        leaf=leaf,
                    )
                )
            report.records += 1
    for number in range(len(lines)):
        if number not in covered:
            report.problems.append(
                Problem(
                    "unlogged",
                    str(path),
                    f"line {number + 1} is not in the log: written outside jejak (backdated?)",
                )
            )


__all__ = [
    "LineSource",
    "add_line",
    "commit_lines",
    "line_entry",
    "logged_lines",
    "pending_path",
    "verify_lines",
]
