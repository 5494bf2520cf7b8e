"""The case database: an engine from the settings, migrated when opened.

SQLite at ``<home>/cases/cases.db`` by default (WAL, foreign keys on, every write transaction
``BEGIN IMMEDIATE`` so that writers queue instead of failing; the threads of one process queue
on a lock first, since SQLite's own busy handler sleeps up to 100 ms between tries); PostgreSQL when
``JEJAK_DATABASE_URL`` (or ``url``) names it, e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``.
The Alembic migrations shipped in ``jejak/cases/migrations`` run on opening, so a new release
upgrades the schema by itself.

Example::

    >>> db = Database.open("./jejak-data")                 # doctest: +SKIP
    >>> with db.write() as s:                               # doctest: +SKIP
    ...     s.add(...)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


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
            args: dict[str, Any] = {}
            if schema:
                args["options"] = f"-csearch_path={schema}"
            self.engine = create_engine(url, connect_args=args, pool_pre_ping=True)
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite takes one writer at a time: this process's threads wait for it here
        self._writer: threading.RLock | None = (
            threading.RLock() if self.dialect == "sqlite" else None
        )
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

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

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session."""
        with self._read() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
