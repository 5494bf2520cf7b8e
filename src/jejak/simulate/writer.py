"""Writing the simulated export: one file per record kind, streamed, into a folder that appears whole.

Formats (``shared/spec/operator-export.md`` §Files):

- ``parquet``: ``<kind>.parquet``, written batch by batch with
  :class:`pyarrow.parquet.ParquetWriter` (zstd, one row group per batch).
  Column types are the spec's (timestamps as UTC instants, dates, integers,
  booleans, lists); an outlet's ``networks`` is ``;``-separated text.
  Repeated text (enums, outlet and package ids, addresses) is dictionary
  encoded in memory, which Parquet stores natively; the Arrow schema is not
  embedded, so every reader sees plain strings.
- ``csv``: ``<kind>.csv``, header row, RFC 4180 quoting, timestamps as local
  WIB time with their offset (``2016-07-18T21:14:40+07:00``), lists ``;``-joined.
- ``jsonl``: ``<kind>/part-NNNNN.jsonl``, one part per batch, same values as CSV.

Timestamps arrive as integer seconds since the epoch (UTC), dates as
:class:`datetime.date` or days since the epoch.

Example::

    >>> w = ExportWriter(Path("/tmp/x"), "csv")                       # doctest: +SKIP
    >>> w.write_rows("packages", [{"package_id": "P1", "price": 1000}])  # doctest: +SKIP
    >>> w.close()                                                      # doctest: +SKIP
    {'packages': 1, ...}
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jejak.schema import KINDS

FORMATS = ("parquet", "csv", "jsonl")
TS = pa.timestamp("us", tz="UTC")
#: the local time zone CSV and JSON Lines timestamps are written in (WIB)
TEXT_OFFSET_HOURS = 7
_EPOCH = date(1970, 1, 1)


def export_type(kind: str, name: str) -> pa.DataType:
    f = KINDS[kind].field(name)
    return pa.string() if f.type == "cidrs" else f.arrow_type


def export_schema(kind: str) -> pa.Schema:
    return pa.schema([pa.field(n, export_type(kind, n)) for n in KINDS[kind].names])


def _column(kind: str, name: str, values: Any, n: int) -> pa.Array:
    typ = export_type(kind, name)
    if values is None:
        return pa.nulls(n, typ)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if pa.types.is_dictionary(values.type) and pa.types.is_string(typ):
            return values
        if values.type == typ:
            return values
        if pa.types.is_timestamp(typ) and pa.types.is_integer(values.type):
            return pc.multiply(values.cast(pa.int64()), 1_000_000).cast(typ)
        return values.cast(typ)
    if isinstance(values, np.ndarray):
        if pa.types.is_timestamp(typ):
            return pa.array(values.astype(np.int64) * 1_000_000, type=pa.int64()).cast(typ)
        if pa.types.is_date(typ):
            return pa.array(values.astype(np.int32), type=pa.int32()).cast(typ)
        return pa.array(values, type=typ)
    # a Python list (rows of the planted cases)
    if pa.types.is_timestamp(typ):
        return pa.array(
            [None if v is None else int(v) * 1_000_000 for v in values], pa.int64()
        ).cast(typ)
    if pa.types.is_date(typ):
        return pa.array(
            [
                None
                if v is None
                else (v if isinstance(v, date) else _EPOCH.fromordinal(_EPOCH.toordinal() + int(v)))
                for v in values
            ],
            typ,
        )
    if name == "networks":
        return pa.array([";".join(v) if isinstance(v, list | tuple) else v for v in values], typ)
    return pa.array(values, typ)


def make_table(kind: str, columns: dict[str, Any], n: int | None = None) -> pa.Table:
    """A table of ``kind`` in the spec's column order; absent columns are null."""
    if n is None:
        first = next(v for v in columns.values() if v is not None)
        n = len(first)
    arrays = [_column(kind, name, columns.get(name), n) for name in KINDS[kind].names]
    return pa.Table.from_arrays(arrays, names=list(KINDS[kind].names))


def rows_table(kind: str, rows: list[dict[str, Any]]) -> pa.Table:
    """A table from row dicts (the planted cases' records)."""
    names = KINDS[kind].names
    return make_table(kind, {n: [r.get(n) for r in rows] for n in names}, len(rows))


def _textual(table: pa.Table) -> pa.Table:
    """Timestamps as local ISO 8601 text with offset, lists ``;``-joined, dictionaries decoded."""
    cols = []
    for col in table.columns:
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        if pa.types.is_timestamp(arr.type):
            local = pc.add(arr.cast(pa.int64()), TEXT_OFFSET_HOURS * 3600 * 1_000_000).cast(
                pa.timestamp("us")
            )
            local = pc.floor_temporal(local, unit="second").cast(pa.timestamp("s"))
            text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S")
            arr = pc.binary_join_element_wise(text, f"+{TEXT_OFFSET_HOURS:02d}:00", "")
        elif pa.types.is_list(arr.type):
            arr = pc.binary_join(arr, ";")
        cols.append(arr)
    return pa.Table.from_arrays(cols, names=table.column_names)


#: tables handed to the writing thread and not yet written, at most
MAX_PENDING = 6


class ExportWriter:
    """Streams tables of each kind into ``folder`` in one format; :meth:`close` returns row counts.

    Encoding and compressing happen on one background thread (Arrow releases
    the GIL), in the order the tables were given, while the caller generates
    the next batch; at most :data:`MAX_PENDING` tables wait.
    """

    def __init__(self, folder: Path, fmt: str, *, compression: str = "lz4") -> None:
        self.folder = folder
        self.fmt = fmt
        self.compression = compression
        self.counts: dict[str, int] = {k: 0 for k in KINDS}
        self._parquet: dict[str, tuple[pq.ParquetWriter, pa.Schema]] = {}
        self._csv: dict[str, tuple[Any, pacsv.CSVWriter, pa.Schema]] = {}
        self._parts: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jejak-simulate-writer")
        self._pending: deque[Future[None]] = deque()

    def write(self, kind: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.counts[kind] += table.num_rows
        while len(self._pending) >= MAX_PENDING:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write, kind, table))

    def _write(self, kind: str, table: pa.Table) -> None:
        if self.fmt == "parquet":
            entry = self._parquet.get(kind)
            if entry is None:
                schema = _file_schema(table, kind)
                dictionary = [f.name for f in schema if pa.types.is_dictionary(f.type)]
                w = pq.ParquetWriter(
                    self.folder / f"{kind}.parquet",
                    schema,
                    compression=self.compression,
                    use_dictionary=dictionary or False,
                    store_schema=False,
                    # min/max of text columns cost a third of the encoding time and serve no
                    # reader of an export; those of instants, dates and amounts are cheap
                    write_statistics=[f.name for f in schema if not _is_text(f.type)] or False,
                )
                entry = (w, schema)
                self._parquet[kind] = entry
            entry[0].write_table(_conform(table, entry[1]), row_group_size=max(table.num_rows, 1))
        elif self.fmt == "csv":
            text = _textual(table)
            csv_entry = self._csv.get(kind)
            if csv_entry is None:
                fh = open(self.folder / f"{kind}.csv", "wb")  # noqa: SIM115 - closed in close()
                options = pacsv.WriteOptions(quoting_style="needed")
                csv_entry = (
                    fh,
                    pacsv.CSVWriter(fh, text.schema, write_options=options),
                    text.schema,
                )
                self._csv[kind] = csv_entry
            csv_entry[1].write_table(
                text.cast(csv_entry[2]) if text.schema != csv_entry[2] else text
            )
        else:
            text = _textual(table)
            part = self._parts.get(kind, 0) + 1
            self._parts[kind] = part
            folder = self.folder / kind
            folder.mkdir(exist_ok=True)
            names = text.column_names
            with open(folder / f"part-{part:05d}.jsonl", "w", encoding="utf-8") as out:
                for row in zip(*(c.to_pylist() for c in text.columns), strict=True):
                    out.write(
                        json.dumps(
                            dict(zip(names, (_plain(v) for v in row), strict=True)),
                            ensure_ascii=False,
                        )
                    )
                    out.write("\n")

    def write_rows(self, kind: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.write(kind, rows_table(kind, rows))

    def abort(self) -> None:
        """Stop writing: drop the tables not yet written, wait for the one being written, close files."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
        for w, _schema in self._parquet.values():
            w.close()
        for fh, cw, _schema in self._csv.values():
            cw.close()
            fh.close()
        self._parquet.clear()
        self._csv.clear()

    def close(self) -> dict[str, int]:
        """Finish every file; kinds that got no rows get an empty file (header or schema only)."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for kind in KINDS:
            if self.counts[kind] == 0:
                empty = make_table(kind, {}, 0)
                if self.fmt == "parquet":
                    pq.write_table(
                        empty,
                        self.folder / f"{kind}.parquet",
                        compression=self.compression,
                        store_schema=False,
                    )
                elif self.fmt == "csv":
                    pacsv.write_csv(_textual(empty), self.folder / f"{kind}.csv")
                else:
                    (self.folder / f"{kind}.jsonl").write_text("", encoding="utf-8")
        for w, _schema in self._parquet.values():
            w.close()
        for fh, cw, _schema in self._csv.values():
            cw.close()
            fh.close()
        self._parquet.clear()
        self._csv.clear()
        return dict(self.counts)


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_dictionary(t) or pa.types.is_list(t))


def _file_schema(table: pa.Table, kind: str) -> pa.Schema:
    """The export schema, with text columns that arrive dictionary-encoded kept so in the file."""
    fields = []
    for f, col in zip(export_schema(kind), table.columns, strict=True):
        if pa.types.is_dictionary(col.type) and pa.types.is_string(f.type):
            fields.append(pa.field(f.name, pa.dictionary(pa.int32(), pa.string())))
        else:
            fields.append(f)
    return pa.schema(fields)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast each column of ``table`` to the file's schema."""
    cols = []
    for col, f in zip(table.columns, schema, strict=True):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if arr.type != f.type:
            if pa.types.is_dictionary(f.type) and not pa.types.is_dictionary(arr.type):
                arr = pc.dictionary_encode(arr.cast(pa.string()))
                if arr.type != f.type:
                    arr = arr.cast(f.type)
            else:
                arr = arr.cast(f.type)
        cols.append(arr)
    return pa.Table.from_arrays(cols, schema=schema)


def _plain(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    return v
