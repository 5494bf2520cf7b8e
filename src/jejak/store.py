"""The event store: one operator's ingested records, as Parquet queried through DuckDB.

Layout under ``home`` (default ``./jejak-data``)::

    store/manifest.json                  the committed batches: the only truth about what is stored
    store/data/<kind>/<batch>.parquet    records of one kind from one batch, sorted for lookups
    store/quarantine/<batch>.parquet     rows that broke the contract: kind, file, line, reason, record
    store/conflicts/<batch>.parquet      rows whose identifier was known with other content
    store/staging/<batch>/...            a batch being written (removed at the next start if left over)
    store/.lock                          held by the one writer

**All or nothing.** A batch is written completely into ``staging``, fsynced,
moved into place, and only then named in ``manifest.json``, which is replaced
atomically (write, fsync, rename, fsync the folder). Readers see only the
files the manifest names. A writer killed at any moment leaves either the old
manifest (the batch's files are orphans, deleted when the next writer opens
the store) or the new one (the batch is whole). There is one writer at a
time, held by an exclusive ``flock`` on ``store/.lock``.

**Commit hooks.** The store knows nothing of what is built on it. Whoever
owns it (:class:`jejak.Home`) adds functions to ``on_commit``; the store runs
them under its writer lock when a writer opens it (so that work a crash
interrupted is caught up) and after each commit. This is how the transparency
log follows the store (Datasette's ``execute_write_fn`` is the model: writes,
and what must follow them, go through the one writer).

**Fast lookups.** Each kind's files are sorted by the key its questions ask
for: provisioning, charges, consents, notifications, line actions, complaints
and locations by ``msisdn`` then time; sessions by user ID then time; shifts by
outlet then time. Parquet row groups are small (32,768 rows) so that DuckDB's
min/max statistics skip all but a few of them for one subscriber.

Example::

    >>> store = Store("./jejak-data")                       # doctest: +SKIP
    >>> result = store.ingest(["shared/scenarios/seed-2016"])  # doctest: +SKIP
    >>> result.loaded, result.quarantined                  # doctest: +SKIP
    (645, 0)
    >>> store.subscriber("6281100000001")["provisioning"][0]["event_id"]  # doctest: +SKIP
    'EV0000170'
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from jejak import fsio
from jejak import index as X
from jejak import ingest as I
from jejak import sources as S
from jejak.errors import (
    DiskFullError,
    InputError,
    NotFoundError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
)
from jejak.schema import DANGLING_TARGETS, KINDS
from jejak.settings import settings
from jejak.sqlq import literal, read_parquet

#: the manifest's format: 2 adds the lookup index of every batch (:mod:`jejak.index`);
#: a home of format 1 is read as it is and converted by :meth:`Store.migrate`
FORMAT = 2
FORMATS = (1, 2)
SUBSCRIBER_KINDS = (
    "subscribers",
    "provisioning",
    "consents",
    "charges",
    "notifications",
    "line_actions",
    "complaints",
    "locations",
)


#: a commit hook: called with the writer's DuckDB connection, or None when the writer opens
CommitHook = Callable[[duckdb.DuckDBPyConnection | None], None]


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """No DuckDB progress bar on this connection. In Jupyter without ipywidgets DuckDB refuses
    the setting (and draws no bar there anyway), so a refusal is not an error."""
    with suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")


def default_home() -> Path:
    return settings().home


@dataclass
class KindStatus:
    rows: int
    files: int
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class StoreStatus:
    home: str
    batches: int
    kinds: dict[str, KindStatus]
    quarantined: int
    conflicts: int
    dangling: list[I.Dangling] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(k.rows for k in self.kinds.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "home": self.home,
            "batches": self.batches,
            "rows": self.rows,
            "kinds": {
                k: {
                    "rows": v.rows,
                    "files": v.files,
                    "first": v.first.isoformat() if v.first else None,
                    "last": v.last.isoformat() if v.last else None,
                }
                for k, v in self.kinds.items()
            },
            "quarantined": self.quarantined,
            "conflicts": self.conflicts,
            "dangling": [d.__dict__ for d in self.dangling],
        }


class Store:
    """One operator's event store under ``home``.

    ``memory_limit`` caps DuckDB's memory (it spills to ``store/tmp`` beyond it),
    so ingest stays within it whatever the input size.
    """

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ):
        conf = settings()
        self.home = Path(home) if home is not None else conf.home
        self.root = self.home / "store"
        self.memory_limit = memory_limit or conf.memory_limit
        self.threads = threads or conf.threads or os.cpu_count() or 2
        self._manifest_cache: tuple[float, dict[str, Any]] | None = None
        #: run under the writer lock when a writer opens the store and after each commit
        self.on_commit: list[CommitHook] = []
        self._pinned: dict[str, Any] | None = None
        self._indexed_memo: tuple[Any, dict[tuple[str, str], tuple[list[str], list[str]]]] = (
            None,
            {},
        )

    # ----------------------------------------------------------- manifest

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict[str, Any]:
        """The committed state (re-read when the file changed, unless :meth:`pinned`)."""
        if self._pinned is not None:
            return self._pinned
        try:
            mtime = self.manifest_path.stat().st_mtime_ns
        except FileNotFoundError:
            return {"format": FORMAT, "batches": []}
        if self._manifest_cache and self._manifest_cache[0] == mtime:
            return self._manifest_cache[1]
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreCorruptError(
                str(self.manifest_path), f"cannot read the manifest: {exc}"
            ) from exc
        if data.get("format") not in FORMATS:
            raise StoreCorruptError(
                str(self.manifest_path), f"unknown store format {data.get('format')!r}"
            )
        self._manifest_cache = (mtime, data)
        return data

    def pinned(self) -> Store:
        """A reader of this store that keeps the manifest as it is now, whatever writers do next
        (a consistent snapshot: committed files are never changed, only added)."""
        other = Store(self.home, memory_limit=self.memory_limit, threads=self.threads)
        manifest = self.manifest()
        other._pinned = manifest
        return other

    def files(self, what: str) -> list[Path]:
        """The committed files of a kind, or of ``quarantine`` / ``conflicts``."""
        out: list[Path] = []
        for b in self.manifest()["batches"]:
            if what in KINDS:
                out.extend(self.root / rel for rel in b["files"].get(what, ()))
            elif b.get(what):
                out.append(self.root / b[what])
        return out

    @property
    def exists(self) -> bool:
        return self.manifest_path.exists()

    # ------------------------------------------ batches (for incremental detection)

    def batches(self) -> dict[str, dict[str, int]]:
        """Every committed batch, oldest first: its id and its rows per kind (erasure lowers
        them). Incremental detection compares this with what it last saw."""
        return {b["id"]: dict(b.get("rows", {})) for b in self.manifest()["batches"]}

    def batch_files(self, kind: str, batches: Iterable[str]) -> list[Path]:
        """The committed files of ``kind`` that the given batches added."""
        wanted = set(batches)
        return [
            self.root / rel
            for b in self.manifest()["batches"]
            if b["id"] in wanted
            for rel in b["files"].get(kind, ())
        ]

    # ------------------------------------------------------------- writer

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the one-writer lock, clear what a crashed writer left behind, run the commit hooks."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / ".lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                raise StoreLockedError(
                    str(self.home), f"another jejak process (pid {holder}) is writing here"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            self._recover()
            self.run_commit_hooks()
            yield
        finally:
            os.close(fd)

    def _recover(self) -> None:
        """Delete staging folders and files that no committed batch names (a crashed ingest's)."""
        shutil.rmtree(self.root / "staging", ignore_errors=True)
        shutil.rmtree(self.root / "tmp", ignore_errors=True)
        (self.root / "manifest.json.tmp").unlink(missing_ok=True)
        named = set()
        for b in self.manifest()["batches"]:
            for rels in b["files"].values():
                named.update(rels)
            named.update(
                v for v in (b.get("quarantine"), b.get("conflicts"), b.get("subjects")) if v
            )
        for b in self.manifest()["batches"]:
            if b.get("index"):
                for kind, rels in b["files"].items():
                    for rel in rels:
                        named.update(X.files_of(rel, kind))
        for sub in ("data", "quarantine", "conflicts", "subjects", "index"):
            base = self.root / sub
            if not base.exists():
                continue
            for path in base.rglob("*"):
                if path.is_file() and str(path.relative_to(self.root)) not in named:
                    path.unlink()
            for folder in sorted((p for p in base.rglob("*") if p.is_dir()), reverse=True):
                if not any(folder.iterdir()):
                    folder.rmdir()

    def _connect_writer(self) -> duckdb.DuckDBPyConnection:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            config={
                "memory_limit": self.memory_limit,
                "threads": self.threads,
                "temp_directory": str(tmp),
                "preserve_insertion_order": True,
            }
        )
        con.execute("SET TimeZone = 'UTC'")
        quiet(con)
        return con

    def ingest(
        self, paths: Iterable[str | Path], *, progress: I.Progress | None = None
    ) -> I.IngestResult:
        """Load export files and folders as one batch; see :mod:`jejak.ingest`.

        Bad rows are quarantined and the rest loads; ``result.exit_code`` tells
        whether anything was quarantined. Raises :class:`InputError` only when a
        path does not exist or names no kind.
        """
        started = time.perf_counter()
        if self.exists and self.manifest().get("format") != FORMAT:
            raise StoreError(
                str(self.home),
                f"made by an earlier version of jejak (store format "
                f"{self.manifest().get('format')}): run `jejak store migrate` first",
            )
        srcs, ignored = S.discover(paths)
        committed = False
        try:
            with self.writer():
                batches = self.manifest()["batches"]
                batch = f"{(int(batches[-1]['id']) + 1) if batches else 1:06d}"
                staging = self.root / "staging" / batch
                staging.mkdir(parents=True)
                # links with plain names for files whose names DuckDB would take as patterns
                scratch = Path(tempfile.gettempdir()) / f"jejak-read-{os.getpid()}-{batch}"
                S.alias_globs(srcs, scratch)
                con = self._connect_writer()
                try:
                    job = I.Ingest(self, con, batch, staging)
                    job.result.ignored = [(str(i.path), i.reason) for i in ignored if not i.refused]
                    job.result.files += [
                        I.FileReport(str(i.path), "", "", error=i.reason)
                        for i in ignored
                        if i.refused
                    ]
                    job.read(srcs, progress)
                    new = job.resolve(progress)
                    entry = job.write(new, progress)
                    known = {t: self.files(t) for t in DANGLING_TARGETS}
                    job.result.dangling = job.dangling(new, known)
                    if entry["files"] or entry.get("quarantine") or entry.get("conflicts"):
                        # subjects only ever come with new records, so they need no test of their own
                        self._commit(entry, staging)
                        committed = True
                        job.result.batch = batch
                        fsio.crash_point("before-ledger")
                        self.run_commit_hooks(con)
                finally:
                    con.close()
                    shutil.rmtree(scratch, ignore_errors=True)
                    shutil.rmtree(self.root / "staging", ignore_errors=True)
                    shutil.rmtree(self.root / "tmp", ignore_errors=True)
        except (OSError, duckdb.Error) as exc:
            where = _disk_full(exc, self.root)
            if where is None:
                raise
            if committed:
                raise DiskFullError(
                    f"disk full at {where}; the batch was committed, its transparency-log "
                    "append is pending (the next write makes it, once there is room)"
                ) from exc
            raise DiskFullError(f"disk full at {where}; nothing was committed") from exc
        job.result.seconds = time.perf_counter() - started
        return job.result

    def run_commit_hooks(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Run the ``on_commit`` hooks; call it with the writer lock held, after a write."""
        for hook in self.on_commit:
            hook(con)

    def recount(self, removed: dict[str, int]) -> None:
        """Take rows deleted from committed files (file -> rows) off the manifest's per-kind counts,
        and rebuild those files' lookup index (it must not keep the deleted rows).

        For erasure; call it with the writer lock held, after the files were rewritten.
        """
        manifest = json.loads(json.dumps(self.manifest()))
        rebuild: list[tuple[str, str]] = []
        for b in manifest["batches"]:
            for kind, rels in b["files"].items():
                gone = sum(removed.get(rel, 0) for rel in rels)
                if gone:
                    b["rows"][kind] = int(b["rows"].get(kind, 0)) - gone
                if b.get("index"):
                    rebuild += [(kind, rel) for rel in rels if rel in removed]
        if rebuild:
            con = self._connect_writer()
            try:
                for kind, rel in rebuild:
                    self._index_file(con, kind, rel)
            finally:
                con.close()
                shutil.rmtree(self.root / "tmp", ignore_errors=True)
        fsio.write_json_atomic(self.manifest_path, manifest)
        self._manifest_cache = None

    # ---------------------------------------------------------- the index

    def _index_file(self, con: duckdb.DuckDBPyConnection, kind: str, rel: str) -> None:
        """(Re)build one data file's lookup index in place: built beside, then each file replaced."""
        if kind not in X.SECOND_KEYS:
            return
        scratch = self.root / "tmp" / "index"
        shutil.rmtree(scratch, ignore_errors=True)
        X.build(con, kind, self.root / rel, scratch / X.base_of(rel))
        fsio.fsync_tree(scratch)
        for name in X.files_of(rel, kind):
            dest = self.root / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / name, dest)
            fsio.fsync_dir(dest.parent)
        shutil.rmtree(scratch, ignore_errors=True)
        X.forget(self.root)

    def _unindexed(self, batch: dict[str, Any]) -> bool:
        """Whether a manifest batch lacks a lookup index this jejak can use, or a file of it."""
        if batch.get("index") != X.usable_stamp():
            return any(kind in X.SECOND_KEYS for kind in batch["files"])
        return not all(
            X.current(self.root, kind, rel)
            for kind, rels in batch["files"].items()
            if kind in X.SECOND_KEYS
            for rel in rels
        )

    def build_indexes(self) -> int:
        """Build the lookup index of every batch that has none, or one this jejak cannot use
        (a home made by an earlier version); returns how many data files were indexed.

        Takes the writer lock. Each batch is marked indexed in the manifest once its files are.
        """
        done = 0
        if not any(self._unindexed(b) for b in self.manifest()["batches"]):
            return 0  # nothing to do: no lock taken (a report may run beside an ingest)
        with self.writer():
            con = self._connect_writer()
            try:
                for b in list(self.manifest()["batches"]):
                    if not self._unindexed(b):
                        continue
                    for kind, rels in sorted(b["files"].items()):
                        for rel in rels:
                            if kind in X.SECOND_KEYS:
                                self._index_file(con, kind, rel)
                                done += 1
                    manifest = json.loads(json.dumps(self.manifest()))
                    for entry in manifest["batches"]:
                        if entry["id"] == b["id"]:
                            entry["index"] = X.stamp(con)
                    fsio.write_json_atomic(self.manifest_path, manifest)
                    self._manifest_cache = None
            finally:
                con.close()
                shutil.rmtree(self.root / "tmp", ignore_errors=True)
        return done

    def migrate(self) -> dict[str, Any]:
        """Convert a home made by an earlier version of jejak to this one's format.

        Format 1 (jejak before the lookup index) to 2: every batch gets its lookup index
        (:mod:`jejak.index`), the lookup files that the first report after each ingest used to
        build (``<home>/investigate/lookup``) are deleted, and the manifest says format 2. The
        data files are not touched, so the transparency log's map from its leaves to the stored
        files and rows (``ledger/appends.json``) stays true and ``jejak ledger verify`` passes
        as before. Running it again changes nothing. Returns what it did.
        """
        if not self.exists:
            raise NotFoundError(str(self.home), "no store here to migrate")
        before = int(self.manifest().get("format", 1))
        indexed = self.build_indexes()
        with self.writer():
            manifest = json.loads(json.dumps(self.manifest()))
            changed = manifest.get("format") != FORMAT
            manifest["format"] = FORMAT
            if changed:
                fsio.write_json_atomic(self.manifest_path, manifest)
                self._manifest_cache = None
            shutil.rmtree(self.home / "investigate" / "lookup", ignore_errors=True)
        return {"from": before, "to": FORMAT, "indexed_files": indexed}

    # ------------------------------------------------------------ erasure

    @property
    def erased_path(self) -> Path:
        return self.root / "erased.json"

    def erased(self) -> set[str]:
        """The keyed hashes of every erased subscriber (:func:`jejak.commitments.erased_hash`)."""
        try:
            data = json.loads(self.erased_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            raise StoreCorruptError(str(self.erased_path), f"cannot read it: {exc}") from exc
        return set(data["subscribers"])

    def forget(self, msisdn: str) -> int:
        """Remember that ``msisdn`` was erased, and scrub it from the quarantine and conflicts.

        Call with the writer lock held (``jejak.audit.erasure`` does). The store
        keeps only a keyed hash of the number, so that a later ingest refuses the
        subscriber's records (the export must be fixed at the source) without the
        store holding the number. Quarantined and conflicting rows keep their
        file, line and reason with the number replaced by ``[erased]``. Returns
        how many quarantine and conflict rows named it.
        """
        from jejak.commitments import erased_hash, store_secret

        known = self.erased()
        known.add(erased_hash(store_secret(self.home), msisdn))
        fsio.write_json_atomic(self.erased_path, {"format": 1, "subscribers": sorted(known)})
        con = duckdb.connect()
        try:
            return sum(
                _scrub(con, path, msisdn)
                for what in ("quarantine", "conflicts")
                for path in self.files(what)
            )
        finally:
            con.close()

    def _commit(self, entry: dict[str, Any], staging: Path) -> None:
        fsio.fsync_tree(staging)
        for src in sorted(p for p in staging.rglob("*") if p.is_file()):
            dest = self.root / src.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
            fsio.fsync_dir(dest.parent)
        manifest = dict(self.manifest())
        manifest["batches"] = [*manifest["batches"], entry]
        manifest["format"] = FORMAT
        fsio.crash_point("before-manifest")
        fsio.write_json_atomic(self.manifest_path, manifest)
        self._manifest_cache = None

    # ------------------------------------------------------------- reader

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per kind (and ``quarantine``, ``conflicts``).

        The views hold the kind's fields plus ``_src``
        and ``_line`` (where the record came from).
        """
        con = duckdb.connect(config={"threads": self.threads})
        con.execute("SET GLOBAL TimeZone = 'UTC'")
        quiet(con)
        con.execute("SET GLOBAL parquet_metadata_cache = true")
        self._create_views(con)
        return con

    def _create_views(self, con: duckdb.DuckDBPyConnection) -> None:
        empty: dict[str, str] = {
            name: ", ".join(f'NULL::{f.duckdb_type} AS "{f.name}"' for f in kind.fields)
            + ", NULL::VARCHAR AS _src, NULL::BIGINT AS _line"
            for name, kind in KINDS.items()
        }
        empty["quarantine"] = (
            "NULL::VARCHAR AS id, NULL::VARCHAR AS kind, NULL::VARCHAR AS file, NULL::BIGINT AS line, "
            "NULL::VARCHAR AS reason, NULL::VARCHAR AS record"
        )
        empty["conflicts"] = (
            "NULL::VARCHAR AS id, NULL::VARCHAR AS kind, NULL::VARCHAR AS key, NULL::VARCHAR AS file, "
            "NULL::BIGINT AS line, NULL::VARCHAR AS reason, NULL::VARCHAR AS record, NULL::UBIGINT AS hash"
        )
        for name, cols in empty.items():
            files = self.files(name)
            source = (
                read_parquet(files, union_by_name=name not in KINDS)
                if files
                else f"(SELECT {cols} WHERE false)"
            )
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {source}")

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A shared read connection, rebuilt when the manifest changes."""
        m = self.manifest()
        cached = getattr(self, "_con", None)
        if cached is None or cached[0] is not m:
            if cached is not None:
                cached[1].close()
            self._con = (m, self.connect())
        return self._con[1]

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query over the store's views; rows as dicts."""
        cur = self.con.cursor()  # a cursor per query, so that threads may share the store
        try:
            quiet(cur)
            cur.execute(query, params or [])
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            cur.close()

    # ------------------------------------------------------------ lookups

    def subscriber(self, msisdn: str) -> dict[str, list[dict[str, Any]]]:
        """Every record about one subscriber, per kind, in time order."""
        return {name: self.lookup(name, [msisdn]) for name in SUBSCRIBER_KINDS}

    def lookup(
        self, kind: str, values: Sequence[str], key: str | None = None
    ) -> list[dict[str, Any]]:
        """The records of ``kind`` whose ``key`` is one of ``values``, in time order (then file
        order); ``key`` defaults to the kind's own (``msisdn``, user ID for sessions, outlet for
        shifts). Each batch is read through its index (:mod:`jejak.index`) when it has one and
        the key is indexed, otherwise from its Parquet files."""
        k = KINDS[kind]
        key = key or X.primary_key(kind)
        if key not in k.names:
            raise StoreError(f"{kind} has no field {key!r}")
        values = [v for v in dict.fromkeys(values) if v is not None]
        if not values:
            return []
        indexed, plain = self.indexed_files(kind, key)
        rows: list[dict[str, Any]] = []
        if indexed:
            if key == X.primary_key(kind):
                table = X.by_key(self.root, kind, indexed, values)
            else:
                table = X.by_second(self.root, kind, indexed, key, values, X.hashes(values))
            if table is None:  # an index file went missing since the manifest was read
                plain = indexed + plain
            else:
                rows = table.to_pylist()
        if plain:
            marks = ", ".join("?" for _ in values)
            rows += self.sql(
                f'SELECT * FROM {read_parquet(self.root / r for r in plain)} WHERE "{key}" IN ({marks})',
                values,
            )
        tf = k.time_field
        if tf:
            rows.sort(key=lambda r: (r[tf] is None, r[tf] or _EPOCH))
        return rows

    def indexed_files(self, kind: str, key: str) -> tuple[list[str], list[str]]:
        """The kind's committed files (relative) whose index answers ``key``, and the others."""
        manifest = self.manifest()
        memo = self._indexed_memo
        if memo[0] is not manifest:
            memo = self._indexed_memo = (manifest, {})
        got = memo[1].get((kind, key))
        if got is None:
            got = memo[1][(kind, key)] = self._indexed_files(manifest, kind, key)
        return list(got[0]), list(got[1])

    @staticmethod
    def _indexed_files(
        manifest: dict[str, Any], kind: str, key: str
    ) -> tuple[list[str], list[str]]:
        usable = X.usable_stamp()
        second = key != X.primary_key(kind)
        indexed: list[str] = []
        plain: list[str] = []
        if kind not in X.SECOND_KEYS or (second and key not in X.SECOND_KEYS[kind]):
            return [], [r for b in manifest["batches"] for r in b["files"].get(kind, ())]
        for b in manifest["batches"]:
            rels = b["files"].get(kind, ())
            stamp = b.get("index")
            ok = bool(stamp) and stamp.get("version") == usable["version"]
            if ok and second:
                ok = stamp.get("hash") == usable["hash"]
            (indexed if ok else plain).extend(rels)
        return indexed, plain

    def provisioning_by(self, field_name: str, value: str) -> list[dict[str, Any]]:
        """Every provisioning event with ``field_name`` (agent_id, session_id, source_ip, device_id, outlet_id) = value."""
        if field_name not in (
            "agent_id",
            "session_id",
            "source_ip",
            "device_id",
            "outlet_id",
            "consent_id",
        ):
            raise StoreError(f"cannot look provisioning up by {field_name!r}")
        if field_name in X.SECOND_KEYS["provisioning"]:
            return self.lookup("provisioning", [value], field_name)
        return self.sql(
            f'SELECT * FROM provisioning WHERE "{field_name}" = ? ORDER BY "at"', [value]
        )

    def sessions_by(self, field_name: str, value: str) -> list[dict[str, Any]]:
        """Every session with ``field_name`` (agent_id, source_ip, device_id, session_id) = value."""
        if field_name not in ("agent_id", "source_ip", "device_id", "session_id"):
            raise StoreError(f"cannot look sessions up by {field_name!r}")
        return self.lookup("sessions", [value], field_name)

    def rostered(self, outlet_id: str, at: datetime | str) -> list[dict[str, Any]]:
        """Who was rostered at an outlet at a moment: shifts with the agent's person and role."""
        when = _instant(at)
        shifts = [
            s
            for s in self.lookup("shifts", [outlet_id])
            if s["starts_at"] is not None
            and s["ends_at"] is not None
            and s["starts_at"] <= when < s["ends_at"]
        ]
        if not shifts:
            return []
        ids = sorted({s["agent_id"] for s in shifts if s["agent_id"] is not None})
        agents: dict[str, dict[str, Any]] = {}
        if ids and self.files("agents"):
            marks = ", ".join("?" for _ in ids)
            for a in self.sql(
                f"SELECT agent_id, person, role FROM agents WHERE agent_id IN ({marks})", ids
            ):
                agents.setdefault(a["agent_id"], a)
        out = [
            {
                "shift_id": s["shift_id"],
                "agent_id": s["agent_id"],
                "person": agents.get(s["agent_id"], {}).get("person"),
                "role": agents.get(s["agent_id"], {}).get("role"),
                "duty": s["duty"],
                "starts_at": s["starts_at"],
                "ends_at": s["ends_at"],
            }
            for s in shifts
        ]
        out.sort(key=lambda r: (r["starts_at"], r["agent_id"] is None, r["agent_id"] or ""))
        return out

    def record(self, kind: str, key: str) -> dict[str, Any]:
        """One record by its identifier; NotFoundError when absent."""
        k = KINDS[kind]
        rows = self.sql(f'SELECT * FROM {kind} WHERE "{k.key[0]}" = ?', [key])
        if not rows:
            raise NotFoundError(f"{kind}", f"no record {key!r}")
        return rows[0]

    # ------------------------------------------------------------- status

    def status(self, *, integrity: bool = True) -> StoreStatus:
        """What is in the store: rows and time span per kind, quarantine, conflicts, dangling references."""
        con = self.con
        kinds: dict[str, KindStatus] = {}
        for name, kind in KINDS.items():
            files = self.files(name)
            rows = sum(int(b["rows"].get(name, 0)) for b in self.manifest()["batches"])
            ks = KindStatus(rows=rows, files=len(files))
            if files and kind.time_field:
                first, last = con.execute(
                    f'SELECT min("{kind.time_field}"), max("{kind.time_field}") FROM {name}'
                ).fetchall()[0]
                ks.first, ks.last = first, last
            kinds[name] = ks
        q = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        c = con.execute("SELECT count(*) FROM conflicts").fetchall()[0][0]
        st = StoreStatus(str(self.home), len(self.manifest()["batches"]), kinds, q, c)
        if integrity:
            st.dangling = self.dangling()
        return st

    def dangling(self) -> list[I.Dangling]:
        """Every reference in the store to an outlet, agent, package, session or consent that no record holds."""
        out = []
        for name, kind in KINDS.items():
            if not self.files(name):
                continue
            for fld, target, target_key in kind.references:
                if target not in DANGLING_TARGETS:
                    continue
                rows = self.con.execute(
                    f'SELECT "{fld}", count(*) FROM {name} WHERE "{fld}" IS NOT NULL AND "{fld}" NOT IN '
                    f'(SELECT "{target_key}" FROM {target} WHERE "{target_key}" IS NOT NULL) GROUP BY 1 ORDER BY 2 DESC, 1'
                ).fetchall()
                if rows:
                    out.append(
                        I.Dangling(
                            name,
                            fld,
                            target,
                            int(sum(r[1] for r in rows)),
                            [str(r[0]) for r in rows[:5]],
                        )
                    )
        return out

    def quarantine(self, limit: int | None = None) -> list[dict[str, Any]]:
        lim = f" LIMIT {int(limit)}" if limit else ""
        return self.sql(
            f"SELECT kind, file, line, reason, record FROM quarantine ORDER BY file, line{lim}"
        )

    def conflicts(self, limit: int | None = None) -> list[dict[str, Any]]:
        lim = f" LIMIT {int(limit)}" if limit else ""
        return self.sql(
            f"SELECT kind, key, file, line, reason, record FROM conflicts ORDER BY kind, key{lim}"
        )

    def close(self) -> None:
        cached = getattr(self, "_con", None)
        if cached is not None:
            cached[1].close()
            self._con = None  # type: ignore[assignment]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(at: datetime | str) -> datetime:
    """A moment given as a datetime with an offset or as ISO 8601 text, in UTC."""
    if isinstance(at, datetime):
        when = at
    else:
        try:
            when = datetime.fromisoformat(str(at).strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError("at", f"{at!r} is not an ISO 8601 timestamp") from None
    if when.tzinfo is None:  # as DuckDB reads it in the store's time zone
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


#: what a full disk looks like from the inside of DuckDB (its errors carry no errno)
_DISK_FULL_TEXT = ("no space left on device", "disk is full", "disk full")


def _disk_full(exc: BaseException, root: Path) -> str | None:
    """Where the disk ran full, if ``exc`` says it did (or the store's disk has no room left)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return str(exc.filename or root)
    text = str(exc).lower()
    if any(t in text for t in _DISK_FULL_TEXT):
        return str(root)
    if isinstance(exc, duckdb.OutOfMemoryException | OSError | duckdb.IOException):
        try:
            if shutil.disk_usage(root if root.exists() else root.parent).free < 8 << 20:
                return str(root)
        except OSError:
            return None
    return None


def _scrub(con: duckdb.DuckDBPyConnection, path: Path, msisdn: str) -> int:
    """Rewrite one quarantine or conflicts file with ``msisdn`` replaced by ``[erased]``.

    A row's ``id`` and content ``hash`` were taken over the number, so a scrubbed
    row gets an id taken afresh from its scrubbed text and no hash.
    """
    src = f"read_parquet({literal(path)}, hive_partitioning=false)"
    cols = [(c[0], c[1]) for c in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    text = [c for c, t in cols if t == "VARCHAR" and c != "id"]
    hit = "(" + " OR ".join(f'coalesce(contains("{c}", $n), false)' for c in text) + ")"
    n = con.execute(f"SELECT count(*) FROM {src} WHERE {hit}", {"n": msisdn}).fetchall()[0][0]
    if not n:
        return 0
    scrubbed = {c: f"replace(\"{c}\", $n, '[erased]')" for c in text}
    fresh = "md5(concat_ws(chr(31), " + ", ".join(scrubbed.values()) + "))"
    select = []
    for c, _t in cols:
        if c == "id":
            select.append(f"CASE WHEN {hit} THEN {fresh} ELSE id END AS id")
        elif c == "hash":
            select.append(f"CASE WHEN {hit} THEN NULL ELSE hash END AS hash")
        elif c in scrubbed:
            select.append(f'{scrubbed[c]} AS "{c}"')
        else:
            select.append(f'"{c}"')
    tmp = path.with_name(path.name + ".erase.tmp")
    con.execute(
        f"COPY (SELECT {', '.join(select)} FROM {src}) TO {literal(tmp)} (FORMAT parquet)",
        {"n": msisdn},
    )
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsio.fsync_dir(path.parent)
    return int(n)


__all__ = ["CommitHook", "InputError", "Store", "StoreStatus", "default_home"]
