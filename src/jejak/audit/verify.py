"""The store against the log: re-hash every stored record and every logged line against its leaf.

After :func:`jejak.ledger.verify.verify_log` has checked the log against its
signed checkpoint, each stored record's commitment (:mod:`jejak.commitments`)
is recomputed and compared with the leaf it was committed as
(``ledger/appends.jsonl``). An edited record is named by kind, key, file and
leaf index; a record missing from the store by kind, file and leaf index,
unless a signed erasure entry of the log covers it (:mod:`jejak.audit.erasure`), which
is reported as erased, not as tampering (the unsigned ``ledger/erasures.json`` of earlier
versions proves nothing). The lines of every registered
line source (:mod:`jejak.audit.lines`) are re-hashed the same way.

Example::

    >>> report = Home("./jejak-data").verify()        # doctest: +SKIP
    >>> report.ok, report.leaves, report.records      # doctest: +SKIP
    (True, 645, 645)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from jejak.audit.erasure import erased_in_log, legacy_leaves
from jejak.audit.lines import LineSource, verify_lines
from jejak.audit.records import SOURCE, file_entries, subjects_view
from jejak.errors import JejakError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.note import Verifier
from jejak.ledger.tiles import TILE_WIDTH, TileReader, tile_path
from jejak.ledger.verify import Problem, Report, verify_log
from jejak.schema import KINDS
from jejak.sqlq import literal
from jejak.store import Store
from jejak.validate import key_sql


def verify(
    store: Store,
    log: Log,
    sources: Iterable[LineSource] = (),
    verifier: Verifier | None = None,
    *,
    records: bool = True,
) -> Report:
    """Verify the log, then re-hash every stored record and line against its leaf (module docstring).

    The store is read as one snapshot taken after the checkpoint: the store commits a batch
    before the log appends it, so the snapshot holds every batch the checkpoint covers, and
    perhaps later ones, whose append is *pending* (an ingest in its ledger phase, or one
    stopped by a crash or a full disk: the next write to the home makes it). Those are
    reported in ``report.pending``, not as tampering.
    """
    report, cp = verify_log(log, verifier)
    store = store.pinned()
    size = cp.size if cp else 0
    appends = [a for a in log.appends() if a["first"] + a["count"] <= size]
    if cp is None and log.pending() is not None:  # the first append: under way or cut off
        report.pending = _pending(store, set())
        return report
    if cp is None:  # no log at all is not a pending append: the store is not covered
        if not report.problems and any(b["files"] for b in store.manifest()["batches"]):
            report.problems.append(
                Problem(
                    "checkpoint", str(log.checkpoint_path), "missing, but the store holds records"
                )
            )
        return report
    report.pending = _pending(store, {a.get("batch") for a in appends if a.get("source") == SOURCE})
    if not records:
        return report
    overlay = {(0, i): h for i, h in report.bad_tiles.items() if h is not None}
    reader = TileReader(log.dir, cp.size, overlay=overlay)
    found = erased_in_log(log, reader)
    for where, message in found.problems:
        report.problems.append(Problem("erasure", where, message))
    erased = found.leaves
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        subjects = subjects_view(con, store)
        logged: set[str] = set()
        for a in appends:
            if a.get("source") != SOURCE:
                continue
            for f in a["files"]:
                logged.add(f["file"])
                _verify_file(con, store, log, reader, f, subjects, erased, report)
        for source in sources:
            verify_lines(log, source, reader, report, found.lines)
        for b in store.manifest()["batches"]:
            if b["id"] in report.pending:
                continue
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
    _collapse_bad_tiles(log, report)
    _name_unsigned_erasures(log, erased, report)
    return report


def _name_unsigned_erasures(log: Log, erased: set[int], report: Report) -> None:
    """A deleted record listed only in the unsigned ``erasures.json`` of earlier versions: say so."""
    legacy = legacy_leaves(log.home) - erased
    if not legacy:
        return
    for p in report.problems:
        if p.what == "deleted" and p.leaf in legacy:
            p.message += (
                " (listed only in the unsigned ledger/erasures.json, which proves nothing: "
                "`jejak ledger erase --migrate` makes it a signed entry)"
            )


def _collapse_bad_tiles(log: Log, report: Report) -> None:
    """Records that mismatch only because their leaf tile is wrong: one finding per tile, not one
    per record (a swapped tile would otherwise read as 256 edited records)."""
    bad = {i for i, h in report.bad_tiles.items() if h is None}
    if not bad:
        return
    count: dict[int, int] = {}
    kept = []
    for p in report.problems:
        if p.what == "edited" and p.leaf is not None and p.leaf // TILE_WIDTH in bad:
            count[p.leaf // TILE_WIDTH] = count.get(p.leaf // TILE_WIDTH, 0) + 1
            continue
        kept.append(p)
    for idx, n in sorted(count.items()):
        where = str(log.dir / tile_path(0, idx))
        message = (
            f"its hashes do not match the tile above, and {n} stored record(s) of leaves "
            f"{idx * TILE_WIDTH:,} to {idx * TILE_WIDTH + TILE_WIDTH - 1:,} do not match it: "
            "the tile (and its entry bundle) was replaced"
        )
        same = [p for p in kept if p.what == "tile" and p.where == where]
        if same:
            same[0].message = message
        else:
            kept.append(Problem("tile", where, message))
    report.problems = kept


def _pending(store: Store, logged: set[Any]) -> list[str]:
    """The batches with records after the last one the log holds (see :func:`verify`). A
    batch missing from the log *before* a logged one is not pending but unlogged."""
    tail: list[str] = []
    for b in reversed([b for b in store.manifest()["batches"] if b["files"]]):
        if b["id"] in logged:
            break
        tail.append(b["id"])
    return sorted(tail)


def _verify_file(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    log: Log,
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


__all__ = ["verify"]
