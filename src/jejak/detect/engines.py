"""Query engines that run the rule pack over one store: DuckDB, Apache Spark, PostgreSQL.

Every engine sees the same tables under the same names: one per record kind
(the spec's names and fields) and the derived tables of :mod:`jejak.detect.derived`.
Rules are written in DuckDB's dialect; Spark and PostgreSQL get them
transpiled by sqlglot (:meth:`jejak.detect.pack.Rule.transpile`).

- **DuckDB** runs over :meth:`jejak.store.Store.connect` (views over the Parquet store).
- **Spark** reads the store's Parquet files (:meth:`Store.files`) as temp views,
  in local mode by default or on the cluster at ``master``; one SparkSession is
  shared per process.
- **PostgreSQL** copies the kinds into a dedicated schema ``jejak_<hash>`` (the
  hash of the store's files and the derived tables' version), so a second run
  over the same data reuses it.

Example::

    >>> with open_engine("duckdb", store) as eng:          # doctest: +SKIP
    ...     eng.register(build_derived(eng.con))
    ...     eng.query("SELECT count(*) AS n FROM provisioning")
    [{'n': 175}]
"""

from __future__ import annotations

import abc
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jejak.detect.derived import DERIVED_VERSION
from jejak.errors import EngineError, UsageError
from jejak.schema import KINDS
from jejak.settings import settings
from jejak.store import Store

PG_TYPES = {
    "VARCHAR": "text",
    "TIMESTAMPTZ": "timestamptz",
    "DATE": "date",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
    "VARCHAR[]": "text",  # lists travel as ';'-joined text: no rule reads them directly
}
_ARROW_PG = {
    pa.string(): "text",
    pa.timestamp("us", tz="UTC"): "timestamptz",
}


#: indexes for the rules' correlated lookups (PostgreSQL has no min/max skipping like Parquet)
PG_INDEXES = (
    ("provisioning", ("msisdn", "package_id")),
    ("provisioning", ("agent_id",)),
    ("shifts", ("agent_id",)),
    ("sessions", ("device_id",)),
    ("sessions", ("agent_id",)),
    ("consents", ("consent_id",)),
    ("locations", ("msisdn",)),
)


def content_key(store: Store) -> str:
    """16 hex digits that name the store's content: its files' names within the store,
    sizes and first and last MiB (Parquet footers hold row counts and statistics)."""
    key = hashlib.sha256(DERIVED_VERSION.encode())
    for name in KINDS:
        for f in store.files(name):
            size = f.stat().st_size
            key.update(f"{f.relative_to(store.root)}:{size}".encode())
            with open(f, "rb") as fh:
                key.update(fh.read(1 << 20))
                if size > 1 << 20:
                    fh.seek(max(size - (1 << 20), 1 << 20))
                    key.update(fh.read())
    return key.hexdigest()[:16]


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


class Engine(abc.ABC):
    """One engine's connection: register derived tables, run a query, close."""

    name = "?"

    @abc.abstractmethod
    def register(self, tables: dict[str, pa.Table]) -> None:
        """Make each Arrow table queryable under its name."""

    @abc.abstractmethod
    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run one query in the engine's dialect; rows as dicts."""

    def close(self) -> None:  # noqa: B027 - most engines hold nothing to release
        """Release what the engine holds (the shared SparkSession stays up)."""


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, store: Store) -> None:
        self.con = store.connect()

    def register(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            self.con.register(f"_arrow_{name}", table)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _arrow_{name}")
            self.con.unregister(f"_arrow_{name}")

    def query(self, sql: str) -> list[dict[str, Any]]:
        try:
            cur = self.con.execute(sql)
        except duckdb.Error as exc:
            raise EngineError("duckdb", str(exc).splitlines()[0]) from exc
        names = [d[0] for d in cur.description or []]
        return [{k: _utc(v) for k, v in zip(names, row, strict=True)} for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


_SPARK: dict[str, Any] = {}


def spark_session(master: str | None = None) -> Any:
    """The process's shared SparkSession (the setting ``spark_master`` unless ``master`` is given)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a dependency
        raise EngineError("spark", "pyspark is not installed") from exc
    conf = settings()
    master = master or conf.spark_master
    cached = _SPARK.get("session")
    if cached is not None and _SPARK.get("master") == master:
        return cached
    if cached is not None:
        cached.stop()
    try:
        session = (
            SparkSession.builder.master(master)
            .appName("jejak-detect")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.default.parallelism", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", conf.spark_driver_memory)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    except Exception as exc:  # Spark raises many kinds when Java or the master is missing
        raise EngineError("spark", f"cannot start Spark at {master}: {exc}") from exc
    session.sparkContext.setLogLevel("ERROR")
    _SPARK.update(session=session, master=master)
    return session


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, store: Store, master: str | None = None) -> None:
        self.spark = spark_session(master)
        for name, kind in KINDS.items():
            files = [str(f) for f in store.files(name)]
            if files:
                df = self.spark.read.parquet(*files)
            else:
                df = self.spark.createDataFrame(kind.arrow_schema().empty_table())
            df.createOrReplaceTempView(name)

    def register(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def query(self, sql: str) -> list[dict[str, Any]]:
        try:
            table = self.spark.sql(sql).toArrow()
        except Exception as exc:  # AnalysisException, Py4JJavaError ...
            raise EngineError("spark", str(exc).splitlines()[0]) from exc
        return [{k: _utc(v) for k, v in row.items()} for row in table.to_pylist()]


class PostgresEngine(Engine):
    name = "postgres"

    def __init__(self, store: Store, url: str | None = None) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise EngineError("postgres", "psycopg is not installed") from exc
        self.url = url or settings().pg_url
        try:
            self.conn = psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise EngineError(self.url, f"cannot connect to PostgreSQL: {exc}") from exc
        self.store = store
        self.schema = "jejak_" + content_key(store)
        self._load()

    def _load(self) -> None:
        done = self.conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = '_loaded'",
            [self.schema],
        ).fetchone()
        self.conn.execute(f"SET search_path TO {self.schema}, public")
        self.conn.execute("SET TimeZone TO 'UTC'")
        if done:
            return
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.conn.execute(f"CREATE SCHEMA {self.schema}")
        self.conn.execute(f"SET search_path TO {self.schema}, public")
        con = self.store.connect()
        try:
            for name, kind in KINDS.items():
                cols = ", ".join(f'"{f.name}" {PG_TYPES[f.duckdb_type]}' for f in kind.fields)
                self.conn.execute(f"CREATE TABLE {name} ({cols})")
                select = ", ".join(
                    f'array_to_string("{f.name}", \';\') AS "{f.name}"'
                    if f.duckdb_type.endswith("[]")
                    else f'"{f.name}"'
                    for f in kind.fields
                )
                self._copy(con, name, f"SELECT {select} FROM {name}")
        finally:
            con.close()
        for table, columns in PG_INDEXES:
            index = f"{table}_{'_'.join(columns)}_idx"
            self.conn.execute(f"CREATE INDEX {index} ON {table} ({', '.join(columns)})")
        for kind_name in KINDS:
            self.conn.execute(f"ANALYZE {kind_name}")
        self.conn.execute("CREATE TABLE _loaded (at timestamptz)")
        self.conn.execute("INSERT INTO _loaded VALUES (now())")

    def drop(self) -> None:
        """Remove this store's schema from the server (the next run loads it again)."""
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def _copy(self, con: duckdb.DuckDBPyConnection, table: str, select: str) -> None:
        """Stream a DuckDB query into a PostgreSQL table through a CSV file (fast COPY)."""
        with tempfile.TemporaryDirectory(prefix="jejak-pg-") as tmp:
            path = Path(tmp) / "rows.csv"
            con.execute(f"COPY ({select}) TO '{path}' (FORMAT csv, HEADER false)")
            with (
                self.conn.cursor() as cur,
                cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy,
                path.open("rb") as fh,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)

    def register(self, tables: dict[str, pa.Table]) -> None:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        try:
            for name, table in tables.items():
                cols = ", ".join(f'"{f.name}" {_ARROW_PG[f.type]}' for f in table.schema)
                self.conn.execute(f"DROP TABLE IF EXISTS {name}")
                self.conn.execute(f"CREATE TABLE {name} ({cols})")
                con.register("t", table)
                self._copy(con, name, "SELECT * FROM t")
                con.unregister("t")
                self.conn.execute(f"ANALYZE {name}")
        finally:
            con.close()

    def query(self, sql: str) -> list[dict[str, Any]]:
        import psycopg

        try:
            cur = self.conn.execute(sql)
        except psycopg.Error as exc:
            raise EngineError("postgres", str(exc).splitlines()[0]) from exc
        names = [d.name for d in cur.description or []]
        return [{k: _utc(v) for k, v in zip(names, row, strict=True)} for row in cur.fetchall()]

    def close(self) -> None:
        self.conn.close()


@contextmanager
def open_engine(
    name: str, store: Store, *, master: str | None = None, pg_url: str | None = None
) -> Iterator[Engine]:
    """The engine ``name`` over ``store``, closed on exit."""
    engine: Engine
    if name == "duckdb":
        engine = DuckDBEngine(store)
    elif name == "spark":
        engine = SparkEngine(store, master)
    elif name in ("postgres", "postgresql"):
        engine = PostgresEngine(store, pg_url)
    else:
        raise UsageError("--engine", f"unknown engine {name!r} (duckdb, spark or postgres)")
    try:
        yield engine
    finally:
        engine.close()
