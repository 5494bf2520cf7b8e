"""Finding export files and opening them as DuckDB relations.

The operator export (``shared/spec/operator-export.md``) comes as CSV, JSON
Lines or Parquet, optionally gzip-compressed, as single files or as folders of
parts named after their kind. :func:`discover` turns the paths a user gives
into :class:`Source` objects; :meth:`Source.relation` opens one as a DuckDB
relation whose columns are the kind's fields (as VARCHAR, or as Parquet's own
types) plus ``_line``: the CSV line, JSON line or Parquet row the record came
from, so that a quarantined row can be found again.

Example::

    >>> from pathlib import Path
    >>> [s.kind for s in discover([Path("shared/scenarios/seed-2016")])][:2]  # doctest: +SKIP
    ['agents', 'charges']
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jejak.errors import UnknownKindError, UnreadableFileError, UsageError
from jejak.schema import KINDS, kind_of_path
from jejak.sqlq import literal

Format = Literal["csv", "jsonl", "parquet"]

#: file endings jejak reads, and the format each stands for
SUFFIXES: dict[str, tuple[Format, bool]] = {
    ".csv": ("csv", False),
    ".csv.gz": ("csv", True),
    ".jsonl": ("jsonl", False),
    ".jsonl.gz": ("jsonl", True),
    ".ndjson": ("jsonl", False),
    ".ndjson.gz": ("jsonl", True),
    ".parquet": ("parquet", False),
}

JSONL_CHUNK = 200_000


def format_of(path: Path) -> tuple[Format, bool] | None:
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return SUFFIXES[suffix]
    return None


@dataclass
class Source:
    """One export file of one kind."""

    path: Path
    kind: str
    format: Format
    gzip: bool = False
    #: the columns the file has (read from its header or schema)
    columns: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.path)


@dataclass
class Ignored:
    """A file in a folder that is not part of the export (a README, a truth file)."""

    path: Path
    reason: str


def discover(paths: Iterable[Path | str]) -> tuple[list[Source], list[Ignored]]:
    """The export files under ``paths``, in a stable order.

    A file named on the command line must name a kind (else
    :class:`UnknownKindError`); inside a folder, files that are not export
    data are ignored and listed, so that a README beside the data does no harm.
    """
    sources: list[Source] = []
    ignored: list[Ignored] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(str(path), "no such file or folder")
        if path.is_file():
            fmt = format_of(path)
            if fmt is None:
                raise UnknownKindError(str(path), "not a CSV, JSON Lines or Parquet file")
            kind = kind_of_path(path.name)
            if kind is None:
                raise UnknownKindError(
                    str(path), f"no record kind is named {path.name.split('.')[0].split('-')[0]!r}"
                )
            sources.append(Source(path, kind, fmt[0], fmt[1]))
        else:
            _walk(path, kind_of_path(path.name), sources, ignored)
    return sources, ignored


def _walk(folder: Path, kind: str | None, sources: list[Source], ignored: list[Ignored]) -> None:
    for child in sorted(folder.iterdir()):
        if child.name.startswith((".", "_")):
            continue
        if child.is_dir():
            sub = kind or kind_of_path(child.name)
            if sub is None:
                ignored.append(Ignored(child, "folder is not named after a record kind"))
                continue
            _walk(child, sub, sources, ignored)
            continue
        fmt = format_of(child)
        if fmt is None:
            ignored.append(Ignored(child, "not a CSV, JSON Lines or Parquet file"))
            continue
        child_kind = kind or kind_of_path(child.name)
        if child_kind is None:
            ignored.append(Ignored(child, "file name names no record kind"))
            continue
        sources.append(Source(child, child_kind, fmt[0], fmt[1]))


# ---------------------------------------------------------------- opening


def read_header(src: Source) -> list[str]:
    """The column names of ``src``; raises UnreadableFileError when it cannot be read."""
    try:
        if src.format == "csv":
            opener = gzip.open if src.gzip else open
            with opener(src.path, "rt", encoding="utf-8", newline="") as fh:
                row = next(csv.reader(fh), None)
            if row is None:
                raise UnreadableFileError(src.label, "empty file: no header row")
            return [c.strip().lstrip("\ufeff") for c in row]
        if src.format == "parquet":
            return list(pq.read_schema(src.path).names)
        return []  # JSON Lines carry names per line
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            src.label, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except (OSError, EOFError, pa.ArrowException) as exc:
        raise UnreadableFileError(src.label, _short(exc)) from exc


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:300]


def check_columns(src: Source) -> None:
    """Raise when a CSV or Parquet file lacks one of its kind's fields."""
    if src.format == "jsonl":
        return
    cols = read_header(src)
    src.columns = cols
    kind = KINDS[src.kind]
    missing = [n for n in kind.names if n not in cols and n not in kind.optional_columns]
    if missing:
        raise UnreadableFileError(
            src.label, f"missing column(s) {', '.join(missing)} for kind {src.kind}"
        )
    dupes = {c for c in cols if cols.count(c) > 1}
    if dupes:
        raise UnreadableFileError(src.label, f"duplicate column(s) {', '.join(sorted(dupes))}")


def parquet_types(src: Source) -> dict[str, pa.DataType]:
    schema = pq.read_schema(src.path)
    return {f.name: f.type for f in schema}


def csv_relation(con: duckdb.DuckDBPyConnection, src: Source, table: str) -> int:
    """Read a CSV file into temp table ``table`` (all VARCHAR plus ``_line``).

    Rows whose structure is broken (too many or too few cells, an unclosed
    quote) are left out of ``table`` and returned by :func:`csv_rejects`. The
    ``_line`` of a row is its record's line in the file, counting the header
    as line 1 (the physical line, unless a quoted cell spans lines).
    Returns the number of rows read.
    """
    cols = src.columns
    col_spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in cols) + "}"
    path = literal(src.path)
    wanted = ", ".join(
        f'"{n}"' if n in cols else f'NULL::VARCHAR AS "{n}"' for n in KINDS[src.kind].names
    )
    reader = (
        f"read_csv({path}, columns={col_spec}, header=true, auto_detect=false, delim=',', "
        f"quote='\"', escape='\"', strict_mode=true, store_rejects=true, "
        f"rejects_table='_rej', rejects_scan='_rej_scan', null_padding=false, "
        f"compression={'gzip' if src.gzip else 'none'!r})"
    )
    try:
        con.execute("DROP TABLE IF EXISTS _rej; DROP TABLE IF EXISTS _rej_scan;")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_raw AS "
            f"SELECT row_number() OVER () AS _rec, {wanted} FROM {reader}"
        )
    except duckdb.Error as exc:
        raise UnreadableFileError(src.label, _short(exc)) from exc
    bad_unicode = con.execute(
        "SELECT min(line) FROM _rej WHERE error_type = 'INVALID UNICODE'"
    ).fetchall()[0]
    if bad_unicode and bad_unicode[0] is not None:
        con.execute(f"DROP TABLE {table}_raw")
        raise UnreadableFileError(src.label, f"not UTF-8 text (line {bad_unicode[0]})")
    # map record ordinals to lines: the r-th good record sits after r-1 good ones,
    # the header, and every rejected line before it (see module docstring).
    n_rej = con.execute("SELECT count(*) FROM _rej").fetchall()[0][0]
    if n_rej:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rej_adj AS SELECT line - row_number() OVER (ORDER BY line) AS adj, "
            "row_number() OVER (ORDER BY line) AS j FROM (SELECT DISTINCT line FROM _rej)"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT r.* EXCLUDE (_rec), "
            f"r._rec + 1 + coalesce(a.j, 0) AS _line FROM {table}_raw r "
            f"ASOF LEFT JOIN _rej_adj a ON r._rec >= a.adj"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * EXCLUDE (_rec), _rec + 1 AS _line FROM {table}_raw"
        )
    con.execute(f"DROP TABLE {table}_raw")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def csv_rejects(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    """(line, reason, raw line) of every CSV row rejected by the last :func:`csv_relation`."""
    rows = con.execute(
        "SELECT line, string_agg(DISTINCT error_type || ': ' || coalesce(error_message, ''), '; '), "
        "any_value(csv_line) FROM _rej GROUP BY line ORDER BY line"
    ).fetchall()
    return [(int(r[0]), _reject_reason(r[1]), r[2] or "") for r in rows]


def _reject_reason(text: str) -> str:
    t = text.lower()
    if "missing columns" in t:
        return "too few cells for the header"
    if "too many columns" in t:
        return "more cells than the header"
    if "quote" in t:
        return "unterminated or misplaced quote"
    return text.split(":", 1)[0].lower()


def jsonl_chunks(src: Source) -> Iterator[pa.Table]:
    """The lines of a JSON Lines file as Arrow tables of (``_line``, ``_raw``), blank lines skipped."""
    opener = gzip.open if src.gzip else open
    try:
        with opener(src.path, "rb") as fh:
            lines: list[int] = []
            raws: list[str] = []
            for number, raw in enumerate(io.BufferedReader(fh), start=1):
                text = raw.decode("utf-8").strip()
                if not text:
                    continue
                lines.append(number)
                raws.append(text)
                if len(lines) >= JSONL_CHUNK:
                    yield pa.table(
                        {"_line": pa.array(lines, pa.int64()), "_raw": pa.array(raws, pa.string())}
                    )
                    lines, raws = [], []
            if lines:
                yield pa.table(
                    {"_line": pa.array(lines, pa.int64()), "_raw": pa.array(raws, pa.string())}
                )
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(src.label, f"not UTF-8 text (line {number})") from exc
    except (OSError, EOFError) as exc:
        raise UnreadableFileError(src.label, _short(exc)) from exc


def jsonl_relation(con: duckdb.DuckDBPyConnection, src: Source, table: str) -> int:
    """Read a JSON Lines file into temp table ``table``: each field as VARCHAR, plus ``_line``, ``_json_error``.

    A list field may be a JSON array or a ``;``-separated string. A line that is
    not a JSON object keeps its text in ``_raw`` and gets ``_json_error``.
    """
    kind = KINDS[src.kind]
    parts = []
    for f in kind.names:
        path = literal("$." + json.dumps(f))
        parts.append(
            f"CASE WHEN json_type(_raw, {path}) = 'ARRAY' "
            f"THEN array_to_string(CAST(json_extract(_raw, {path}) AS VARCHAR[]), ';') "
            f"WHEN json_type(_raw, {path}) IN ('OBJECT') THEN json_extract(_raw, {path})::VARCHAR "
            f'ELSE json_extract_string(_raw, {path}) END AS "{f}"'
        )
    first = True
    total = 0
    for chunk in jsonl_chunks(src):
        con.register("_jsonl_chunk", chunk)
        # json_valid never raises; the extractors run only on text that passed it, so a
        # broken line becomes a quarantined row instead of failing the whole file
        ok = "(json_valid(_raw) AND json_type(CASE WHEN json_valid(_raw) THEN _raw END) = 'OBJECT')"
        fields = ", ".join(p.replace("_raw", "_j") for p in parts)
        select = (
            f"SELECT CASE WHEN _j IS NULL THEN 'not a JSON object' END AS _json_error, _line, _raw, {fields} "
            f"FROM (SELECT _line, _raw, CASE WHEN {ok} THEN _raw END AS _j FROM _jsonl_chunk)"
        )
        try:
            if first:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
                first = False
            else:
                con.execute(f"INSERT INTO {table} {select}")
        except duckdb.Error as exc:
            raise UnreadableFileError(src.label, _short(exc)) from exc
        finally:
            con.unregister("_jsonl_chunk")
        total += chunk.num_rows
    if first:  # empty file
        cols = ", ".join(f'NULL::VARCHAR AS "{n}"' for n in kind.names)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT NULL::VARCHAR AS _json_error, "
            f"NULL::BIGINT AS _line, NULL::VARCHAR AS _raw, {cols} WHERE false"
        )
    return total


def parquet_reader(src: Source) -> str:
    """A DuckDB table expression reading a Parquet file, with ``_line`` the 1-based row number."""
    path = literal(src.path)
    return f"(SELECT *, file_row_number + 1 AS _line FROM read_parquet({path}, file_row_number=true, hive_partitioning=false))"
