"""From stored records to log entries: what ingest commits, and how a leaf maps back to a record.

Every committed store batch is one append to the log: for each of its files in
manifest order (kinds sorted, then the kind's files in order), the commitment
of each row in file order (:func:`jejak.commitments.commitments`), as the entry
``kind || 0x20 || commitment``. The append's record in ``ledger/appends.jsonl``
names the batch and, per file, the leaf range (``first``, ``count``), so that
``jejak ledger verify`` can map leaf index -> (kind, file, row).

:class:`jejak.Home` registers :func:`commit_store` as one of the store's
``on_commit`` hooks, which the store runs under its writer lock after each
manifest commit and when a writer opens it, so a crash between the two only
delays the append: the log always catches up with the manifest.

Example::

    >>> home = Home("./jejak-data")                           # doctest: +SKIP
    >>> commit_store(home.store, home.log)                    # doctest: +SKIP
    0
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow.parquet as pq

from jejak.commitments import commitments, entry_of, iter_entries, store_secret
from jejak.errors import NotFoundError, StoreCorruptError
from jejak.ledger.log import Log
from jejak.schema import KINDS
from jejak.sqlq import literal, read_parquet
from jejak.store import Store
from jejak.validate import key_sql

SOURCE = "store"
SUBJECTS = "_ledger_subjects"
#: records committed per chunk: bounds the memory of committing a batch of any size
CHUNK_ROWS = 1 << 20


def subjects_view(con: duckdb.DuckDBPyConnection, store: Store) -> str | None:
    """A view of every subscriber secret (msisdn, secret) the store holds; None when there is none."""
    files = store.files("subjects")
    if not files:
        return None
    flist = read_parquet(files)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {SUBJECTS} AS SELECT msisdn, secret FROM {flist}")
    return SUBJECTS


def batch_files(batch: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, relative file) of a manifest batch, in the order its leaves are appended."""
    return [(kind, rel) for kind in sorted(batch["files"]) for rel in batch["files"][kind]]


def file_entries(
    con: duckdb.DuckDBPyConnection, store: Store, kind: str, rel: str, subjects: str | None
) -> list[bytes]:
    """The log entries of every row of one stored file, in file order."""
    path = store.root / rel
    if not path.exists():
        raise StoreCorruptError(str(path), "a committed data file is missing")
    cs = commitments(con, kind, path, subjects, store_secret(store.home))
    return [entry_of(kind, c) for c in cs]


def commit_store(store: Store, log: Log, con: duckdb.DuckDBPyConnection | None = None) -> int:
    """Append every manifest batch the log does not hold yet; return how many were appended.

    Call it with the store's writer lock held (an ``on_commit`` hook is).
    """
    done = {a.get("batch") for a in log.appends() if a.get("source") == SOURCE}
    todo = [b for b in store.manifest()["batches"] if b["id"] not in done and b["files"]]
    if not todo:
        return 0
    own = con is None
    if con is None:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
    try:
        subjects = subjects_view(con, store)
        secret = store_secret(store.home)
        with log.writer() as w:
            for batch in todo:
                files: list[dict[str, Any]] = []
                count = 0
                for kind, rel in batch_files(batch):
                    if kind not in KINDS:
                        continue
                    rows = _rows(store, rel)
                    files.append(
                        {"kind": kind, "file": rel, "first": w.size + count, "count": rows}
                    )
                    count += rows
                # the leaf hashes are left to the log: its worker processes hash them while
                # this process writes the tiles (DuckDB's sha256 took about twice the CPU)
                chunks = (
                    entries
                    for f in files
                    for entries in iter_entries(
                        con, f["kind"], store.root / f["file"], subjects, secret, CHUNK_ROWS
                    )
                )
                w.append_chunks(
                    chunks, count, {"source": SOURCE, "batch": batch["id"], "files": files}
                )
    finally:
        if own:
            con.close()
    return len(todo)


def _rows(store: Store, rel: str) -> int:
    path = store.root / rel
    if not path.exists():
        raise StoreCorruptError(str(path), "a committed data file is missing")
    return int(pq.ParquetFile(path).metadata.num_rows)


def locate(log: Log, index: int) -> dict[str, Any] | None:
    """Which stored file and row leaf ``index`` commits to (None for leaves of other sources)."""
    for a in log.appends():
        if a["first"] <= index < a["first"] + a["count"]:
            for f in a.get("files", ()):
                if f["first"] <= index < f["first"] + f["count"]:
                    return {**f, "batch": a.get("batch"), "row": index - f["first"]}
            return None
    return None


def record_of_leaf(store: Store, log: Log, index: int) -> dict[str, Any] | None:
    """What leaf ``index`` commits to, when it is a stored record: ``kind``, ``key`` (the
    record's id), ``at`` (its time field, or None) and the ``file`` and ``row`` it is in.
    None for a leaf of another source, or a record since erased."""
    where = locate(log, index)
    if where is None:
        return None
    kind = where.get("kind")
    path = store.root / where["file"]
    if kind not in KINDS or not path.exists():
        return None
    k = KINDS[kind]
    cols = f"CAST({key_sql(k)} AS VARCHAR) AS key" + (
        f', CAST("{k.time_field}" AS VARCHAR) AS at' if k.time_field else ", NULL AS at"
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        rows = con.execute(
            f"SELECT {cols} FROM read_parquet({literal(path)}, file_row_number=true, "
            "hive_partitioning=false) WHERE file_row_number = ?",
            [int(where["row"])],
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return None
    return {
        "kind": kind,
        "key": rows[0][0],
        "at": rows[0][1],
        "file": where["file"],
        "row": int(where["row"]),
    }


def leaf_of(store: Store, log: Log, kind: str, key: str) -> int:
    """The leaf index a stored record (by kind and key) was committed as; NotFoundError when absent."""
    if kind not in KINDS:
        raise NotFoundError(kind, "no such record kind")
    k = KINDS[kind]
    files = {f["file"]: f["first"] for a in log.appends() for f in a.get("files", ())}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        for rel in (r for b in store.manifest()["batches"] for r in b["files"].get(kind, ())):
            if rel not in files:
                continue
            src = literal(store.root / rel)
            row = con.execute(
                f"SELECT file_row_number FROM read_parquet({src}, file_row_number=true, hive_partitioning=false) "
                f"WHERE CAST({key_sql(k)} AS VARCHAR) = ? LIMIT 1",
                [key],
            ).fetchall()
            if row:
                return int(files[rel] + row[0][0])
    finally:
        con.close()
    raise NotFoundError(f"{kind}:{key}", "no such record in the log")
