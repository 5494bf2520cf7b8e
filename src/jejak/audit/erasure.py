"""Erasing a subscriber: delete their records and their secret; every proof stays valid.

A leaf holds only a keyed commitment (:mod:`jejak.commitments`), so once the
subscriber's records and their 32-byte secret are gone nobody, the operator
included, can link the leaves to the number any more, while every inclusion
and consistency proof still verifies (the tiles do not change). The log keeps
no personal data, so retention never deletes tiles (C2SP's minimum-index idea:
an erased leaf is simply one whose record is no longer served).

The leaves whose records were erased are listed in ``ledger/erasures.json``
(leaf indices and kind only, never the number), so that verification
(:mod:`jejak.audit.verify`) reports them as erased and not as tampering. The
list is written before the records are deleted: a crash in between leaves
records that are still there and still match.

This module erases the stored records; the copies derived from them (detect's
alerts, investigate's lookup files) are their owners' to forget, and
:meth:`jejak.Home.erase` calls each, all under the store's writer lock.

Example::

    >>> Home("./jejak-data").erase("6281100000001")   # doctest: +SKIP
    Erasure(records=12, leaves=[...])
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from jejak import fsio
from jejak.audit.records import SOURCE
from jejak.errors import NotFoundError
from jejak.ingest import ROW_GROUP_SIZE
from jejak.ledger.log import Log
from jejak.sqlq import literal
from jejak.store import Store

FILE = "erasures.json"


@dataclass
class Erasure:
    records: int = 0
    leaves: list[int] = field(default_factory=list)


def erased_leaves(log: Log) -> set[int]:
    """Leaves whose record was erased on purpose (``ledger/erasures.json``)."""
    try:
        data = json.loads((log.dir / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    return {int(i) for e in data["erasures"] for i in e["leaves"]}


def erase_subscriber(store: Store, log: Log, msisdn: str) -> Erasure:
    """Delete every stored record naming ``msisdn`` and their secret; list the erased leaves.

    Call it with the store's writer lock held (``with store.writer(): ...``).
    """
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
        if not hits and not secret_files:
            raise NotFoundError("subscriber", "no record and no secret for that number")
        _record(log, out.leaves)
        removed: dict[str, int] = {}
        for path, f in hits:
            n = _rewrite_without(con, path, msisdn)
            out.records += n
            removed[str(f["file"])] = n
        for path in secret_files:
            _rewrite_without(con, path, msisdn, order=False)
        store.recount(removed)
    finally:
        con.close()
    return out


def _record(log: Log, leaves: list[int]) -> None:
    path = log.dir / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {"format": 1, "erasures": []}
    data["erasures"].append(
        {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "leaves": leaves}
    )
    fsio.write_atomic(path, json.dumps(data, indent=1).encode(), mkdir=True)


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


__all__ = ["Erasure", "erase_subscriber", "erased_leaves"]
