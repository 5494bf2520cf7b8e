"""Erasing a subscriber: delete their records and their secret; every proof stays valid.

A leaf holds only a keyed commitment (:mod:`jejak.commitments`), so once the
subscriber's records and their 32-byte secret are gone nobody, the operator
included, can link the leaves to the number any more, while every inclusion
and consistency proof still verifies (the tiles do not change). The log keeps
no personal data, so retention never deletes tiles (C2SP's minimum-index idea:
an erased leaf is simply one whose record is no longer served).

The leaves whose records were erased are listed in ``ledger/erasures.json``
(leaf indices and kind only, never the number), so that ``jejak ledger
verify`` reports them as erased and not as tampering. The list is written
before the records are deleted: a crash in between leaves records that are
still there and still match.

Example::

    >>> erase_subscriber(Store("./jejak-data"), "6281100000001")   # doctest: +SKIP
    Erasure(records=12, leaves=[...])
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from jejak import fsio
from jejak import ingest as I
from jejak.errors import NotFoundError
from jejak.fsio import write_atomic
from jejak.ledger.log import Log
from jejak.ledger.records import SOURCE
from jejak.sqlq import literal

if TYPE_CHECKING:
    from jejak.store import Store


@dataclass
class Erasure:
    records: int = 0
    leaves: list[int] = field(default_factory=list)


def erase_subscriber(store: Store, msisdn: str) -> Erasure:
    """Delete every record naming ``msisdn`` and their secret; list the erased leaves."""
    out = Erasure()
    with store._writer():
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        try:
            log = Log(store.home)
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
            _record(store.home, out.leaves)
            removed: dict[str, int] = {}
            for path, f in hits:
                n = _rewrite_without(con, path, msisdn)
                out.records += n
                removed[str(f["file"])] = n
            for path in secret_files:
                _rewrite_without(con, path, msisdn, order=False)
            _recount(store, removed)
            _drop_derived(store, con, msisdn)
        finally:
            con.close()
    store._manifest_cache = None
    return out


def _recount(store: Store, removed: dict[str, int]) -> None:
    """Take the erased rows off the manifest's per-kind counts (what ``jejak status`` shows)."""
    manifest = store.manifest()
    for b in manifest["batches"]:
        for kind, rels in b["files"].items():
            gone = sum(removed.get(rel, 0) for rel in rels)
            if gone:
                b["rows"][kind] = int(b["rows"].get(kind, 0)) - gone
    fsio.write_json_atomic(store.manifest_path, manifest)


def _drop_derived(store: Store, con: duckdb.DuckDBPyConnection, msisdn: str) -> None:
    """Derived copies must forget the subscriber too: the investigation's lookup files (rebuilt
    from the store when missing) and the stored alerts about that number."""
    shutil.rmtree(store.home / "investigate" / "lookup", ignore_errors=True)
    alerts = store.home / "alerts" / "alerts.parquet"
    if alerts.exists():
        tmp = alerts.with_name(alerts.name + ".erase.tmp")
        con.execute(
            f"COPY (SELECT * FROM read_parquet({literal(alerts)}) WHERE msisdn IS DISTINCT FROM ?) "
            f"TO {literal(tmp)} (FORMAT parquet)",
            [msisdn],
        )
        fsio.replace(tmp, alerts)


def _record(home: Path, leaves: list[int]) -> None:
    path = Path(home) / "ledger" / "erasures.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {"format": 1, "erasures": []}
    data["erasures"].append(
        {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "leaves": leaves}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=1).encode())


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
        f"ROW_GROUP_SIZE {I.ROW_GROUP_SIZE})"
    )
    fsio.replace(tmp, path)
    return int(n)
