"""Erasing a subscriber: a signed log entry first, then the records, the secret, the lines.

A leaf holds only a keyed commitment (:mod:`jejak.commitments`), so once the
subscriber's records and their 32-byte secret are gone nobody, the operator
included, can link the leaves to the number any more, while every inclusion
and consistency proof still verifies (the tiles do not change). The log keeps
no personal data, so retention never deletes tiles (C2SP's minimum-index idea:
an erased leaf is simply one whose record is no longer served).

**Erasure is an entry, not a file.** Before anything is deleted, an entry is
appended to the log (signed, witnessed with the next checkpoint, and after the
records it erases, so it cannot be backdated); it holds no personal data::

    entry = "erasure" || 0x20 || canonical JSON
    {"at": "2026-12-03T07:00:00Z", "basis": "UU PDP art. 8", "by": "dpo@operator",
     "leaves": "12-15,40,97-99", "lines": {"634": "<hex>"}, "v": 1}

``leaves``: the erased records' leaf indices (ranges); ``lines``: for each line
of a line source that named the number (a suppression matching it), rewritten
with ``[erased]`` in its place, the keyed commitment of the new line (hex of
SHA-256(store secret || 0x1F || line)), keyed by the line's leaf. An entry is at
most 65,535 bytes (tlog-tiles' 2-byte entry length): a longer erasure is several
entries. ``appends.jsonl`` (source ``erasure``) only indexes them: each entry is
read from the entry bundles, must hash to its leaf and parse, and may only name
leaves before it.

Verification (:mod:`jejak.audit.verify`) accepts a missing record only when
such an entry covers it. ``ledger/erasures.json``, written by earlier versions,
is unsigned and proves nothing: records it alone lists are reported deleted,
with a pointer to :func:`migrate_legacy` (``jejak ledger erase --migrate --by
NAME --basis TEXT --yes``), which turns it into a signed entry: a deliberate
act by a named person, never done silently (anyone who can write that file
could otherwise erase a record).

A crash after the entry and before the deletion leaves records that are still
there and still match: erasing again finishes the job.

This module erases the stored records and rewrites the line sources; the
copies derived from them (detect's alerts; the store's lookup index, rebuilt by
:meth:`jejak.store.Store.recount` for the files rewritten here) are their owners' to forget, and :meth:`jejak.Home.erase` calls each, all under the
store's writer lock.

Example::

    >>> Home("./jejak-data").erase("6281100000001", by="dpo", basis="UU PDP art. 8")  # doctest: +SKIP
    Erasure(records=12, leaves=[...], entries=[645], lines=1)
    >>> e = ErasureEntry("2026-12-03T07:00:00Z", "dpo", "UU PDP art. 8", [3, 4, 5, 9])
    >>> ErasureEntry.parse(e.entries()[0]).leaves
    [3, 4, 5, 9]
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from jejak import fsio
from jejak.audit.lines import LineSource, logged_lines
from jejak.audit.records import SOURCE
from jejak.commitments import SEPARATOR, store_secret
from jejak.errors import NotFoundError, UsageError, VerificationError
from jejak.ingest import ROW_GROUP_SIZE
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.tiles import TileReader
from jejak.sqlq import literal
from jejak.store import Store


@dataclass
class Erasure:
    records: int = 0
    leaves: list[int] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)  # the erasure entries' own leaves
    lines: int = 0  # line-source lines rewritten without the number


KIND = b"erasure"
ERASURE_SOURCE = "erasure"
MAX_ENTRY = 65_535
LEGACY_FILE = "erasures.json"
ERASED = "[erased]"


def _ranges(leaves: list[int]) -> str:
    out: list[str] = []
    for i in sorted(set(leaves)):
        if out and "-" in out[-1] and int(out[-1].split("-")[1]) == i - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{i}"
        elif out and "-" not in out[-1] and int(out[-1]) == i - 1:
            out[-1] = f"{out[-1]}-{i}"
        else:
            out.append(str(i))
    return ",".join(out)


def _unranges(text: str) -> list[int]:
    leaves: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(part)
        leaves += range(int(lo), int(hi or lo) + 1)
    return leaves


@dataclass
class ErasureEntry:
    at: str
    by: str
    basis: str
    leaves: list[int]
    lines: dict[int, str] = field(default_factory=dict)
    index: int | None = None  # its leaf in the log, once read from it

    def _json(self, leaves: list[int], lines: dict[int, str]) -> bytes:
        data: dict[str, Any] = {
            "v": 1,
            "at": self.at,
            "by": self.by,
            "basis": self.basis,
            "leaves": _ranges(leaves),
            "lines": {str(k): v for k, v in sorted(lines.items())},
        }
        return KIND + b" " + json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def entries(self) -> list[bytes]:
        """The log entries (one unless the erasure is too long for one entry)."""
        if not self.by.strip() or not self.basis.strip():
            raise UsageError("erasure", "an erasure needs who did it (--by) and its legal basis")
        leaves = sorted(set(self.leaves))
        out: list[bytes] = []
        lines = dict(self.lines)
        while leaves or lines or not out:
            n = len(leaves)
            while n > 1 and len(self._json(leaves[:n], {})) > MAX_ENTRY // 2:
                n //= 2
            take, leaves = leaves[:n], leaves[n:]
            chunk: dict[int, str] = {}
            for k in list(lines)[:100]:
                chunk[k] = lines.pop(k)
            entry = self._json(take, chunk)
            if len(entry) > MAX_ENTRY:
                raise UsageError("erasure", "--by or --basis is too long for one log entry")
            out.append(entry)
        return out

    @classmethod
    def parse(cls, entry: bytes, index: int | None = None) -> ErasureEntry:
        """Read an erasure entry; VerificationError when it is not one."""
        where = f"leaf {index}" if index is not None else "erasure entry"
        if not entry.startswith(KIND + b" "):
            raise VerificationError(where, "not an erasure entry")
        try:
            d = json.loads(entry[len(KIND) + 1 :])
            if d.get("v") != 1:
                raise ValueError("version")
            return cls(
                str(d["at"]),
                str(d["by"]),
                str(d["basis"]),
                _unranges(str(d["leaves"])),
                {int(k): str(v) for k, v in dict(d.get("lines", {})).items()},
                index,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(where, f"a malformed erasure entry ({exc})") from None


@dataclass
class Erased:
    """What the log's erasure entries cover."""

    leaves: set[int] = field(default_factory=set)
    lines: dict[int, str] = field(default_factory=dict)
    entries: list[ErasureEntry] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, message)


def erased_in_log(log: Log, reader: TileReader | None = None) -> Erased:
    """Every erasure entry of the log (found through ``appends.jsonl``, read from the bundles).

    An index entry that points at something other than an erasure entry, or at
    a leaf beyond the tree, is a problem; only entries that parse count. Each
    entry may erase only leaves that come before it.
    """

    out = Erased()
    size = reader.size if reader is not None else log.size
    for a in log.appends():
        if a.get("source") != ERASURE_SOURCE:
            continue
        for i in range(a["first"], a["first"] + a["count"]):
            if i >= size:
                continue
            try:
                raw = log.entry(i, size)
                if reader is not None and M.leaf_hash(raw) != reader.leaf_hash(i):
                    raise VerificationError(f"leaf {i}", "the entry does not hash to its leaf")
                e = ErasureEntry.parse(raw, i)
            except VerificationError as exc:
                out.problems.append((str(log.dir / "appends.jsonl"), str(exc)))
                continue
            late = [x for x in e.leaves if x >= i] + [x for x in e.lines if x >= i]
            if late:
                out.problems.append(
                    (f"leaf {i}", f"an erasure entry names leaf {late[0]}, not before it")
                )
                continue
            out.entries.append(e)
            out.leaves.update(e.leaves)
            out.lines.update(e.lines)
    return out


def legacy_leaves(home: Path) -> set[int]:
    """Leaves listed in the unsigned ``ledger/erasures.json`` of earlier versions."""
    path = Path(home) / "ledger" / LEGACY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except ValueError:
        return set()
    return {int(i) for e in data.get("erasures", []) for i in e.get("leaves", [])}


def erased_leaves(log: Log) -> set[int]:
    """Leaves whose record a signed erasure entry of the log erased."""
    return erased_in_log(log).leaves


def append_erasure(log: Log, erasure: ErasureEntry) -> list[int]:
    """Append the erasure's entries (one signed checkpoint); their leaf indices."""
    first, count = log.append(erasure.entries(), {"source": ERASURE_SOURCE})
    return list(range(first, first + count))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def erase_subscriber(
    store: Store,
    log: Log,
    msisdn: str,
    *,
    by: str,
    basis: str,
    sources: Iterable[LineSource] = (),
) -> Erasure:
    """Log the erasure (``by`` whom, on what legal ``basis``), then delete every stored record
    naming ``msisdn`` and their secret, and rewrite the lines of ``sources`` that name it.

    Call it with the store's writer lock held (``with store.writer(): ...``).
    """
    if not by.strip() or not basis.strip():
        raise UsageError(
            "erase", "an erasure needs who does it (--by) and its legal basis (--basis)"
        )
    out = Erasure()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        hits: list[tuple[Path, dict[str, object]]] = []
        for a in log.appends():
            if a.get("source") != SOURCE:
                continue
            for f in a["files"]:
                path = store.root / f["file"]
                if not path.exists():
                    continue
                cols = [
                    r[0]
                    for r in con.execute(
                        f"DESCRIBE SELECT * FROM read_parquet({literal(path)})"
                    ).fetchall()
                ]
                if "msisdn" not in cols:
                    continue
                rows = [
                    r[0]
                    for r in con.execute(
                        f"SELECT file_row_number FROM read_parquet({literal(path)}, file_row_number=true, "
                        f"hive_partitioning=false) WHERE msisdn = ? ORDER BY 1",
                        [msisdn],
                    ).fetchall()
                ]
                if rows:
                    out.leaves += [f["first"] + r for r in rows]
                    hits.append((path, f))
        secret_files = [
            p
            for p in store.files("subjects")
            if con.execute(
                f"SELECT count(*) FROM read_parquet({literal(p)}) WHERE msisdn = ?",
                [msisdn],
            ).fetchall()[0][0]
        ]
        redact = redactions(log, sources, msisdn)
        if not hits and not secret_files and not redact:
            raise NotFoundError("subscriber", "no record and no secret for that number")
        entry = ErasureEntry(
            _now(), by, basis, out.leaves, {leaf: c for leaf, (_, _, c) in redact.items()}
        )
        out.entries = append_erasure(log, entry)
        fsio.crash_point("erase-after-entry")
        removed: dict[str, int] = {}
        for path, f in hits:
            n = _rewrite_without(con, path, msisdn)
            out.records += n
            removed[str(f["file"])] = n
        for path in secret_files:
            _rewrite_without(con, path, msisdn, order=False)
        store.recount(removed)
        out.lines = rewrite_lines(redact, msisdn)
    finally:
        con.close()
    return out


def redactions(
    log: Log, sources: Iterable[LineSource], msisdn: str
) -> dict[int, tuple[Path, int, str]]:
    """Logged lines of ``sources`` that name ``msisdn``: leaf -> (file, line number, the keyed
    commitment (hex) of the line with the number replaced by ``[erased]``)."""
    out: dict[int, tuple[Path, int, str]] = {}
    secret: bytes | None = None
    for source in sources:
        for number, leaf, line in logged_lines(log, source):
            if msisdn.encode() in line:
                secret = secret or store_secret(log.home)
                new = line.replace(msisdn.encode(), ERASED.encode())
                out[leaf] = (
                    log.home / source.path,
                    number,
                    hashlib.sha256(secret + SEPARATOR + new).hexdigest(),
                )
    return out


def rewrite_lines(redact: dict[int, tuple[Path, int, str]], msisdn: str) -> int:
    """Rewrite the lines named in ``redact`` without ``msisdn`` (atomically per file); how many."""
    by_file: dict[Path, set[int]] = {}
    for path, number, _ in redact.values():
        by_file.setdefault(path, set()).add(number)
    done = 0
    for path, numbers in by_file.items():
        data = path.read_bytes().split(b"\n")
        k = -1
        for i, raw in enumerate(data[:-1]):  # the same lines as the line sources count
            if raw.strip():
                k += 1
                if k in numbers:
                    data[i] = raw.replace(msisdn.encode(), ERASED.encode())
                    done += 1
        fsio.write_atomic(path, b"\n".join(data))
    return done


def migrate_legacy(store: Store, log: Log, *, by: str, basis: str) -> list[int]:
    """Turn the leaves the unsigned ``ledger/erasures.json`` (earlier versions) lists into one
    signed erasure entry, a deliberate act by ``by``; the file becomes ``erasures.json.migrated``.

    Call it with the store's writer lock held.
    """
    legacy = sorted(legacy_leaves(log.home))
    path = log.dir / LEGACY_FILE
    if not legacy:
        raise NotFoundError(str(path), "no erasures.json to migrate")
    append_erasure(log, ErasureEntry(_now(), by, basis, legacy))
    os.replace(path, path.with_name(LEGACY_FILE + ".migrated"))
    fsio.fsync_dir(path.parent)
    return legacy


def _rewrite_without(
    con: duckdb.DuckDBPyConnection, path: Path, msisdn: str, *, order: bool = True
) -> int:
    """Rewrite one Parquet file without the subscriber's rows, keeping the others' order."""
    src = f"read_parquet({literal(path)}, file_row_number=true, hive_partitioning=false)"
    n = con.execute(f"SELECT count(*) FROM {src} WHERE msisdn = ?", [msisdn]).fetchall()[0][0]
    tmp = path.with_name(path.name + ".erase.tmp")
    con.execute(
        f"COPY (SELECT * EXCLUDE (file_row_number) FROM {src} WHERE msisdn IS DISTINCT FROM {literal(msisdn)} "
        f"ORDER BY file_row_number) TO {literal(tmp)} (FORMAT parquet, COMPRESSION {'lz4_raw' if order else 'zstd'}, "
        f"ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
    )
    fsio.replace(tmp, path)
    return int(n)


__all__ = [
    "Erased",
    "Erasure",
    "ErasureEntry",
    "erase_subscriber",
    "erased_in_log",
    "erased_leaves",
    "legacy_leaves",
    "migrate_legacy",
]
