"""What goes into the transparency log for a record: a keyed commitment, never the record.

A phone number has so few digits that a plain hash of it is no secret: anyone
can hash every number. So each leaf of the log commits to a record through a
secret:

    commitment = SHA-256( secret || 0x1F || canonical text of the record )
    entry      = kind (ASCII) || 0x20 || commitment            (the log entry, RFC 6962 leaf input)

* Records about a subscriber (they carry an ``msisdn``) use that subscriber's
  own secret: 32 random bytes made when jejak first sees the number, stored in
  ``store/subjects/<batch>.parquet`` and committed with the batch that brought
  it. Erasing the subscriber (a legal duty) deletes their records *and their
  secret*; the commitments stay in the log, every proof stays valid, and
  nobody, the operator included, can link them to the number any more.
* Other records (outlets, agents, shifts, sessions, packages) use the store's
  own secret, ``keys/store.secret``.

The canonical text is :func:`jejak.validate.canonical_sql`: every field in the
spec's order, in an engine-independent form, so that ``jejak ledger verify``
recomputes each commitment from the stored record and finds any edit.

Example::

    >>> entry_of("provisioning", bytes(32))[:13]
    b'provisioning '
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from jejak.fsio import write_atomic
from jejak.schema import KINDS
from jejak.sqlq import literal
from jejak.validate import canonical_sql

SECRET_BYTES = 32
SEPARATOR = b"\x1f"


def entry_of(kind: str, commitment: bytes) -> bytes:
    """The log entry for one record's commitment."""
    return kind.encode("ascii") + b" " + commitment


def store_secret(home: Path) -> bytes:
    """The store-wide secret for records that name no subscriber (made on first use, mode 0600)."""
    path = home / "keys" / "store.secret"
    if path.exists():
        return path.read_bytes()
    write_atomic(path, os.urandom(SECRET_BYTES), mode=0o600, mkdir=True)
    return path.read_bytes()


#: domain separation of the keyed hash that remembers an erased subscriber (never the number)
ERASED_TAG = b"\x1ferased\x1f"


def erased_hash(secret: bytes, msisdn: str) -> str:
    """The keyed hash by which the store remembers an erased subscriber (hex).

    ``SHA-256(store secret || 0x1F "erased" 0x1F || msisdn)``: without the
    store's secret nobody can test a number against it, so the list of erased
    subscribers holds no personal data.
    """
    return hashlib.sha256(secret + ERASED_TAG + msisdn.encode("utf-8")).hexdigest()


def erased_hash_sql(column: str, secret_hex: str) -> str:
    """SQL computing :func:`erased_hash` of a VARCHAR column (NULL stays NULL)."""
    return f"sha256(from_hex('{secret_hex}') || from_hex('{ERASED_TAG.hex()}') || encode({column}))"


def new_secrets(msisdns: list[str]) -> pa.Table:
    """Fresh random secrets for subscribers seen for the first time."""
    raw = os.urandom(SECRET_BYTES * len(msisdns))
    secrets = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(SECRET_BYTES), len(msisdns), [None, pa.py_buffer(raw)]
    )
    return pa.table({"msisdn": pa.array(msisdns, pa.string()), "secret": secrets})


def commitment_sql(kind_name: str, source: str, subjects: str | None, store_secret_hex: str) -> str:
    """SQL: the commitment (32-byte BLOB) of every row of ``source``, in ``file_row_number`` order.

    ``source`` must expose the kind's fields and ``file_row_number``; ``subjects``
    is a relation of (msisdn, secret) for kinds that name a subscriber.
    """
    kind = KINDS[kind_name]
    text = canonical_sql(kind, "r")
    if "msisdn" in kind.names and subjects is not None:
        return (
            f"SELECT r.file_row_number, unhex(sha256(coalesce(s.secret, from_hex('{store_secret_hex}')) || '\\x1F'::BLOB || encode({text}))) AS commitment "
            f"FROM {source} r LEFT JOIN {subjects} s ON s.msisdn = r.msisdn ORDER BY r.file_row_number"
        )
    return (
        f"SELECT r.file_row_number, unhex(sha256(from_hex('{store_secret_hex}') || '\\x1F'::BLOB || encode({text}))) "
        f"AS commitment FROM {source} r ORDER BY r.file_row_number"
    )


def iter_entries(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    file: Path,
    subjects: str | None,
    secret: bytes,
    chunk_rows: int = 1 << 20,
) -> Iterator[list[bytes]]:
    """The log entries of every record in one stored file, in file order, ``chunk_rows`` at a time.

    The entries are computed by DuckDB, in parallel, rather than one Python call per
    record: committing a batch is part of every ingest. Their leaf hashes are not: the
    log's worker processes hash them while the writer writes tiles (DuckDB's ``sha256``
    took about twice hashlib's CPU for the same bytes, and ran before any tile was written).
    """
    source = f"read_parquet({literal(file)}, file_row_number=true, hive_partitioning=false)"
    query = (
        f"SELECT entry FROM ("
        f"SELECT file_row_number, '{kind} '::BLOB || commitment AS entry "
        f"FROM ({commitment_sql(kind, source, subjects, secret.hex())})) ORDER BY file_row_number"
    )
    for batch in con.sql(query).to_arrow_reader(chunk_rows):
        yield batch.column(0).to_pylist()


def commitments(
    con: duckdb.DuckDBPyConnection, kind: str, file: Path, subjects: str | None, secret: bytes
) -> list[bytes]:
    """The commitments of every record in one stored file, in file order."""
    source = f"read_parquet({literal(file)}, file_row_number=true, hive_partitioning=false)"
    rows = con.sql(commitment_sql(kind, source, subjects, secret.hex())).to_arrow_table()
    return rows.column("commitment").to_pylist()
