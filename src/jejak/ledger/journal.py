"""The append journal ``ledger/appends.jsonl``: what each append of the log holds, one line each.

Each line is one compact JSON object: the append's ``first`` leaf, its ``count``,
the UTC time ``at``, then the caller's record (``{"source": "store", "batch": ...}``)::

    {"first":0,"count":633,"at":"2026-12-04T09:00:00Z","batch":"b000001","source":"store"}

The journal is an index, not evidence: the signed checkpoint and the tiles are
the log; the journal says which leaves an append of the store, of a line source
or of the case database took, so that the layer above can find them again.

**Written in O(1) per append.** The one writer (:class:`jejak.ledger.log.Writer`)
appends the line *before* it writes the append's tiles, so the line doubles as
the marker of an append under way (earlier versions wrote a separate ``pending``
file), and fsyncs it with the tiles, before the checkpoint is replaced. A line
whose ``first + count`` exceeds the checkpoint's size therefore belongs to an
append that did not commit: readers ignore it, and the next writer cuts it off
(:meth:`Journal.recover`) and deletes the tiles it names. A last line without
its newline was torn by a crash and is ignored the same way. When a later line
starts at or before the end of an earlier one, the later one wins (an append
re-done after a crash the marker did not survive).

**Older homes** kept the same records in ``appends.json``, one JSON document
(``{"format": 1, "appends": [...]}``) rewritten whole by every append. Readers
still read it; the next writer moves it into ``appends.jsonl`` under its lock
(:meth:`Journal.migrate`: the new file is complete before the old one goes, so
a crash in between leaves both, with the same records, which read as one).

Example::

    >>> j = Journal(Path("/tmp/jejak-doc/ledger"))   # doctest: +SKIP
    >>> j.entries(size=633)                          # doctest: +SKIP
    [{'first': 0, 'count': 633, 'at': '...', 'batch': 'b000001', 'source': 'store'}]
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jejak.errors import LedgerError
from jejak.fsio import fsync_dir, write_atomic

JOURNAL = "appends.jsonl"
LEGACY = "appends.json"
#: keys the journal owns; a caller's record may not set them
OWN_KEYS = ("first", "count", "at")
#: how much of the journal's end the writer reads to find the last committed line
TAIL = 1 << 16
#: the start of a line, enough to learn a torn line's extent
_HEAD = re.compile(rb'\{"first":(\d+),"count":(\d+)[,}]')

Entry = dict[str, Any]


def _end(e: Entry) -> int:
    return int(e["first"]) + int(e["count"])


def resolve(entries: Iterable[Entry], size: int) -> list[Entry]:
    """The records of the appends a log of ``size`` holds: a later entry that starts at or before
    the end of earlier ones replaces them (re-done appends), and entries beyond ``size`` go."""
    out: list[Entry] = []
    for e in entries:
        first = int(e["first"])
        while out and _end(out[-1]) > first:
            out.pop()
        out.append(e)
    return [e for e in out if _end(e) <= size]


def line(first: int, count: int, record: dict[str, Any] | None) -> bytes:
    """One journal line (with its newline) for an append of ``count`` leaves from ``first``."""
    record = record or {}
    clash = [k for k in OWN_KEYS if k in record]
    if clash:
        raise LedgerError("append record", f"may not set {clash[0]!r}: the log sets it")
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return _encode({"first": first, "count": count, "at": at}, record)


def _encode(head: dict[str, Any], record: dict[str, Any]) -> bytes:
    """``head``'s keys first (so that a torn line still names its extent), then the record's, sorted."""
    text = json.dumps(head, separators=(",", ":"))
    tail = json.dumps(record, sort_keys=True, separators=(",", ":"))
    if tail != "{}":
        text = text[:-1] + "," + tail[1:]
    return text.encode() + b"\n"


class Journal:
    """``appends.jsonl`` (and an older home's ``appends.json``) in one log folder.

    Readers call :meth:`entries`; it re-reads the file on every call but parses
    only the lines added since its last call (it checks that the bytes it parsed
    before are still the file's first bytes, so an edit is never missed). The
    writer calls :meth:`recover`, :meth:`migrate` and :meth:`open_for_append`
    under the log's lock.
    """

    def __init__(self, folder: Path) -> None:
        self.dir = Path(folder)
        self.path = self.dir / JOURNAL
        self.legacy = self.dir / LEGACY
        # the file's first bytes, parsed, every line in them committed, and their entries
        self._raw = b""
        self._done: list[Entry] = []

    # ------------------------------------------------------------ reading

    def entries(self, size: int) -> list[Entry]:
        """The records of the appends that a log of ``size`` holds, oldest first.

        Read the log's size *before* calling: lines only ever reach the file before
        the checkpoint that commits them, so every line within that size is final.
        """
        legacy = self._legacy()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        if legacy:  # an older home not yet migrated (or a crash during the migration)
            return resolve([*legacy, *self._parse(data, 0)], size)
        if not data.startswith(self._raw):
            self._raw, self._done = b"", []
        start = len(self._raw)
        new = self._parse(data, start)
        out = list(self._done)
        kept = len(out)
        for e in new:
            first = int(e["first"])
            while out and _end(out[-1]) > first:
                out.pop()
            kept = min(kept, len(out))
            out.append(e)
        if kept < len(self._done):  # a line replaced one read before: no longer trust the cache
            self._raw, self._done = b"", []
            return [e for e in out if _end(e) <= size]
        # remember the lines, from the first new one on, that are committed and stay
        survivors = {id(e) for e in out}
        pos = start
        for e in new:
            if id(e) not in survivors or _end(e) > size:
                break
            pos = data.index(b"\n", pos) + 1
            self._done.append(e)
        self._raw = data[:pos]
        return [e for e in out if _end(e) <= size]

    def _parse(self, data: bytes, start: int) -> list[Entry]:
        """The complete lines of ``data`` from byte ``start`` on (a torn last line is left out)."""
        stop = data.rfind(b"\n") + 1
        if stop <= start:
            return []
        body = data[start:stop]
        try:
            parsed = json.loads(b"[" + body.rstrip(b"\n").replace(b"\n", b",") + b"]")
        except ValueError:  # find the bad line to name it
            for n, raw in enumerate(body.split(b"\n")[:-1]):
                try:
                    json.loads(raw)
                except ValueError as exc:
                    at = data[:start].count(b"\n") + n + 1
                    raise LedgerError(f"{self.path}:{at}", f"cannot read: {exc}") from None
            raise LedgerError(str(self.path), "cannot read") from None
        if not all(isinstance(e, dict) and "first" in e and "count" in e for e in parsed):
            raise LedgerError(str(self.path), "a line is not an append record")
        return parsed

    def _legacy(self) -> list[Entry]:
        try:
            data = json.loads(self.legacy.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise LedgerError(str(self.legacy), f"cannot read: {exc}") from None
        return list(data["appends"])

    # ------------------------------------------------------------ writing

    def pending(self, size: int) -> tuple[int, int] | None:
        """``(first, end)`` of an append under way, or cut off by a crash, beyond ``size``; None
        when there is none. ``end`` is -1 when only a torn line tells of it."""
        cut = self._tail(size)
        return None if cut is None else (cut[1], cut[2])

    def _tail(self, size: int) -> tuple[int, int, int] | None:
        """(byte offset to cut at, first, end) of the lines beyond ``size`` at the journal's end."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            total = os.fstat(fd).st_size
            window = TAIL
            while True:
                lo = max(0, total - window)
                data = os.pread(fd, total - lo, lo)
                cut = self._cut(data, lo, size)
                if cut is not None or lo == 0:
                    return None if cut is None or cut[0] == total else cut
                window *= 4
        finally:
            os.close(fd)

    @staticmethod
    def _cut(data: bytes, lo: int, size: int) -> tuple[int, int, int] | None:
        """Walk back from the end of ``data`` (the journal from byte ``lo``) to the last committed
        line; None when the window holds no committed line and does not start the file."""
        first, end = size, size
        stop = len(data)
        if data and not data.endswith(b"\n"):  # a torn last line
            start = data.rfind(b"\n") + 1
            if start == 0 and lo > 0:
                return None
            m = _HEAD.match(data, start)
            if m:
                first, end = int(m[1]), int(m[1]) + int(m[2])
            else:
                end = -1
            stop = start
        while stop > 0:
            start = data.rfind(b"\n", 0, stop - 1) + 1
            if start == 0 and lo > 0:
                return None  # the line may begin before the window
            try:
                e = json.loads(data[start:stop])
                f, n = int(e["first"]), int(e["count"])
            except (ValueError, KeyError, TypeError):
                f, n = size, -1  # unreadable: cut it too, extent unknown
            if n >= 0 and f + n <= size:
                break
            first = min(first, f)
            end = -1 if n < 0 or end < 0 else max(end, f + n)
            stop = start
        return lo + stop, first, end

    def recover(self, size: int) -> tuple[int, int] | None:
        """Cut off the lines of appends beyond ``size`` (a crash); return ``(first, end)`` of what
        they covered (``end`` -1 when a torn line does not say), or None when there were none."""
        cut = self._tail(size)
        if cut is None:
            return None
        offset, first, end = cut
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.ftruncate(fd, offset)
            os.fsync(fd)  # durable before any new line lands where the cut ones were
        finally:
            os.close(fd)
        self._raw, self._done = b"", []
        return first, end

    def migrate(self, size: int) -> None:
        """Move an older home's ``appends.json`` into ``appends.jsonl`` (writer's lock held)."""
        if not self.legacy.exists():
            return
        if not self.path.exists():
            kept = resolve(self._legacy(), size)
            body = b"".join(
                _encode(
                    {k: e[k] for k in OWN_KEYS if k in e},
                    {k: v for k, v in e.items() if k not in OWN_KEYS},
                )
                for e in kept
            )
            write_atomic(self.path, body)
        self.legacy.unlink()
        fsync_dir(self.dir)
        self._raw, self._done = b"", []

    def open_for_append(self) -> tuple[int, bool]:
        """A descriptor to append lines with, and whether the file was made just now (its folder
        then needs an fsync before the append commits)."""
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND), False
        except FileNotFoundError:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            return fd, True
