"""Verify the whole log and re-hash every stored record against it.

Two layers, each naming what it finds:

1. **The log against its checkpoint** (:func:`verify_log`): the checkpoint's
   signature (C2SP signed-note, with the verifier key), every tile's length,
   every full tile's root against the hash one level up (C2SP tlog-tiles v1.0.0),
   the root of the tree against the checkpoint (RFC 6962 MTH), and every
   entry bundle against the leaf hashes (SHA-256(0x00 || entry)).
2. **The store against the log** (:func:`verify`): each stored record's
   commitment (:mod:`jejak.commitments`) is recomputed and compared with the
   leaf it was committed as (``ledger/appends.json``). An edited record is
   named by kind, key, file and leaf index; a record missing from the store by
   kind, file and leaf index, unless it was erased on purpose
   (``ledger/erasures.json``), which is reported as erased, not as tampering.

Example::

    >>> report = verify(Store("./jejak-data"))       # doctest: +SKIP
    >>> report.ok, report.leaves, report.records      # doctest: +SKIP
    (True, 645, 645)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from jejak.errors import JejakError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.checkpoint import Checkpoint, open_checkpoint
from jejak.ledger.lines import FILES, verify_lines
from jejak.ledger.log import Log
from jejak.ledger.note import Verifier
from jejak.ledger.records import SOURCE, file_entries, subjects_view
from jejak.ledger.tiles import (
    TILE_WIDTH,
    TileReader,
    entries_path,
    read_bundle,
    read_tile,
    tile_path,
    widths,
)
from jejak.schema import KINDS
from jejak.sqlq import literal
from jejak.validate import key_sql

if TYPE_CHECKING:
    from jejak.store import Store

HS = M.HASH_SIZE


@dataclass
class Problem:
    """One thing that does not verify. ``what``: checkpoint, tile, bundle, edited, deleted, unlogged, file."""

    what: str
    where: str
    message: str
    leaf: int | None = None
    kind: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.what}: {self.where}: {self.message}"


@dataclass
class Report:
    size: int = 0
    leaves: int = 0
    records: int = 0
    erased: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def verify_log(
    log: Log, verifier: Verifier | None = None, report: Report | None = None
) -> tuple[Report, Checkpoint | None]:
    """Check every tile and bundle against the signed checkpoint; problems go to the report."""
    report = report or Report()
    try:
        cp, _ = open_checkpoint(
            log.checkpoint_path.read_bytes(),
            verifier or log.verifier,
            origin=log.origin,
            where=str(log.checkpoint_path),
        )
    except FileNotFoundError:
        if log.dir.exists() and any((log.dir / "tile").glob("*")):
            report.problems.append(Problem("checkpoint", str(log.checkpoint_path), "missing"))
        return report, None
    except JejakError as exc:
        report.problems.append(Problem("checkpoint", str(log.checkpoint_path), exc.message))
        return report, None
    report.size = cp.size
    if cp.size == 0:
        if cp.root != M.EMPTY_ROOT:
            report.problems.append(
                Problem("checkpoint", str(log.checkpoint_path), "size 0 with a non-empty root")
            )
        return report, cp
    # top level down: each full tile's root must be the hash one level up; level 0 is checked
    # tile by tile against its entry bundle too, so memory stays at one level's hashes above 0
    expected: dict[int, bytes] = {}
    for level, full, width in reversed(list(widths(cp.size))):
        below: dict[int, bytes] = {}
        for idx in range(full + (1 if width else 0)):
            w = TILE_WIDTH if idx < full else width
            rel = tile_path(level, idx, w % TILE_WIDTH)
            try:
                data = read_tile(log.dir, level, idx, w)
            except VerificationError as exc:
                report.problems.append(Problem("tile", exc.where or rel, exc.message))
                continue
            full_and_known = w == TILE_WIDTH and idx in expected
            if full_and_known and M.root_of(_split(data)) != expected[idx]:
                report.problems.append(
                    Problem("tile", str(log.dir / rel), "its hashes do not match the tile above")
                )
            if level:
                for j in range(w):
                    below[idx * TILE_WIDTH + j] = data[j * HS : (j + 1) * HS]
            else:
                _check_bundle(log, idx, w, data, report)
        expected = below
    try:
        reader = TileReader(log.dir, cp.size)  # fresh reads: no cache may hide an edited tile
        root = reader.range_hash(0, cp.size)
    except VerificationError:
        root = None  # a bad tile, already reported
    if root is not None and root != cp.root:
        report.problems.append(
            Problem(
                "checkpoint",
                str(log.checkpoint_path),
                "the tiles' root is not the checkpoint's root",
            )
        )
    report.leaves = cp.size
    return report, cp


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HS] for i in range(0, len(data), HS)]


def _check_bundle(log: Log, idx: int, width: int, tile: bytes, report: Report) -> None:
    rel = entries_path(idx, width % TILE_WIDTH)
    try:
        entries = read_bundle(log.dir, idx, width)
    except VerificationError as exc:
        report.problems.append(Problem("bundle", exc.where or rel, exc.message))
        return
    prefix = M.LEAF_PREFIX
    hashed = b"".join([sha256(prefix + e).digest() for e in entries])
    if hashed != tile:
        bad = next(
            j for j in range(width) if hashed[j * HS : (j + 1) * HS] != tile[j * HS : (j + 1) * HS]
        )
        report.problems.append(
            Problem(
                "bundle",
                str(log.dir / rel),
                "an entry does not hash to its leaf",
                leaf=idx * TILE_WIDTH + bad,
            )
        )


def erased_leaves(home: Path) -> set[int]:
    """Leaves whose record was erased on purpose (ledger/erasures.json)."""
    path = Path(home) / "ledger" / "erasures.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    return {int(i) for e in data["erasures"] for i in e["leaves"]}


def verify(store: Store, verifier: Verifier | None = None, *, records: bool = True) -> Report:
    """Verify the log, then re-hash every stored record against its leaf (see the module docstring)."""
    log = Log(store.home)
    report, cp = verify_log(log, verifier)
    if cp is None and not report.problems and any(b["files"] for b in store.manifest()["batches"]):
        report.problems.append(
            Problem("checkpoint", str(log.checkpoint_path), "missing, but the store holds records")
        )
    if cp is None or not records:
        return report
    erased = erased_leaves(store.home)
    reader = TileReader(log.dir, cp.size)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        subjects = subjects_view(con, store)
        logged: set[str] = set()
        for a in log.appends():
            if a.get("source") != SOURCE:
                continue
            for f in a["files"]:
                logged.add(f["file"])
                _verify_file(con, store, reader, f, subjects, erased, report)
        for source in FILES:
            verify_lines(store.home, source, reader, report)
        for b in store.manifest()["batches"]:
            for kinds in b["files"].values():
                for rel in kinds:
                    if rel not in logged:
                        report.problems.append(
                            Problem(
                                "unlogged",
                                str(store.root / rel),
                                "a stored file the log does not hold",
                            )
                        )
    finally:
        con.close()
    return report


def _verify_file(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    reader: Any,
    f: dict[str, Any],
    subjects: str | None,
    erased: set[int],
    report: Report,
) -> None:
    kind, rel, first, count = f["kind"], f["file"], f["first"], f["count"]
    path = store.root / rel
    try:
        leaves = [reader.leaf_hash(i) for i in range(first, first + count)]
    except VerificationError:
        # a damaged tile (already reported): take the leaf hashes from the entry bundles instead,
        # so that the records are still checked
        try:
            log = Log(store.home)
            leaves = [M.leaf_hash(log.entry(i, reader.size)) for i in range(first, first + count)]
        except VerificationError as exc:
            report.problems.append(Problem("file", str(path), f"cannot be checked: {exc}"))
            return
    if not path.exists():
        for i in range(count):
            if first + i in erased:
                report.erased += 1
            else:
                report.problems.append(
                    Problem(
                        "deleted",
                        str(path),
                        f"the file of this logged {kind} record is gone",
                        leaf=first + i,
                        kind=kind,
                    )
                )
        return
    try:
        rows = [M.leaf_hash(e) for e in file_entries(con, store, kind, rel, subjects)]
    except (duckdb.Error, JejakError) as exc:
        report.problems.append(
            Problem("file", str(path), f"cannot be read: {str(exc).splitlines()[0]}")
        )
        return
    report.records += len(rows)
    where_leaf = {h: i for i, h in enumerate(leaves)}
    li = ri = 0
    edited_rows: list[tuple[int, int]] = []  # (row, leaf)
    while ri < len(rows) or li < len(leaves):
        if li < len(leaves) and first + li in erased:
            if ri < len(rows) and rows[ri] == leaves[li]:
                ri += 1  # the record is still there: fine
            report.erased += 1
            li += 1
            continue
        if ri >= len(rows):
            report.problems.append(
                Problem(
                    "deleted",
                    str(path),
                    f"a logged {kind} record is not in the store",
                    leaf=first + li,
                    kind=kind,
                )
            )
            li += 1
            continue
        if li >= len(leaves):
            report.problems.append(
                Problem("unlogged", str(path), f"row {ri} is not in the log", kind=kind)
            )
            ri += 1
            continue
        if rows[ri] == leaves[li]:
            ri += 1
            li += 1
            continue
        later = where_leaf.get(rows[ri])
        if later is not None and later > li:
            for gone in range(li, later):  # the leaves skipped over lost their records
                if first + gone in erased:
                    report.erased += 1
                else:
                    report.problems.append(
                        Problem(
                            "deleted",
                            str(path),
                            f"a logged {kind} record is not in the store",
                            leaf=first + gone,
                            kind=kind,
                        )
                    )
            li = later
            continue
        edited_rows.append((ri, li))
        ri += 1
        li += 1
    if edited_rows:
        keys = _keys(con, kind, path, [r for r, _ in edited_rows])
        for (row, leaf), key in zip(edited_rows, keys, strict=True):
            report.problems.append(
                Problem(
                    "edited",
                    str(path),
                    f"{kind} record {key} (row {row}) does not match leaf {first + leaf}",
                    leaf=first + leaf,
                    kind=kind,
                    key=key,
                )
            )


def _keys(con: duckdb.DuckDBPyConnection, kind: str, path: Path, rows: list[int]) -> list[str]:
    k = KINDS[kind]
    src = literal(path)
    got = dict(
        con.execute(
            f"SELECT file_row_number, CAST({key_sql(k)} AS VARCHAR) FROM read_parquet({src}, file_row_number=true, "
            f"hive_partitioning=false) WHERE file_row_number IN ({', '.join(str(r) for r in rows)})"
        ).fetchall()
    )
    return [str(got.get(r)) for r in rows]
