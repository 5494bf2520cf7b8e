"""Ingest: from export files to one committed batch of the event store.

One call of :meth:`jejak.store.Store.ingest` is one *batch*. For each file
(:mod:`jejak.sources`) every row is typed and checked (:mod:`jejak.validate`);
a row that breaks the contract goes to the quarantine with its file, line and
reason, and the rest of the file loads. Then, per kind, the good rows are
compared by identifier with each other and with the store:

* same identifier, same content  -> *duplicate*: counted, nothing written;
* same identifier, other content -> *conflict*: kept for review in the
  conflicts table, never written over the stored record;
* a new identifier               -> loaded.

New rows are written, sorted for the common lookups, to Parquet files in a
staging folder and committed by the store's manifest (see
:class:`jejak.store.Store` for why that makes a batch all-or-nothing).
Dangling references (a user ID, session, consent ... that no record names) are
loaded and reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jejak import index as X
from jejak import sources as S
from jejak.commitments import erased_hash, erased_hash_sql, new_secrets
from jejak.errors import InputError, UnreadableFileError
from jejak.schema import DANGLING_TARGETS, KINDS, Kind
from jejak.sqlq import literal, read_parquet
from jejak.validate import PY_CHECKS, Column, hash_sql, is_text, key_sql, lookup_table, select_sql

if TYPE_CHECKING:
    from jejak.store import Store

Progress = Callable[[str, int, int], None]

ROW_GROUP_SIZE = 32_768
#: a batch is written in sorted runs of at most this many rows, so that sorting needs
#: bounded memory and time whatever the input size
RUN_ROWS = 10_000_000


@dataclass
class KindCounts:
    read: int = 0
    loaded: int = 0
    duplicate: int = 0
    conflicting: int = 0
    quarantined: int = 0


@dataclass
class FileReport:
    """What became of one file's rows: ``read == loaded + duplicate + conflicting + quarantined``,
    unless the file was refused as a whole (``error``), when none of it was loaded."""

    path: str
    kind: str
    format: str
    read: int = 0
    quarantined: int = 0
    error: str | None = None
    loaded: int = 0
    duplicate: int = 0
    conflicting: int = 0

    @property
    def accounted(self) -> bool:
        """Whether every row read is loaded, a duplicate, a conflict or quarantined."""
        return self.read == self.loaded + self.duplicate + self.conflicting + self.quarantined

    def summary(self) -> str:
        """One line: ``rows in = loaded + duplicates + conflicts + quarantined``, or why it was refused."""
        if self.error:
            return f"{self.path}: refused, nothing of it loaded: {self.error}"
        return (
            f"{self.path}: {self.read:,} rows in = {self.loaded:,} loaded + {self.duplicate:,} "
            f"duplicates + {self.conflicting:,} conflicts + {self.quarantined:,} quarantined"
        )


@dataclass
class Dangling:
    """Loaded records whose ``field`` names a ``target`` record that no export holds."""

    kind: str
    field: str
    target: str
    count: int
    examples: list[str]


@dataclass
class IngestResult:
    """What one ingest did. ``exit_code`` is 1 when anything was quarantined or unreadable."""

    batch: str | None
    kinds: dict[str, KindCounts] = field(default_factory=dict)
    files: list[FileReport] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    dangling: list[Dangling] = field(default_factory=list)
    seconds: float = 0.0
    home: str = ""

    def _sum(self, attr: str) -> int:
        return sum(getattr(c, attr) for c in self.kinds.values())

    @property
    def read(self) -> int:
        return self._sum("read")

    @property
    def loaded(self) -> int:
        return self._sum("loaded")

    @property
    def duplicate(self) -> int:
        return self._sum("duplicate")

    @property
    def conflicting(self) -> int:
        return self._sum("conflicting")

    @property
    def quarantined(self) -> int:
        return self._sum("quarantined")

    @property
    def unreadable(self) -> list[FileReport]:
        return [f for f in self.files if f.error]

    @property
    def exit_code(self) -> int:
        return 1 if self.quarantined or self.unreadable else 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            read=self.read,
            loaded=self.loaded,
            duplicate=self.duplicate,
            conflicting=self.conflicting,
            quarantined=self.quarantined,
            exit_code=self.exit_code,
        )
        return d


ERASED = "_erased_subjects"
ERASED_REASON = (
    "msisdn: the subscriber was erased (jejak ledger erase); the record is refused and not "
    "kept: remove it from the export at the source"
)


class Ingest:
    """One batch being built. Use through :meth:`jejak.store.Store.ingest`."""

    def __init__(
        self, store: Store, con: duckdb.DuckDBPyConnection, batch: str, staging: Path
    ) -> None:
        self.store = store
        self.con = con
        self.batch = batch
        self.staging = staging
        self.result = IngestResult(batch=None, home=str(store.home))
        self._good: dict[str, str] = {}  # kind -> temp view of its good rows, from every file
        self._typed: dict[str, list[str]] = {}  # kind -> its typed tables (good and bad rows)
        self._quarantine_parts: list[str] = []
        self._conflict_parts: list[str] = []
        self._n = 0
        self._files: dict[str, FileReport] = {}
        self._csv_raw: dict[str, str] = {}  # kind -> temp table of its CSV rows, all files
        self._held: dict[str, list[pa.Table]] = {}  # kind -> CSV rows not yet in _csv_raw
        self._qrows: list[tuple[str, str, int, str, str | None]] = []  # broken CSV rows
        self._erased = self._erased_table()

    def _erased_table(self) -> str | None:
        """A temp table of the erased subscribers' keyed hashes (see Store.forget), if any."""
        hashes = self.store.erased()
        if not hashes:
            return None
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {ERASED} (h VARCHAR)")
        self.con.executemany(f"INSERT INTO {ERASED} VALUES (?)", [[h] for h in sorted(hashes)])
        return ERASED

    def _tmp(self, prefix: str) -> str:
        self._n += 1
        return f"_{prefix}{self._n}"

    # ------------------------------------------------------------ reading

    def read(self, srcs: Sequence[S.Source], progress: Progress | None) -> None:
        """Read every file; check every row. CSV rows of one kind are gathered from all its
        files and checked in one pass, so a folder of thousands of small parts costs little
        more than one file of the same rows."""
        for i, src in enumerate(srcs):
            if progress:
                progress(f"reading {src.path.name}", i, len(srcs))
            report = FileReport(str(src.path), src.kind, src.format + (".gz" if src.gzip else ""))
            self.result.files.append(report)
            self._files[report.path] = report
            self.result.kinds.setdefault(src.kind, KindCounts())
            try:
                self._read_one(src, i, report)
            except InputError as exc:
                report.error = exc.message
                report.read = report.quarantined = 0
        for name in list(self._held):
            self._flush_held(KINDS[name])
        if self._qrows:
            self.con.executemany(
                f"INSERT INTO {self._quarantine_table()} VALUES (?, ?, ?, ?, ?)", self._qrows
            )
            self._qrows = []
        for name, raw in sorted(self._csv_raw.items()):
            columns = {n: Column(f'src."{n}"') for n in KINDS[name].names}
            try:
                self._check(KINDS[name], raw, columns, "csv")
            except InputError as exc:  # cannot happen to text cells; if it does, say so per file
                for report in self.result.files:
                    if report.kind == name and report.format.startswith("csv"):
                        report.error = report.error or exc.message
            self.con.execute(f"DROP TABLE {raw}")
        for report in self.result.files:
            counts = self.result.kinds.get(report.kind)
            if counts is not None and not report.error:
                counts.read += report.read
                counts.quarantined += report.quarantined
        if progress:
            progress("read", len(srcs), len(srcs))

    def _read_one(self, src: S.Source, order: int, report: FileReport) -> None:
        kind = KINDS[src.kind]
        S.check_columns(src)
        con = self.con
        raw = self._tmp("raw")
        label = literal(str(src.path))
        if src.format == "csv":
            self._read_csv(src, kind, order, report)
            return
        if src.format == "jsonl":
            S.jsonl_relation(con, src, raw)
            columns = {n: Column(f'src."{n}"') for n in kind.names}
            view = self._tmp("src")
            con.execute(
                f"CREATE TEMP VIEW {view} AS SELECT *, {label} AS _src, {order}::BIGINT AS _order "
                f"FROM {raw}"
            )
            self._check(kind, view, columns, "jsonl")
            con.execute(f"DROP VIEW {view}")
            con.execute(f"DROP TABLE {raw}")
            return
        types = S.parquet_types(src)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {raw} AS SELECT *, {label} AS _src, "
                f"{order}::BIGINT AS _order FROM {S.parquet_reader(src)}"
            )
        except duckdb.Error as exc:
            raise UnreadableFileError(src.label, S._short(exc)) from exc
        columns = {
            n: Column(f'src."{n}"', is_text(types[n]), None if is_text(types[n]) else types[n])
            if n in types
            else Column("NULL::VARCHAR")  # a column the file's format version lacks
            for n in kind.names
        }
        self._check(kind, raw, columns, "parquet", src.label)
        con.execute(f"DROP VIEW {raw}")

    def _read_csv(self, src: S.Source, kind: Kind, order: int, report: FileReport) -> None:
        """Gather a CSV file's sound rows with the kind's others (checked together, see read)
        and its broken rows in the quarantine."""
        label = str(src.path)
        raw = self._tmp("raw")
        if S.csv_fast(self.con, src, raw):
            pending = self._pending_csv(kind)
            self.con.execute(
                f"INSERT INTO {pending} SELECT *, {literal(label)}, {order} FROM {raw}"
            )
            self.con.execute(f"DROP TABLE {raw}")
            return
        stashed: list[pa.Table] = []
        rejected: list[tuple[int, str, str | None]] = []
        try:
            for table, rejects in S.careful_chunks(src):
                n = table.num_rows
                table = table.append_column("_src", pa.array([label] * n, pa.string()))
                table = table.append_column("_order", pa.array([order] * n, pa.int64()))
                stashed.append(table)
                rejected += rejects
                if sum(t.num_rows for t in stashed) >= S.CSV_CHUNK:
                    self._stash(kind, stashed)
        except InputError:
            self._stash_drop(kind, label)  # refused as a whole: nothing of it is kept
            raise
        self._stash(kind, stashed, flush=False)
        if rejected and self._erased:
            rejected = self._forget_rejected(rejected)
        report.read += len(rejected)  # the sound rows are counted when they are checked
        report.quarantined += len(rejected)
        self._qrows += [(kind.name, label, line, why, rec) for line, why, rec in rejected]

    def _pending_csv(self, kind: Kind) -> str:
        pending = self._csv_raw.get(kind.name)
        if pending is None:
            pending = self._csv_raw[kind.name] = f"_csvraw_{kind.name}"
            cols = ", ".join(f'"{n}" VARCHAR' for n in kind.names)
            self.con.execute(
                f"CREATE TEMP TABLE {pending} ({cols}, _line BIGINT, _src VARCHAR, _order BIGINT)"
            )
        return pending

    def _stash(self, kind: Kind, tables: list[pa.Table], *, flush: bool = True) -> None:
        """Keep CSV rows in memory until enough are gathered, then move them into DuckDB."""
        held = self._held.setdefault(kind.name, [])
        held += tables
        tables.clear()
        # many small tables cost more than their rows: move them on after a few hundred files
        if flush or len(held) >= 256 or sum(t.num_rows for t in held) >= S.CSV_CHUNK:
            self._flush_held(kind)

    def _flush_held(self, kind: Kind) -> None:
        held = self._held.pop(kind.name, [])
        if not held:
            return
        pending = self._pending_csv(kind)
        self.con.register("_held_rows", pa.concat_tables(held))
        try:
            self.con.execute(f"INSERT INTO {pending} SELECT * FROM _held_rows")
        finally:
            self.con.unregister("_held_rows")

    def _stash_drop(self, kind: Kind, label: str) -> None:
        held = self._held.get(kind.name, [])
        self._held[kind.name] = [t for t in held if t.num_rows and t["_src"][0].as_py() != label]
        if kind.name in self._csv_raw:
            self.con.execute(f"DELETE FROM {self._csv_raw[kind.name]} WHERE _src = ?", [label])

    def _check(
        self,
        kind: Kind,
        raw: str,
        columns: dict[str, Column],
        fmt: str,
        label: str | None = None,
    ) -> None:
        """Type and check the rows of ``raw`` (with ``_line``, ``_src``, ``_order``): bad ones to
        the quarantine, good ones to the kind's table; count both onto their files' reports."""
        con = self.con
        lookups = self._lookups(kind, raw, columns)
        select = select_sql(kind, columns, raw, lookups, carry=("_src", "_order"))
        if fmt == "jsonl":  # a line that is no JSON object has only that error
            select = select.replace("AS _error,", "AS _error0, src._json_error AS _jerr,", 1)
            select = f"SELECT * EXCLUDE (_error0, _jerr), coalesce(_jerr, _error0) AS _error FROM ({select})"
        erased = "false"
        if self._erased and "msisdn" in kind.names:
            erased = (
                f"coalesce({erased_hash_sql('msisdn', self._secret_hex())} IN "
                f"(SELECT h FROM {ERASED}), false)"
            )
        typed = self._tmp("typed")
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {typed} AS SELECT * EXCLUDE (_order) REPLACE "
                f"(CASE WHEN _erased THEN {literal(ERASED_REASON)} ELSE _error END AS _error) FROM "
                f"(SELECT *, {erased} AS _erased, _order * 10000000000 + _line AS _ord "
                f"FROM ({select}))"
            )
        except duckdb.Error as exc:
            raise UnreadableFileError(label or kind.name, S._short(exc)) from exc
        finally:
            for table in lookups.values():
                con.execute(f"DROP TABLE IF EXISTS {table}")
        errors = 0
        for src, n, bad in con.execute(
            f"SELECT _src, count(*), count(_error) FROM {typed} GROUP BY 1"
        ).fetchall():
            self._files[src].read += int(n)
            self._files[src].quarantined += int(bad)
            errors += int(bad)
        if errors:  # the raw rows are read again only for the rows that broke the contract
            raw_json = self._raw_json_sql(fmt, kind, columns)
            con.execute(
                f"INSERT INTO {self._quarantine_table()} SELECT {literal(kind.name)} AS kind, "
                f"t._src AS file, t._line AS line, t._error AS reason, "
                f"CASE WHEN t._erased THEN NULL ELSE {raw_json} END AS record FROM {typed} t "
                f"JOIN {raw} src ON src._line = t._line AND src._src = t._src WHERE t._error IS NOT NULL"
            )
        # the good rows are a view over the typed tables (no second copy of every row)
        parts = self._typed.setdefault(kind.name, [])
        parts.append(typed)
        good = self._good[kind.name] = f"_good_{kind.name}"
        cols = ", ".join(f'CAST("{f.name}" AS {f.duckdb_type}) AS "{f.name}"' for f in kind.fields)
        union = " UNION ALL ".join(
            f"SELECT {cols}, CAST(_line AS BIGINT) AS _line, CAST(_src AS VARCHAR) AS _src, "
            f"CAST(_ord AS BIGINT) AS _ord FROM {t} WHERE _error IS NULL"
            for t in parts
        )
        con.execute(f"CREATE OR REPLACE TEMP VIEW {good} AS {union}")

    def _quarantine_table(self) -> str:
        if not self._quarantine_parts:
            self._quarantine_parts.append("_quarantined")
            self.con.execute(
                "CREATE TEMP TABLE _quarantined (kind VARCHAR, file VARCHAR, line BIGINT, "
                "reason VARCHAR, record VARCHAR)"
            )
        return self._quarantine_parts[0]

    def _secret_hex(self) -> str:
        from jejak.commitments import store_secret

        return store_secret(self.store.home).hex()

    def _forget_rejected(
        self, rejects: list[tuple[int, str, str | None]]
    ) -> list[tuple[int, str, str | None]]:
        """A broken line that names an erased subscriber in any cell is refused, its text not kept."""
        erased = self.store.erased()
        secret = bytes.fromhex(self._secret_hex())

        def names_erased(record: str) -> bool:
            cells = (c.strip().strip('"') for c in record.split(","))
            return any(erased_hash(secret, c) in erased for c in cells if c)

        return [
            (line, ERASED_REASON, None) if names_erased(record or "") else (line, why, record)
            for line, why, record in rejects
        ]

    def _raw_json_sql(self, fmt: str, kind: Kind, columns: dict[str, Column]) -> str:
        if fmt == "jsonl":
            return "src._raw"
        fields = ", ".join(f'"{n}" := {columns[n].expr}' for n in kind.names)
        return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"

    def _lookups(self, kind: Kind, raw: str, columns: dict[str, Column]) -> dict[str, str]:
        """Check the distinct values of Python-checked fields once each; return their lookup tables."""
        out: dict[str, str] = {}
        for f in kind.fields:
            if f.type not in PY_CHECKS:
                continue
            col = columns[f.name]
            if not col.text:
                is_list = col.arrow is not None and (
                    pa.types.is_list(col.arrow) or pa.types.is_large_list(col.arrow)
                )
                col.expr = (
                    f"array_to_string({col.expr}, ';')"
                    if is_list
                    else f"CAST({col.expr} AS VARCHAR)"
                )
                col.text = True
            expr = col.expr.replace("src.", "")
            values = [
                r[0]
                for r in self.con.execute(
                    f"SELECT DISTINCT nullif({expr}, '') FROM {raw} WHERE nullif({expr}, '') IS NOT NULL"
                ).fetchall()
            ]
            table = lookup_table(f, values)
            name = self._tmp("lk")
            self.con.register(name + "_arrow", table)
            self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
            self.con.unregister(name + "_arrow")
            out[f.name] = name
        return out

    # -------------------------------------------------------- deduplicate

    def resolve(self, progress: Progress | None) -> dict[str, str]:
        """Split good rows into new, duplicate and conflicting; return kind -> relation of new rows.

        Content is compared only where identifiers meet (within the batch or with
        the store), by a hash of the canonical text (:func:`jejak.validate.hash_sql`)
        computed on the spot: a fresh batch pays nothing for it.
        """
        con = self.con
        new_tables: dict[str, str] = {}
        kinds = list(self._good)
        for i, name in enumerate(kinds):
            if progress:
                progress(f"comparing {name}", i, len(kinds))
            kind = KINDS[name]
            counts = self.result.kinds[name]
            cand = self._good[name]
            key = key_sql(kind)
            n_rows, n_keys = con.execute(
                f"SELECT count(*), count(DISTINCT {key}) FROM {cand}"
            ).fetchall()[0]
            if n_keys != n_rows:
                # several rows share an identifier in this batch: keep the first, the rest are
                # duplicates (same content) or conflicts (other content)
                ranked = self._tmp("rk")
                con.execute(
                    f"CREATE TEMP TABLE {ranked} AS SELECT *, {hash_sql(kind)} AS _hash, "
                    f"row_number() OVER w AS _rn, first_value({hash_sql(kind)}) OVER w AS _h0, "
                    f"first_value(_src) OVER w AS _src0, first_value(_line) OVER w AS _line0 "
                    f"FROM {cand} WINDOW w AS (PARTITION BY {key} ORDER BY _ord)"
                )
                counts.duplicate += self._per_file(ranked, "_rn > 1 AND _hash = _h0", "duplicate")
                self._conflicts(
                    kind,
                    ranked,
                    "_rn > 1 AND _hash <> _h0",
                    "'differs from an earlier row of this ingest, ' || _src0 || ' line ' || _line0",
                )
                cand = self._tmp("cand")
                con.execute(
                    f"CREATE TEMP TABLE {cand} AS SELECT * EXCLUDE (_rn, _h0, _src0, _line0, _hash) "
                    f"FROM {ranked} WHERE _rn = 1"
                )
            files = self.store.files(name)
            if files:
                cand = self._against_store(kind, cand, files)
            counts.loaded = self._per_file(cand, "true", "loaded")
            new_tables[name] = cand
        return new_tables

    def _per_file(self, table: str, where: str, what: str) -> int:
        """Count the rows of ``table`` matching ``where`` onto their files' reports as ``what``."""
        total = 0
        for src, n in self.con.execute(
            f"SELECT _src, count(*) FROM {table} WHERE {where} GROUP BY 1"
        ).fetchall():
            report = self._files[src]
            setattr(report, what, getattr(report, what) + int(n))
            total += int(n)
        return total

    def _against_store(self, kind: Kind, cand: str, files: list[Path]) -> str:
        """Drop rows the store already holds (duplicates) or holds otherwise (conflicts)."""
        con = self.con
        counts = self.result.kinds[kind.name]
        key = key_sql(kind)
        flist = read_parquet(files)
        prune = ""
        if len(kind.key) == 1 and kind.field(kind.key[0]).type != "timestamp":
            # the new identifiers' range: row groups (and whole batches) whose statistics lie
            # outside it are never read, so that comparing with the store does not grow with it
            # when identifiers grow over time, as they mostly do
            bounds = con.execute(f"SELECT min({key}), max({key}) FROM {cand}").fetchall()[0]
            if bounds[0] is not None:
                prune = f" AND {key} BETWEEN ? AND ?"
        existing = self._tmp("ex")
        con.execute(
            f"CREATE TEMP TABLE {existing} AS SELECT {key} AS _k, {hash_sql(kind)} AS _eh, _src AS _esrc, "
            f"_line AS _eline FROM {flist} WHERE {key} IN (SELECT {key} FROM {cand}){prune}",
            list(bounds) if prune else [],
        )
        if not con.execute(f"SELECT count(*) FROM {existing}").fetchall()[0][0]:
            return cand
        joined = self._tmp("j")
        con.execute(
            f"CREATE TEMP TABLE {joined} AS SELECT c.*, CASE WHEN e._k IS NOT NULL THEN {hash_sql(kind, 'c')} END AS _hash, "
            f"e._eh, e._esrc, e._eline FROM {cand} c LEFT JOIN {existing} e ON {key_sql(kind, 'c')} = e._k"
        )
        counts.duplicate += self._per_file(joined, "_eh = _hash", "duplicate")
        self._conflicts(
            kind,
            joined,
            "_eh IS NOT NULL AND _eh <> _hash",
            "'differs from the stored record from ' || _esrc || ' line ' || _eline",
        )
        fresh = self._tmp("new")
        con.execute(
            f"CREATE TEMP TABLE {fresh} AS SELECT * EXCLUDE (_eh, _esrc, _eline, _hash) FROM {joined} WHERE _eh IS NULL"
        )
        return fresh

    def _conflicts(self, kind: Kind, table: str, where: str, reason: str) -> None:
        n = self._per_file(table, where, "conflicting")
        if not n:
            return
        self.result.kinds[kind.name].conflicting += n
        fields = ", ".join(f'"{f}" := "{f}"' for f in kind.names)
        part = self._tmp("c")
        self.con.execute(
            f"CREATE TEMP TABLE {part} AS SELECT {literal(kind.name)} AS kind, CAST({key_sql(kind)} AS VARCHAR) AS key, "
            f"_src AS file, _line AS line, {reason} AS reason, CAST(to_json(struct_pack({fields})) AS VARCHAR) AS record, "
            f"_hash AS hash FROM {table} WHERE {where}"
        )
        self._conflict_parts.append(part)

    # ------------------------------------------------------------ writing

    def write(self, new_tables: dict[str, str], progress: Progress | None) -> dict[str, Any]:
        """Write the batch's files into the staging folder; return the manifest entry."""
        con = self.con
        entry: dict[str, Any] = {
            "id": self.batch,
            "files": {},
            "rows": {},
            "created": _now(),
            "index": X.stamp(con),
        }
        for i, (name, table) in enumerate(sorted(new_tables.items())):
            rows = self.result.kinds[name].loaded
            if not rows:
                continue
            if progress:
                progress(f"writing {name}", i, len(new_tables))
            kind = KINDS[name]
            cols = ", ".join(f'"{n}"' for n in kind.names)
            order = (
                f'"{kind.sort[0]}"'  # the lookup key; time order within it costs more than it gives
            )
            bounds = [None, None]
            if rows > RUN_ROWS:
                runs = -(-rows // RUN_ROWS)
                qs = ", ".join(str(k / runs) for k in range(1, runs))
                cuts = con.execute(f"SELECT quantile_disc(_ord, [{qs}]) FROM {table}").fetchall()[
                    0
                ][0]
                bounds = [None, *sorted(set(cuts)), None]
            entry["files"][name] = []
            for r in range(len(bounds) - 1):
                lo, hi = bounds[r], bounds[r + 1]
                where = " AND ".join(
                    c
                    for c in (
                        (f"_ord > {lo}" if lo is not None else ""),
                        (f"_ord <= {hi}" if hi is not None else ""),
                    )
                    if c
                )
                rel = f"data/{name}/{self.batch}-{r:04d}.parquet"
                out = self.staging / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT {cols}, _src, _line FROM {table} {'WHERE ' + where if where else ''} ORDER BY {order}) "
                    f"TO {literal(out)} (FORMAT parquet, COMPRESSION lz4_raw, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
                )
                if (
                    name in X.SECOND_KEYS
                ):  # the lookup index, built here and committed with the batch
                    X.build(con, name, out, self.staging / X.base_of(rel))
                entry["files"][name].append(rel)
            entry["rows"][name] = rows
        entry["subjects"] = self._write_subjects(new_tables)
        entry["quarantine"] = self._write_review(
            "quarantine",
            self._quarantine_parts,
            "md5(kind || file || line::VARCHAR || coalesce(record, ''))",
        )
        entry["conflicts"] = self._write_review(
            "conflicts", self._conflict_parts, "md5(kind || key || hash::VARCHAR)"
        )
        return entry

    def _write_subjects(self, new_tables: dict[str, str]) -> str | None:
        """Make a secret for every subscriber this batch names for the first time (see jejak.commitments)."""
        con = self.con
        parts = [
            f"SELECT DISTINCT msisdn FROM {t} WHERE msisdn IS NOT NULL"
            for name, t in new_tables.items()
            if "msisdn" in KINDS[name].names and self.result.kinds[name].loaded
        ]
        if not parts:
            return None
        known = self.store.files("subjects")
        query = f"SELECT DISTINCT msisdn FROM ({' UNION ALL '.join(parts)})"
        if known:
            flist = read_parquet(known)
            query += f" WHERE msisdn NOT IN (SELECT msisdn FROM {flist})"
        fresh = [r[0] for r in con.execute(query + " ORDER BY 1").fetchall()]
        if not fresh:
            return None
        table = new_secrets(fresh)
        rel = f"subjects/{self.batch}.parquet"
        out = self.staging / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out, compression="zstd")
        return rel

    def _write_review(self, what: str, parts: list[str], ident: str) -> str | None:
        """Write the quarantine or conflict rows that earlier ingests have not already kept."""
        if not parts:
            return None
        con = self.con
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts)
        seen = self.store.files(what)
        seen_sql = ""
        if seen:
            flist = read_parquet(seen)
            seen_sql = f" AND id NOT IN (SELECT id FROM {flist})"
        table = self._tmp(what)
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT DISTINCT ON (id) * FROM "
            f"(SELECT {ident} AS id, * FROM ({union})) WHERE true{seen_sql}"
        )
        if not con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
            return None
        rel = f"{what}/{self.batch}.parquet"
        out = self.staging / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * FROM {table} ORDER BY kind, file, line) TO {literal(out)} (FORMAT parquet)"
        )
        return rel

    # ----------------------------------------------------------- findings

    def dangling(
        self, new_tables: dict[str, str], extra_files: dict[str, list[Path]]
    ) -> list[Dangling]:
        """References from this batch's new rows to records that neither the store nor the batch holds."""
        found: list[Dangling] = []
        for name, table in sorted(new_tables.items()):
            kind = KINDS[name]
            for fld, target, target_key in kind.references:
                if target not in DANGLING_TARGETS:
                    continue
                known = [
                    f"SELECT {target_key} AS k FROM read_parquet({literal(p)}, hive_partitioning=false)"
                    for p in extra_files.get(target, [])
                ]
                if target in new_tables:
                    known.append(f"SELECT {target_key} AS k FROM {new_tables[target]}")
                col = f'"{fld}"'
                missing = f"{col} IS NOT NULL"
                if known:
                    missing += f" AND {col} NOT IN (SELECT k FROM ({' UNION ALL '.join(known)}) WHERE k IS NOT NULL)"
                count = self.con.execute(
                    f"SELECT count(*) FROM {table} WHERE {missing}"
                ).fetchall()[0][0]
                if count:
                    examples = self.con.execute(
                        f"SELECT DISTINCT {col} FROM (SELECT {col} FROM {table} WHERE {missing} LIMIT 1000) ORDER BY 1 LIMIT 5"
                    ).fetchall()
                    found.append(
                        Dangling(name, fld, target, int(count), [str(r[0]) for r in examples])
                    )
        return found


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
