"""The case database: an engine from the settings, migrated when opened.

SQLite at ``<home>/cases/cases.db`` by default (WAL, foreign keys on, every write transaction
``BEGIN IMMEDIATE`` so that writers queue instead of failing; writers of every process queue on
a lock file beside it first, since SQLite's own busy handler sleeps up to 100 ms between tries); PostgreSQL when
``JEJAK_DATABASE_URL`` (or ``url``) names it, e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``.

**Durable at the log, not at each commit.** A write transaction commits without waiting for the
disk (SQLite: ``synchronous=NORMAL`` in WAL mode; PostgreSQL: ``synchronous_commit=off``): it
survives this process being killed, and a power loss (or PostgreSQL's own crash) may take back
only the last fraction of a second of commits. Before anything of the database goes into the
transparency log, :meth:`Database.make_durable` waits until every commit so far is on disk (one
flush for a whole batch of actions), so that the log never holds an action the database could
lose, and an action whose caller waited for its log entry is durable when the caller returns.
Waiting for the disk at every commit cost PostgreSQL half its throughput here (one flush per
action: 198 against 436 actions/s, one thread; ``docs/benchmarks.md``).
The Alembic migrations shipped in ``jejak/cases/migrations`` run on opening, so a new release
upgrades the schema by itself.

Example::

    >>> db = Database.open("./jejak-data")                 # doctest: +SKIP
    >>> with db.write() as s:                               # doctest: +SKIP
    ...     s.add(...)
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from jejak.errors import StoreError
from jejak.settings import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def sqlite_path(home: str | Path) -> Path:
    return Path(home) / "cases" / "cases.db"


def has_database(home: str | Path) -> bool:
    """Whether this home has a case database (an SQLite file under it, or a configured URL)."""
    return bool(settings().database_url) or sqlite_path(home).exists()


def database_url(home: str | Path, url: str | None = None) -> str:
    """``url``, else ``$JEJAK_DATABASE_URL``, else SQLite under the home."""
    url = url or settings().database_url
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    path = sqlite_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_file(url: str) -> str | None:
    """The file of an SQLite URL (None for a database in memory)."""
    path = make_url(url).database
    return None if path in (None, "", ":memory:") else path


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives the process being killed;
        # only a power loss may take the last ones back (never corrupts the database)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # on the driver itself: SQLAlchemy's execution around it cost more than the statement
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: seconds a pooled PostgreSQL connection may sit unused before it is pinged on checkout
PING_AFTER_IDLE = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection on checkout only when it sat unused for more than
    :data:`PING_AFTER_IDLE` seconds; a dead one is replaced by a new connection.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per transaction, a
    fifth of a case action's on PostgreSQL (``docs/benchmarks.md``, issue 10). A connection
    checked in a moment ago is alive but for a server restart in that moment, which the next
    statement meets as a lost connection (``Database.together`` runs such work again). This is
    the checkout-event recipe of SQLAlchemy's "Disconnect Handling - Pessimistic", with the
    idle condition added."""

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_con: Any, record: Any) -> None:
        record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_con: Any, record: Any, proxy: Any) -> None:
        used = record.info.get(_USED)
        if used is not None and time.monotonic() - used <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_con)
        except Exception as exc:
            # the pool throws this connection away and checks out a new one
            raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc


_USED = "jejak_checked_in_at"


class Database:
    """The case database: a write engine and a read engine on the same URL."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            # commits do not wait for the disk; make_durable() does, before the log
            # (libpq's options: the URL's own, e.g. ?options=-csearch_path%3D..., kept)
            options = [make_url(url).query.get("options"), "-csynchronous_commit=off"]
            if schema:
                options.append(f"-csearch_path={schema}")
            args: dict[str, Any] = {"options": " ".join(o for o in options if isinstance(o, str))}
            self.engine = create_engine(url, connect_args=args)
            _ping_when_idle(self.engine)
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite takes one writer at a time: writers wait for it here, not in SQLite
        self._writer = None
        if self.dialect == "sqlite":
            file = _sqlite_file(url)
            self._writer = _WriterLock(None if file is None else f"{file}.writer")
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        #: calls of together() waiting for their turn, and how many threads are running some;
        #: SQLite writes one transaction at a time, PostgreSQL several (a lane's round trips
        #: wait on the network, so that lanes overlap)
        self._queue: list[_Job] = []
        self._queue_guard = threading.Lock()
        self._leaders = 0
        self._lanes = 1 if self.dialect == "sqlite" else POSTGRES_LANES
        event.listen(self.engine, "before_cursor_execute", _count_writes)
        # a Prepared statement's cursor lives as long as its transaction
        for maker in (self._write, self._read):
            event.listen(maker, "after_transaction_end", _forget_cursor)

    @classmethod
    def open(
        cls, home: str | Path, url: str | None = None, *, schema: str | None = None
    ) -> Database:
        """The home's case database, migrated to the newest schema."""
        db = cls(database_url(home, url), schema=schema)
        db.migrate()
        return db

    def migrate(self) -> None:
        """Run the Alembic migrations up to the newest (nothing to do when already there)."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        try:
            with self.engine.connect() as conn:
                if MigrationContext.configure(conn).get_current_revision() == head:
                    return
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except Exception as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(self.safe_url, f"cannot migrate the case database: {exc}") from exc

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def tables(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on leaving, rolled back on an error."""
        with self._writer or nullcontext(), self._write.begin() as s:
            yield s

    def together(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a write transaction shared with the calls other threads of this
        process make meanwhile (group commit): one commit for them all.

        Each commit costs a transaction's begin, its commit and the session around them, more
        than one case action's own statements (``docs/benchmarks.md``, issue 10); with many
        people acting at once, one thread runs everything queued in one transaction while the
        others wait, then hands the turn to the next waiting one (on PostgreSQL up to
        :data:`POSTGRES_LANES` threads at once, each with its own transaction, since a
        transaction's round trips leave the CPU idle). A call alone runs at once, in a
        transaction of its own. Returns what ``work`` returns, or raises what it raised.

        A call refused before it wrote anything (a permission, a state, a stale version: the
        checks come before the writes) is refused alone, and the others go on. Anything else
        (a call that fails after writing, the database's own error, a commit that fails) rolls
        the shared transaction back and runs each of its calls again, alone: ``work`` must do
        nothing outside the session but compute. A savepoint per call would undo a call alone
        in place, but costs two round trips a call on PostgreSQL, a third of an action's.
        """
        job = _Job(work)
        with self._queue_guard:
            self._queue.append(job)
            if self._leaders < self._lanes:  # a lane is free: run what is queued now
                self._leaders += 1
                jobs = self._take()
            else:
                jobs = None
        if jobs is None:
            job.turn.wait()
            if job.finished:
                return job.outcome()
            jobs = job.batch  # handed the turn, with the calls queued then
        try:
            self._run_together(jobs)
        finally:
            # hand the lane on to the first call still waiting, with what is queued now
            with self._queue_guard:
                if self._queue:
                    following = self._take()
                    following[0].batch = following
                    following[0].turn.set()
                else:
                    self._leaders -= 1
        return job.outcome()

    def _take(self) -> list[_Job]:
        jobs, self._queue = self._queue[:TOGETHER_MAX], self._queue[TOGETHER_MAX:]
        return jobs

    def _alone(self, job: _Job) -> None:
        """Run ``job`` in a transaction of its own; once more if the connection turned out lost
        before its work was done (a server restart: the pool pings only idle connections)."""
        for _attempt in (1, 2):
            job.error, job.value = None, _UNSET
            done = False
            try:
                with self.write() as s:
                    value = job.work(s)
                    done = True
                job.value = value
                return
            except Exception as exc:
                job.error = exc
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                if not lost or done:  # lost at the commit: whether it committed is unknown
                    return

    def _run_together(self, jobs: list[_Job]) -> None:
        again: list[_Job] = []
        try:
            if len(jobs) == 1:  # alone: its own transaction
                self._alone(jobs[0])
                return
            try:
                with self.write() as s:
                    for job in jobs:
                        before = writes(s)
                        try:
                            job.value = job.work(s)
                            if s.new or s.dirty or s.deleted:
                                s.flush()  # its writes now: a later call's error is that one's
                        except Exception as exc:
                            if (
                                isinstance(exc, DBAPIError)
                                or writes(s) != before
                                or s.new
                                or s.dirty
                                or s.deleted
                            ):
                                raise  # it wrote, or the database failed: all again, alone
                            job.error = exc  # refused before writing: that call alone
            except Exception:
                again = list(jobs)
        finally:
            for job in again:
                self._alone(job)
            for job in jobs:
                if job.value is _UNSET and job.error is None:
                    job.error = RuntimeError("interrupted before its turn ended")
                job.finished = True
                job.turn.set()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session."""
        with self._read() as s, s.begin():
            yield s

    def make_durable(self, s: Session | None = None) -> None:
        """Make every transaction committed so far (by any connection or process) durable:
        the database side of putting its rows into the log.

        SQLite (WAL): an fsync of the write-ahead log, which holds every commit since the last
        checkpoint (a checkpoint syncs the database file itself); done at once. PostgreSQL: a
        transaction that takes a transaction id commits with ``synchronous_commit`` on, and so
        waits until the write-ahead log is flushed up to its commit record, past every earlier
        commit: a transaction of its own, waited for before returning; or, given a session
        ``s``, that session's transaction, whose commit then waits (the drain's read of what
        it appends: one transaction instead of two)."""
        if self.dialect == "sqlite":
            wal = _sqlite_file(self.url)
            if wal is None:
                return
            try:
                fd = os.open(f"{wal}-wal", os.O_RDONLY)
            except FileNotFoundError:  # no write since the last checkpoint closed it
                return
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            return
        if s is not None:
            s.connection().exec_driver_sql(_DURABLE_COMMIT)
            return
        with self.engine.begin() as conn:
            conn.exec_driver_sql(_DURABLE_COMMIT)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


#: PostgreSQL: this transaction's commit waits for the disk, and takes a transaction id so
#: that it has a commit record to wait for
_DURABLE_COMMIT = "SELECT set_config('synchronous_commit', 'on', true), pg_current_xact_id()"

T = TypeVar("T")
_UNSET: Any = object()
#: calls run in one transaction at most (Database.together)
TOGETHER_MAX = 64
#: transactions of together() at once in one process on PostgreSQL (two: fewer, larger shared
#: transactions than four, at the same overlap of round trips; measured side by side, 16 people
#: on two cores, two lanes took 0.8-1.2 ms of CPU an action where four took 1.1-1.6)
POSTGRES_LANES = 2


class _Job:
    """One call of :meth:`Database.together`: its work, and its result or error once run."""

    __slots__ = ("batch", "error", "finished", "turn", "value", "work")

    def __init__(self, work: Callable[[Session], Any]) -> None:
        self.work = work
        self.value: Any = _UNSET
        self.error: BaseException | None = None
        self.finished = False
        self.turn = threading.Event()
        #: the calls to run when this one is handed the turn (itself first)
        self.batch: list[_Job] = []

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _WriterLock:
    """The turn to write an SQLite database: a lock of this process's threads, then an
    exclusive ``flock`` of a file beside the database that every jejak process takes first.

    SQLite's own wait for a busy database (``busy_timeout``) sleeps and polls, up to 100 ms a
    try, so a writer of another process often sleeps on a database that is already free (two
    workers' actions: ``docs/benchmarks.md``); a blocked ``flock`` wakes when the lock is
    released. Re-entrant in a thread; the lock file is opened again in a forked child (a
    ``flock`` belongs to the open file, which a child would share)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._threads.acquire()
        self._depth += 1
        if self._depth == 1 and self.path is not None:
            try:
                if self._fd is None or self._pid != os.getpid():
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._depth -= 1
                self._threads.release()
                raise

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class Prepared:
    """A Core statement compiled once per dialect and set of columns, run on the DBAPI cursor
    of a session's connection, in the session's transaction: the few statements every case
    action runs (read the case, insert its entry and outbox row, write the case back).

    SQLAlchemy's compiler and its column types still make the SQL and convert each value
    (``bind_processor``, ``result_processor``: the same conversions as a Core execution); what
    is skipped is the execution machinery around them (cache-key generation, execution context,
    result objects), which cost here about 100 µs per statement on SQLite, where sqlite3 itself
    takes 6 µs (``docs/benchmarks.md``, issue 10). Errors of the driver come out as SQLAlchemy's
    (``IntegrityError`` and the rest), as from ``Session.execute``.

    Example::

        >>> CASE_SELECT = Prepared(select(cases).where(cases.c.case_id == bindparam("id")))  # doctest: +SKIP
        >>> CASE_SELECT.one(session, {"id": "CASE-TCK-1"})                                  # doctest: +SKIP
        {'case_id': 'CASE-TCK-1', ...}
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        #: INSERT, UPDATE or DELETE (counted: :func:`writes`)
        self.writes = bool(statement.is_dml)
        self._forms: dict[tuple[str, tuple[str, ...] | None], _Form] = {}

    def _form(self, dialect: Dialect, keys: tuple[str, ...] | None) -> _Form:
        form = self._forms.get((dialect.name, keys))
        if form is None:
            form = self._forms[(dialect.name, keys)] = _Form(self.statement, dialect, keys)
        return form

    def _run(self, s: Any, params: dict[str, Any], keys: tuple[str, ...] | None) -> Any:
        # one driver cursor per transaction of a Database session (forgotten at its end)
        got = s.info.get(_CURSOR)
        if got is None:
            conn = s.connection()
            got = s.info[_CURSOR] = (conn.dialect, conn.connection.cursor(), conn.info)
        dialect, cursor, info = got
        form = self._form(dialect, keys)
        args = form.args(params)
        if self.writes:
            info[_WRITES] = info.get(_WRITES, 0) + 1
        try:
            cursor.execute(form.sql, args)
        except dialect.loaded_dbapi.Error as exc:
            gone = dialect.is_disconnect(exc, None, cursor)
            if gone:  # as SQLAlchemy's own execution does: the connection is not pooled again
                s.connection().invalidate(exc)
            raise DBAPIError.instance(
                form.sql,
                args,
                exc,
                dialect.loaded_dbapi.Error,
                connection_invalidated=gone,
                dialect=dialect,
            ) from exc
        return cursor, form

    def one(self, s: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row of a SELECT as a dict of its columns' keys (None when there is none)."""
        cursor, form = self._run(s, params, None)
        row = cursor.fetchone()
        return None if row is None else form.row(row, cursor)

    def insert(self, s: Any, values: dict[str, Any]) -> int:
        """Run an ``INSERT … RETURNING <key>`` with ``values`` (their keys name the columns
        set) and return the key."""
        cursor, _ = self._run(s, values, tuple(values))
        return int(cursor.fetchone()[0])

    def first(self, s: Any, params: dict[str, Any]) -> Any:
        """The first column of the first row the statement returns (None when none)."""
        cursor, _ = self._run(s, params, None)
        row = cursor.fetchone()
        return None if row is None else row[0]

    def run(self, s: Any, params: dict[str, Any], keys: tuple[str, ...]) -> int:
        """Run an ``UPDATE`` setting the columns ``keys`` (the rest of ``params`` fill the
        WHERE clause); return the count of rows it changed."""
        cursor, _ = self._run(s, params, keys)
        return int(cursor.rowcount)


#: where a session keeps its driver cursor for :class:`Prepared` (its ``info``), for as long
#: as its transaction: the connection goes back to the pool when the transaction ends
_CURSOR = "jejak_prepared_cursor"


#: how many statements that may write a connection has run (its ``info``): :func:`writes`
_WRITES = "jejak_writes"


def writes(s: Session) -> int:
    """A count that grows with every statement the session's connection runs that may write
    (anything but a SELECT, through SQLAlchemy or :class:`Prepared`): whether a piece of work
    wrote anything is whether the count changed across it."""
    got = s.info.get(_CURSOR)  # the connection's info, kept by Prepared for the transaction
    info = got[2] if got is not None else s.connection().info
    return int(info.get(_WRITES, 0))


def _count_writes(
    conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


def _forget_cursor(session: Any, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_CURSOR, None)


class _Form:
    """One compiled form of a :class:`Prepared` statement: its SQL, the order of its
    parameters and each value's conversion, and each result column's."""

    def __init__(self, statement: Any, dialect: Dialect, keys: tuple[str, ...] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys or ()))
        self.sql = compiled.string
        self.names = list(compiled.positiontup) if compiled.positional else None
        self.binds = {
            name: b.type.dialect_impl(dialect).bind_processor(dialect)
            for name, b in compiled.binds.items()
        }
        #: the values given in the statement itself (``column == value``)
        self.given = {
            name: b.effective_value for name, b in compiled.binds.items() if not b.required
        }
        self.dialect = dialect
        self.columns = (
            [c.key for c in statement.selected_columns]
            if hasattr(statement, "selected_columns")
            else []
        )
        self._types = (
            [c.type for c in statement.selected_columns]
            if hasattr(statement, "selected_columns")
            else []
        )
        self._results: list[Any] | None = None

    def args(self, params: dict[str, Any]) -> Any:
        def value(name: str) -> Any:
            v = params[name] if name in params else self.given[name]
            proc = self.binds[name]
            return v if proc is None else proc(v)

        if self.names is not None:
            return tuple(value(n) for n in self.names)
        return {n: value(n) for n in self.binds}

    def row(self, row: Any, cursor: Any) -> dict[str, Any]:
        if self._results is None:  # the cursor's description once (psycopg makes it anew)
            self._results = [
                t.dialect_impl(self.dialect).result_processor(self.dialect, d[1])
                for t, d in zip(self._types, cursor.description, strict=True)
            ]
        return {
            k: v if proc is None else proc(v)
            for k, v, proc in zip(self.columns, row, self._results, strict=True)
        }
