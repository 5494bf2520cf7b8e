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
from collections import deque
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
    #: a link with a plain name that DuckDB reads instead of ``path`` (see alias_globs)
    alias: Path | None = None

    @property
    def label(self) -> str:
        return str(self.path)


@dataclass
class Ignored:
    """A file in a folder that is not part of the export (a README, a truth file)."""

    path: Path
    reason: str
    #: a data file that was meant to load but cannot: counted as not loaded (exit 1)
    refused: bool = False


def discover(paths: Iterable[Path | str]) -> tuple[list[Source], list[Ignored]]:
    """The export files under ``paths``, in a stable order.

    A file named on the command line must name a kind (else
    :class:`UnknownKindError`); inside a folder, files that are not export
    data are ignored and listed, so that a README beside the data does no harm.
    A data file whose name *almost* names a kind (``provisioning_2016.csv``,
    ``Provisioning.csv``) is listed as refused (``Ignored.refused``): it was
    surely meant to load, and skipping it quietly would lose its rows.
    Only regular files are read (a named pipe or device would hang or never
    end); each file and folder is read once, however many links lead to it, so
    a symlink loop ends where it starts.
    """
    sources: list[Source] = []
    ignored: list[Ignored] = []
    seen: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(str(path), "no such file or folder")
        if path.is_dir():
            _walk(path, kind_of_path(path.name), sources, ignored, seen)
            continue
        if not path.is_file():
            raise UsageError(str(path), "not a regular file (a pipe, socket or device)")
        fmt = format_of(path)
        if fmt is None:
            raise UnknownKindError(str(path), "not a CSV, JSON Lines or Parquet file")
        kind = kind_of_path(path.name)
        if kind is None:
            raise UnknownKindError(str(path), _no_kind(path.name))
        if _first_visit(path, seen):
            sources.append(Source(path, kind, fmt[0], fmt[1]))
    return sources, ignored


def _no_kind(name: str) -> str:
    stem = name.split(".", 1)[0].split("-", 1)[0]
    near = near_kind(name)
    hint = f" (name it {near}.<ext> or {near}-<part>.<ext>)" if near else ""
    return f"no record kind is named {stem!r}{hint}"


def near_kind(name: str) -> str | None:
    """The kind a file name was surely meant to name, when it does not name one exactly.

    >>> near_kind("provisioning_2016.csv"), near_kind("Charges.csv"), near_kind("notes.csv")
    ('provisioning', 'charges', None)
    """
    low = name.lower()
    for kind in sorted(KINDS, key=len, reverse=True):
        if low.startswith(kind) and kind_of_path(name) != kind:
            return kind
    return None


def _first_visit(path: Path, seen: set[tuple[int, int]]) -> bool:
    st = path.stat()
    ident = (st.st_dev, st.st_ino)
    if ident in seen:
        return False
    seen.add(ident)
    return True


def _walk(
    folder: Path,
    kind: str | None,
    sources: list[Source],
    ignored: list[Ignored],
    seen: set[tuple[int, int]],
) -> None:
    if not _first_visit(folder, seen):
        ignored.append(Ignored(folder, "already read (a link back into the export)"))
        return
    for child in sorted(folder.iterdir()):
        if child.name.startswith((".", "_")):
            continue
        if not child.exists():
            ignored.append(Ignored(child, "a link to nothing"))
            continue
        if child.is_dir():
            sub = kind or kind_of_path(child.name)
            if sub is None:
                ignored.append(Ignored(child, "folder is not named after a record kind"))
                continue
            _walk(child, sub, sources, ignored, seen)
            continue
        fmt = format_of(child)
        if fmt is None:
            ignored.append(Ignored(child, "not a CSV, JSON Lines or Parquet file"))
            continue
        if not child.is_file():
            ignored.append(
                Ignored(child, "not a regular file (a pipe, socket or device)", refused=True)
            )
            continue
        child_kind = kind or kind_of_path(child.name)
        if child_kind is None:
            near = near_kind(child.name)
            if near:
                ignored.append(Ignored(child, _no_kind(child.name), refused=True))
            else:
                ignored.append(Ignored(child, "file name names no record kind"))
            continue
        if not _first_visit(child, seen):
            ignored.append(Ignored(child, "already read (the same file under another name)"))
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


#: characters DuckDB's readers take as a glob pattern, even when a file of that very name exists
GLOB_CHARS = frozenset("*?[]{}")


def alias_globs(srcs: Iterable[Source], scratch: Path) -> None:
    """Give every source whose path holds a glob character a link with a plain name in ``scratch``.

    DuckDB expands ``*``, ``?``, ``[ab]`` and ``{a,b}`` in any path it reads, so
    ``provisioning-[ab].csv`` would read ``provisioning-a.csv`` and
    ``provisioning-b.csv`` instead of itself. A file name is data, never a pattern.
    """
    for n, src in enumerate(srcs):
        if GLOB_CHARS.intersection(str(src.path.absolute())):
            scratch.mkdir(parents=True, exist_ok=True)
            link = scratch / f"source-{n}{''.join(src.path.suffixes[-2:])}"
            link.unlink(missing_ok=True)
            link.symlink_to(src.path.absolute())
            src.alias = link


def duck_path(src: Source) -> str:
    """The path of ``src`` as a quoted DuckDB string literal, safe from globbing (see alias_globs)."""
    path = src.alias or src.path.absolute()
    if GLOB_CHARS.intersection(str(path)):
        raise UnreadableFileError(
            src.label, "its path holds a glob character and no plain-named link was made"
        )
    return literal(path)


#: CSV files up to this size are read by jejak's own reader (exact lines, no per-file set-up
#: cost); larger ones by DuckDB's, unless it finds anything wrong (see csv_relation)
CAREFUL_BYTES = 4 << 20
#: a quoted cell may span at most this many lines; an open quote that does not close
#: within them quarantines its own line and the next line is read afresh
MAX_SPAN_LINES = 100
MAX_SPAN_CHARS = 1 << 20
#: a rejected line is kept up to this many characters
MAX_KEPT_CHARS = 100_000
CSV_CHUNK = 100_000


def csv_fast(con: duckdb.DuckDBPyConnection, src: Source, table: str) -> bool:
    """Read a large CSV file with DuckDB's fast reader into temp table ``table`` (the kind's
    fields as VARCHAR, plus ``_line``); True when it read every row cleanly.

    Only files above :data:`CAREFUL_BYTES` are tried; when it returns False
    (a small file, or DuckDB rejected a row or failed), read the file with
    :func:`careful_chunks` instead, which never stops at a bad row. ``_line`` is
    the record's line counting the header as line 1 (the physical line, unless
    a quoted cell spans lines: then the careful reader's lines are exact).
    """
    if src.path.stat().st_size <= CAREFUL_BYTES:
        return False
    cols = src.columns
    col_spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in cols) + "}"
    wanted = ", ".join(
        f'"{n}"' if n in cols else f'NULL::VARCHAR AS "{n}"' for n in KINDS[src.kind].names
    )
    reader = (
        f"read_csv({duck_path(src)}, columns={col_spec}, header=true, auto_detect=false, "
        f"delim=',', quote='\"', escape='\"', strict_mode=true, store_rejects=true, "
        f"rejects_table='_rej', rejects_scan='_rej_scan', null_padding=false, "
        f"compression={'gzip' if src.gzip else 'none'!r})"
    )
    try:
        con.execute("DROP TABLE IF EXISTS _rej; DROP TABLE IF EXISTS _rej_scan;")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT {wanted}, row_number() OVER () + 1 AS _line FROM {reader}"
        )
    except duckdb.Error:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        return False
    if con.execute("SELECT count(*) FROM _rej").fetchall()[0][0]:
        con.execute(f"DROP TABLE {table}")
        return False
    return True


def careful_chunks(src: Source) -> Iterator[tuple[pa.Table, list[tuple[int, str, str]]]]:
    """Every record of a CSV file, in chunks: (Arrow table of the kind's fields as strings plus
    ``_line``, rejected rows as (line, reason, raw line)).

    Every record is in exactly one of the two, with the physical line it starts
    on (the header is line 1). A row whose structure is broken (too many or too
    few cells, a stray quote, a quote that does not close within
    :data:`MAX_SPAN_LINES` lines) is rejected alone: the next line is read
    afresh, so one bad quote never swallows the rest of the file. Line ends may
    be LF, CRLF or mixed (``\\r\\r\\n`` too); a bare CR inside a line is data.
    """
    names = KINDS[src.kind].names
    where = {c: i for i, c in enumerate(src.columns)}
    idx = [where.get(n) for n in names]  # None: a column the file's format version lacks
    schema = pa.schema([*(pa.field(n, pa.string()) for n in names), pa.field("_line", pa.int64())])
    good: list[tuple[int, list[str]]] = []
    bad: list[tuple[int, str, str]] = []

    def chunk() -> tuple[pa.Table, list[tuple[int, str, str]]]:
        cols = [
            pa.array([c[i] for _, c in good] if i is not None else [None] * len(good), pa.string())
            for i in idx
        ]
        cols.append(pa.array([n for n, _ in good], pa.int64()))
        out = (pa.Table.from_arrays(cols, schema=schema), list(bad))
        good.clear()
        bad.clear()
        return out

    for line, cells, reason, raw in careful_csv(src, len(src.columns)):
        if cells is not None:
            good.append((line, cells))
        else:
            bad.append((line, reason, raw))
        if len(good) + len(bad) >= CSV_CHUNK:
            yield chunk()
    yield chunk()


def _physical_lines(src: Source) -> Iterator[tuple[int, str, str]]:
    """(line number, text without its line end, the line end) of every line of a CSV file."""
    opener = gzip.open if src.gzip else open
    number = 0
    try:
        with opener(src.path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise UnreadableFileError(
                        src.label, f"not UTF-8 text (line {number}, byte {exc.start + 1})"
                    ) from exc
                if number == 1:
                    text = text.lstrip("\ufeff")
                body = text.rstrip("\r\n")
                yield number, body, text[len(body) :]
    except (OSError, EOFError) as exc:
        raise UnreadableFileError(src.label, f"{_short(exc)} (after line {number})") from exc


def split_cells(text: str) -> tuple[list[str], str]:
    """The cells of one CSV record (RFC 4180 quoting) and how it ended: ``ok``, ``open`` (a quoted
    cell goes on past the end of ``text``) or ``bad`` (a quote inside an unquoted cell, or text
    after a closing quote).

    >>> split_cells('a,"b,""c"" d",')
    (['a', 'b,"c" d', ''], 'ok')
    >>> split_cells('a,"b')[1], split_cells('a,b"c')[1]
    ('open', 'bad')
    """
    if '"' not in text:
        return text.split(","), "ok"
    cells: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            j, parts = i + 1, []
            while True:
                q = text.find('"', j)
                if q < 0:
                    return cells, "open"
                parts.append(text[j:q])
                if q + 1 < n and text[q + 1] == '"':
                    parts.append('"')
                    j = q + 2
                    continue
                break
            cells.append("".join(parts))
            i = q + 1
            if i == n:
                return cells, "ok"
            if text[i] != ",":
                return cells, "bad"
            i += 1
        else:
            c = text.find(",", i)
            cell = text[i:] if c < 0 else text[i:c]
            if '"' in cell:
                return cells, "bad"
            cells.append(cell)
            if c < 0:
                return cells, "ok"
            i = c + 1


def careful_csv(src: Source, ncols: int) -> Iterator[tuple[int, list[str] | None, str, str]]:
    """Every record of a CSV file after its header: (line, cells, "", "") when it is sound,
    (line, None, reason, raw line) when it is not. Blank lines hold no record and are skipped."""
    lines = _physical_lines(src)
    if next(lines, None) is None:  # the header (read_header checked it)
        return
    buf: deque[tuple[int, str, str]] = deque()

    def pull(k: int) -> bool:
        while len(buf) < k:
            nxt = next(lines, None)
            if nxt is None:
                return False
            buf.append(nxt)
        return True

    while pull(1):
        number, body, _end = buf[0]
        if not body.strip():
            buf.popleft()
            continue
        cells, state = split_cells(body)
        span = 1
        if state == "open":
            text = body
            while span < MAX_SPAN_LINES and len(text) < MAX_SPAN_CHARS and pull(span + 1):
                text += buf[span - 1][2] + buf[span][1]
                span += 1
                cells, state = split_cells(text)
                if state != "open":
                    break
            if state != "ok" or len(cells) != ncols:
                why = (
                    f"unterminated quote (no closing quote within {MAX_SPAN_LINES} lines)"
                    if state == "open"
                    else "an open quote that closes lines later, in the wrong place"
                )
                buf.popleft()
                yield number, None, why, _kept(body)
                continue
        elif state == "bad":
            buf.popleft()
            yield number, None, "misplaced quote", _kept(body)
            continue
        elif len(cells) != ncols:
            buf.popleft()
            why = (
                "more cells than the header"
                if len(cells) > ncols
                else "too few cells for the header"
            )
            yield number, None, f"{why} ({len(cells)} cells, the header has {ncols})", _kept(body)
            continue
        for _ in range(span):
            buf.popleft()
        yield number, cells, "", ""


def _kept(raw: str) -> str:
    if len(raw) <= MAX_KEPT_CHARS:
        return raw
    return raw[:MAX_KEPT_CHARS] + f"... [cut: the line has {len(raw):,} characters]"


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
    return f"(SELECT *, file_row_number + 1 AS _line FROM read_parquet({duck_path(src)}, file_row_number=true, hive_partitioning=false))"
