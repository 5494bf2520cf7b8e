"""Incremental detection: after an ingest, evaluate only what the new batches can change.

A full run (:func:`jejak.detect.detect`) leaves a *baseline* beside the alerts it stores:
which batches it saw (and their row counts), what produced the alerts (the rules' contents,
the anomaly model's version, the settings the derived tables depend on), the SHA-256 of the
stored alerts, the derived tables it computed and, for a stored DuckDB run, the running
aggregates of :mod:`jejak.detect.aggregates` (``<home>/alerts/baseline/<run>/``).

An incremental run (``detect(store, incremental=True)``, ``jejak detect --incremental``)
starts from that baseline and the batches committed since:

1. the derived tables are computed again (they are small; the addresses table is the old one
   plus the new batches' addresses) and compared with the baseline's, row by row;
2. every new record and every changed derived row is *touched*: per slice key
   (:data:`jejak.detect.slices.KEYS`), the keys it carries and its time;
3. a rule sliced by ``<key> within <window>`` (:mod:`jejak.detect.slices`) is evaluated over
   the rows of the touched keys within twice its window of their times, and its alerts of
   those keys within one window replace the stored ones; the four whole-history rules
   (JJK-004, -010, -015, -016) are given from running aggregates the baseline keeps and the
   run updates from the new batches (:mod:`jejak.detect.aggregates`); another ``whole`` rule,
   or one that reads whole a table that changed, runs over everything; a rule nothing touched
   keeps its alerts;
4. the anomaly model is fitted again over every user ID's day, every alert gets its day's
   score, the suppressions are applied again, and the alerts and a new baseline are stored.

The result is the alert set a full run over the same store gives, alert for alert (a
property test checks it on random data). Without a usable baseline — none yet, another
rule pack or settings, an erasure since, stored alerts changed by a partial run — the run
is a full one. Only DuckDB runs incrementally.

Example::

    >>> home.ingest(["exports/2016-07-19"])                              # doctest: +SKIP
    >>> detect(home.store, incremental=True).added[:1]                   # doctest: +SKIP
    [Alert(rule='JJK-007', ...)]
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from jejak import fsio
from jejak.detect import aggregates, anomaly
from jejak.detect.alerts import ALERTS_FILE, SCHEMA, alerts_dir, file_sha256
from jejak.detect.derived import DERIVED_VERSION
from jejak.detect.pack import Rule, RulePack
from jejak.detect.slices import TABLES, Table
from jejak.schema import KINDS
from jejak.settings import settings
from jejak.sqlq import literal, read_parquet
from jejak.store import Store

BASELINE_DIR = "baseline"
CURRENT = "current.json"
FORMAT = 2
NEG_INF = "TIMESTAMPTZ '-infinity'"
POS_INF = "TIMESTAMPTZ 'infinity'"


def fingerprint(pack: RulePack) -> dict[str, Any]:
    """What the stored alerts depend on besides the data: a baseline made under another
    fingerprint is not used."""
    cfg = settings()
    return {
        "format": FORMAT,
        "rules": {r.id: r.sha256 for r in pack.rules},
        "versions": {r.id: pack.version(r.id) for r in pack.rules},
        "anomaly": anomaly.VERSION,
        "derived": DERIVED_VERSION,
        "aggregates": aggregates.VERSION if aggregates.enabled(pack) else None,
        "shift_tolerance_minutes": cfg.shift_tolerance_minutes,
        "shift_tolerance_max_minutes": cfg.shift_tolerance_max_minutes,
    }


@dataclass
class Baseline:
    """What the stored alerts were computed from (see the module's docstring)."""

    batches: dict[str, dict[str, int]]
    fingerprint: dict[str, Any]
    erased: int
    alerts_sha256: str
    folder: Path

    def derived(self) -> dict[str, pa.Table]:
        """The derived tables the baseline's run computed."""
        return {
            p.stem: pq.read_table(p)
            for p in sorted(self.folder.glob("*.parquet"))
            if not p.stem.startswith("_")
        }

    def table(self, name: str) -> pa.Table | None:
        """Another table the baseline keeps (``features``: the anomaly model's)."""
        path = self.folder / f"_{name}.parquet"
        return pq.read_table(path) if path.exists() else None

    def aggregates(self) -> dict[str, pa.Table] | None:
        """The running aggregates (:mod:`jejak.detect.aggregates`), or None when it has none."""
        out = {}
        for name in aggregates.TABLES:
            table = self.table(f"agg_{name}")
            if table is None:
                return None
            out[name] = table
        return out


def baseline_dir(store: Store) -> Path:
    return alerts_dir(store) / BASELINE_DIR


def load_baseline(store: Store) -> Baseline | None:
    """The stored baseline, or None when there is none (or it cannot be read)."""
    folder = baseline_dir(store)
    try:
        data = json.loads((folder / CURRENT).read_text(encoding="utf-8"))
        base = Baseline(
            batches=data["batches"],
            fingerprint=data["fingerprint"],
            erased=int(data["erased"]),
            alerts_sha256=data["alerts_sha256"],
            folder=folder / data["run"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return base if base.folder.is_dir() else None


def save_baseline(
    store: Store,
    pack: RulePack,
    batches: dict[str, dict[str, int]],
    derived: dict[str, pa.Table],
    alerts_sha256: str,
    features: pa.Table,
    state: dict[str, pa.Table] | None = None,
) -> None:
    """Store the baseline of the alerts just saved: the derived tables, the anomaly model's
    features and the running aggregates (``state``) in a folder of their own, then
    ``current.json`` naming it (replaced atomically), then older folders removed."""
    folder = baseline_dir(store)
    run = f"{os.getpid()}-{os.urandom(6).hex()}"
    target = folder / run
    target.mkdir(parents=True)
    for name, table in derived.items():
        pq.write_table(table, target / f"{name}.parquet")
    pq.write_table(features, target / "_features.parquet")
    for name, table in (state or {}).items():
        pq.write_table(table, target / f"_agg_{name}.parquet")
    fsio.fsync_tree(target)
    fsio.write_json_atomic(
        folder / CURRENT,
        {
            "run": run,
            "batches": batches,
            "fingerprint": fingerprint(pack),
            "erased": len(store.erased()),
            "alerts_sha256": alerts_sha256,
        },
    )
    for other in folder.iterdir():
        if other.is_dir() and other.name != run:
            shutil.rmtree(other, ignore_errors=True)


def usable(store: Store, pack: RulePack, base: Baseline | None) -> bool:
    """Whether ``base`` describes the stored alerts and the store still holds what it saw."""
    if base is None or base.fingerprint != fingerprint(pack):
        return False
    now = store.batches()
    if any(now.get(b) != rows for b, rows in base.batches.items()):
        return False  # a batch was erased from (rows recounted) or is gone
    if len(store.erased()) != base.erased:
        return False
    path = alerts_dir(store) / ALERTS_FILE
    return path.exists() and file_sha256(path) == base.alerts_sha256


# ------------------------------------------------------------------------- touched


def _bounds(t: Table, alias: str = "") -> tuple[str, str]:
    """SQL of a row's time as a closed interval, open ends as infinities (a timeless row:
    all time); column names qualified with ``alias`` when given."""
    if not t.timed:
        return NEG_INF, POS_INF
    return (
        f"coalesce({_qualify(t.lo, alias)}, {NEG_INF})",
        f"coalesce({_qualify(t.hi, alias)}, {POS_INF})",
    )


def _qualify(expr: str | None, alias: str) -> str:
    """A :class:`Table` time expression with its column names qualified by ``alias``."""
    assert expr is not None
    if not alias:
        return expr
    tree = sqlglot.parse_one(expr, read="duckdb")
    for col in tree.find_all(exp.Column):
        if not col.table:
            col.set("table", exp.to_identifier(alias))
    return tree.sql(dialect="duckdb")


def _time_columns(t: Table) -> set[str]:
    """The columns a table's time is made of."""
    out: set[str] = set()
    for expr in (t.lo, t.hi):
        if expr:
            out |= {c.name for c in sqlglot.parse_one(expr, read="duckdb").find_all(exp.Column)}
    return out


def _timestamp(value: datetime) -> str:
    return f"TIMESTAMPTZ {literal(value.astimezone(UTC).isoformat())}"


@dataclass
class Touched:
    """What the new batches touch: for every changed table and each of its slice keys, the
    touched keys with the hull of their times (a DuckDB temp table ``_t_<table>_<key>(key, lo,
    hi)``)."""

    tables: set[str] = field(default_factory=set)


def touch(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    new_batches: list[str],
    old: dict[str, pa.Table],
    new: dict[str, pa.Table],
) -> Touched:
    """Collect the touched keys of the new batches' records and of the derived rows that
    differ from the baseline's."""
    touched = Touched()
    sources: dict[str, str] = {}
    for kind in KINDS:
        files = store.batch_files(kind, new_batches)
        if files:
            view = f"_new_{kind}"
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {read_parquet(files)}"
            )
            sources[kind] = view
    for name, table in new.items():
        if not TABLES[name].lookup and _diff(con, name, old.get(name), table, TABLES[name]):
            sources[name] = f"_diff_{name}"
    for name, source in sources.items():
        t = TABLES[name]
        touched.tables.add(name)
        lo, hi = ("lo", "hi") if source.startswith("_diff_") else _bounds(t)
        for key, column in t.keys.items():
            col = f"key_{key}" if source.startswith("_diff_") else f'"{column}"'
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _t_{name}_{key} AS SELECT {col} AS key, "
                f"min({lo}) AS lo, max({hi}) AS hi FROM {source} GROUP BY {col}"
            )
    return touched


def items(con: duckdb.DuckDBPyConnection, rule: Rule, touched: Touched, cache: dict) -> str:
    """A temp table of the keys of ``rule``'s slice key that its changed tables touch, with
    the hull of their times: the rule's alerts to re-evaluate (made once per set of tables)."""
    key = rule.scope.key
    tables = sorted(t for t in rule.tables if t in touched.tables and rule.scope.keyed(t))
    name = f"_items_{key}_{hashlib.sha256(' '.join(tables).encode()).hexdigest()[:10]}"
    if name not in cache:
        body = " UNION ALL ".join(f"SELECT key, lo, hi FROM _t_{t}_{key}" for t in tables)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS "
            f"SELECT key, min(lo) AS lo, max(hi) AS hi FROM ({body}) GROUP BY key"
        )
        cache[name] = True
    return name


def _diff(
    con: duckdb.DuckDBPyConnection, name: str, old: pa.Table | None, new: pa.Table, t: Table
) -> bool:
    """``_diff_<name>(key_<k>..., lo, hi)``: the times at which the derived table changed.

    A row only in one of the two tables changed over its whole interval; a row in both (same
    identity) whose other columns are equal and whose interval kept one end changed between
    the two positions of the other end (its effect is "inside the interval or not").
    """
    old = old if old is not None else new.schema.empty_table()
    con.register("_old_t", old.cast(new.schema))
    con.register("_new_t", new)
    try:
        cols = [f.name for f in new.schema]
        lo, hi = _bounds(t)
        shaped = f"SELECT *, {lo} AS _lo, {hi} AS _hi FROM"
        ident = t.identity or tuple(cols)
        same_id = " AND ".join(f'o."{c}" IS NOT DISTINCT FROM n."{c}"' for c in ident)
        time_cols = _time_columns(t)
        same_rest = " AND ".join(
            [f'o."{c}" IS NOT DISTINCT FROM n."{c}"' for c in cols if c not in time_cols]
            or ["TRUE"]
        )
        key_cols = ", ".join(f'coalesce(o."{c}", n."{c}") AS key_{k}' for k, c in t.keys.items())
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _diff_{name} AS
            WITH o AS ({shaped} (SELECT * FROM _old_t EXCEPT ALL SELECT * FROM _new_t)),
                 n AS ({shaped} (SELECT * FROM _new_t EXCEPT ALL SELECT * FROM _old_t)),
                 pairs AS (
                   SELECT {key_cols + "," if key_cols else ""}
                          o._lo AS olo, o._hi AS ohi, n._lo AS nlo, n._hi AS nhi,
                          o._lo IS NOT NULL AND n._lo IS NOT NULL AND ({same_rest}) AS kept
                   FROM o FULL JOIN n ON {same_id}
                 )
            SELECT {", ".join(f"key_{k}" for k in t.keys) + "," if t.keys else ""}
                   CASE WHEN kept AND olo = nlo THEN least(ohi, nhi)
                        WHEN kept AND ohi = nhi THEN least(olo, nlo)
                        ELSE coalesce(olo, nlo) END AS lo,
                   CASE WHEN kept AND olo = nlo THEN greatest(ohi, nhi)
                        WHEN kept AND ohi = nhi THEN greatest(olo, nlo)
                        ELSE coalesce(ohi, nhi) END AS hi
            FROM pairs
            UNION ALL  -- a pair that kept neither end: the new interval too
            SELECT {", ".join(f"key_{k}" for k in t.keys) + "," if t.keys else ""} nlo, nhi
            FROM pairs
            WHERE olo IS NOT NULL AND nlo IS NOT NULL
              AND NOT (kept AND (olo = nlo OR ohi = nhi))
            """
        )
        n = con.execute(f"SELECT count(*) FROM _diff_{name}").fetchall()[0]
        return bool(n and n[0])
    finally:
        con.unregister("_old_t")
        con.unregister("_new_t")


def features(con: duckdb.DuckDBPyConnection, old: pa.Table | None, touched: Touched) -> pa.Table:
    """The anomaly model's feature table (:func:`jejak.detect.anomaly.features`) after the new
    batches: the baseline's, with the user IDs' days the batches can change computed again.

    A day changes with its activations (new ones), with the opening hours of the outlets they
    were at (changed derived rows), and when a verified consent arrives for one of its
    activations that had none (its ``waiting`` list: a consent only ever turns an activation
    from unconsented to consented).
    """
    if old is None:
        return anomaly.features(con)
    day = anomaly.DAY_SQL
    parts = []
    if "provisioning" in touched.tables:
        parts.append(
            f"SELECT p.agent_id, {day} AS day FROM _new_provisioning p "
            "WHERE p.action = 'activate' AND p.agent_id IS NOT NULL"
        )
    if "consents" in touched.tables:
        parts.append(
            "SELECT w.agent_id, w.day FROM "
            "(SELECT agent_id, day, unnest(waiting) AS x FROM _features_old) w "
            "JOIN _new_consents c ON c.consent_id = w.x.consent_id AND c.msisdn = w.x.msisdn "
            "AND c.verified = TRUE"
        )
    for table in ("outlet_hours", "scheduled_outlets"):
        if table in touched.tables:
            parts.append(
                f"SELECT p.agent_id, {day} AS day FROM provisioning p "
                f"SEMI JOIN _t_{table}_outlet_id i ON p.outlet_id IS NOT DISTINCT FROM i.key "
                f'AND coalesce(p."at", {NEG_INF}) <= i.hi AND coalesce(p."at", {POS_INF}) >= i.lo '
                "WHERE p.action = 'activate' AND p.agent_id IS NOT NULL"
            )
    con.register("_features_old", old)
    try:
        if not parts:
            return old
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _days AS SELECT DISTINCT agent_id, day FROM ("
            + " UNION ALL ".join(parts)
            + ")"
        )
        first, last, undated = con.execute(
            "SELECT min(day), max(day), count(*) FILTER (WHERE day IS NULL) FROM _days"
        ).fetchall()[0]
        span = "FALSE"
        if first is not None:
            span = (
                f"p.\"at\" >= TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_days({int(first)}) "
                f"AND p.\"at\" < TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_days({int(last) + 1})"
            )
        undated_sql = 'OR p."at" IS NULL' if undated else ""
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _feat_src AS "
            f"SELECT p.* FROM provisioning p SEMI JOIN _days d ON d.agent_id = p.agent_id "
            f"AND d.day IS NOT DISTINCT FROM {day} WHERE ({span}) {undated_sql}"
        )
        fresh = anomaly.features(con, "_feat_src", _consents_of(con, "_feat_src", touched))
        con.register("_features_fresh", fresh)
        try:
            return con.sql(
                "SELECT o.* FROM _features_old o ANTI JOIN _days d ON d.agent_id = o.agent_id "
                "AND d.day IS NOT DISTINCT FROM o.day "
                "UNION ALL SELECT * FROM _features_fresh ORDER BY agent_id, day"
            ).to_arrow_table()
        finally:
            con.unregister("_features_fresh")
    finally:
        con.unregister("_features_old")


def _consents_of(con: duckdb.DuckDBPyConnection, acts: str, touched: Touched) -> str:
    """A temp table of the consents of the ``consent_id`` of ``acts``: those of the new
    batches, and the stored ones only for the ids the new batches do not hold (a stored
    record's id never comes again), read only when there are such ids."""
    new = "_new_consents" if "consents" in touched.tables else None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _feat_want AS SELECT DISTINCT a.consent_id FROM "
        f"{acts} a WHERE a.consent_id IS NOT NULL"
        + (
            f" AND NOT EXISTS (SELECT 1 FROM {new} c WHERE c.consent_id = a.consent_id)"
            if new
            else ""
        )
    )
    parts = []
    if new:
        parts.append(
            f"SELECT c.consent_id, c.msisdn, c.verified FROM {new} c "
            f"WHERE c.consent_id IN (SELECT consent_id FROM {acts})"
        )
    row = con.execute("SELECT count(*) FROM _feat_want").fetchone()
    if row and row[0]:
        parts.append(
            "SELECT c.consent_id, c.msisdn, c.verified FROM consents c "
            "SEMI JOIN _feat_want w ON w.consent_id = c.consent_id"
        )
    body = " UNION ALL ".join(parts) or (
        "SELECT consent_id, msisdn, verified FROM consents WHERE false"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _feat_cons AS {body}")
    return "_feat_cons"


def new_addresses(store: Store, new_batches: list[str]) -> str:
    """SQL of the ``source_ip`` of the new batches' activations and sessions (for the
    ``ip_addresses`` derived table, which only grows)."""
    parts = [
        f"SELECT source_ip FROM {read_parquet(files)}"
        for kind in ("provisioning", "sessions")
        if (files := store.batch_files(kind, new_batches))
    ]
    return " UNION ALL ".join(parts) or "SELECT CAST(NULL AS VARCHAR) AS source_ip WHERE false"


# ----------------------------------------------------------------- sliced rules


def _window_sql(window: timedelta | None, times: int = 1) -> str | None:
    if window is None:
        return None
    return f"to_microseconds({int(window / timedelta(microseconds=1)) * times})"


def restricted(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    window: timedelta | None,
    keys: str,
    cache: dict,
) -> str:
    """A temp table of the rows of ``table`` that a rule sliced by ``key within window`` needs
    to evaluate its alerts of the keys of ``keys`` (:func:`items`): their rows within twice the
    window of their times (all their rows for a window of all time). Made once per table,
    window and set of keys."""
    name = f"_slice_{table}_{'all' if window is None else int(window.total_seconds())}{keys}"
    if name in cache:
        return name
    t = TABLES[table]
    column = t.keys[key]
    lo, hi = _bounds(t, "t")
    cond = f't."{column}" IS NOT DISTINCT FROM i.key'
    pad = _window_sql(window, 2)
    if pad is not None and t.timed:
        cond += f" AND {hi} >= i.lo - {pad} AND {lo} <= i.hi + {pad}"
    source = table
    if pad is not None and t.timed and t.lo == t.hi and t.lo and t.lo.startswith('"'):
        # one instant per row (the large kinds): read the files whose statistics can hold the
        # times wanted, then the rows of keys touched at all times, then rows without a time
        first, last = con.execute(
            f"SELECT min(lo), max(hi) FROM {keys} WHERE lo > {NEG_INF} AND hi < {POS_INF}"
        ).fetchall()[0]
        if first is not None:
            span = f"{t.lo} BETWEEN {_timestamp(first)} - {pad} AND {_timestamp(last)} + {pad}"
            source = (
                f"(SELECT * FROM {table} WHERE {span} "
                f"UNION ALL SELECT w.* FROM {table} w SEMI JOIN "
                f"(SELECT key FROM {keys} WHERE lo = {NEG_INF} OR hi = {POS_INF}) k "
                f'ON w."{column}" IS NOT DISTINCT FROM k.key '
                f"WHERE w.{t.lo} IS NOT NULL AND NOT (w.{span}) "
                f"UNION ALL SELECT * FROM {table} WHERE {t.lo} IS NULL)"
            )
    started = time.perf_counter()
    # a record's provenance (_src: its file, _line) is no rule's business: not copied
    cols = "t.* EXCLUDE (_src, _line)" if table in KINDS else "t.*"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS "
        f"SELECT {cols} FROM {source} t SEMI JOIN {keys} i ON {cond}"
    )
    cache[name] = True
    # what each slice cost (DetectionResult.slice_seconds): table, window, rows
    row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
    window_text = "all time" if window is None else f"{int(window.total_seconds())} s"
    seconds = cache.setdefault("_seconds", {})
    seconds[f"{table} by {key} within {window_text} ({row[0] if row else 0:,} rows)"] = round(
        time.perf_counter() - started, 3
    )
    return name


def sliced_sql(rule: Rule, con: duckdb.DuckDBPyConnection, touched: Touched, cache: dict) -> str:
    """The rule's SQL over its slice, returning only the alerts of the touched keys within
    one window of their times."""
    scope = rule.scope
    assert scope.key is not None
    keys = items(con, rule, touched, cache)
    names = {
        t: restricted(con, t, scope.key, scope.window, keys, cache)
        for t in rule.tables
        if scope.keyed(t)
    }
    inner = rule.with_tables(names)
    return f"SELECT r.* FROM ({inner}) r SEMI JOIN {keys} i ON {_in_slice(rule, 'r')}"


def _in_slice(rule: Rule, alias: str) -> str:
    """SQL: the alert ``alias`` is of a key of ``i`` within one window of its times."""
    scope = rule.scope
    cond = f'{alias}."{scope.key}" IS NOT DISTINCT FROM i.key'
    pad = _window_sql(scope.window)
    if pad is not None:
        cond += (
            f' AND ({alias}."at" IS NULL OR ({alias}."at" >= i.lo - {pad} '
            f'AND {alias}."at" <= i.hi + {pad}))'
        )
    return cond


def stale_ids(rule: Rule, con: duckdb.DuckDBPyConnection, touched: Touched, cache: dict) -> str:
    """SQL over the stored alerts ``a``: the ids of the rule's alerts the run re-evaluates."""
    keys = items(con, rule, touched, cache)
    return (
        f"SELECT a.alert_id FROM _stored a SEMI JOIN {keys} i "
        f"ON a.rule = {literal(rule.id)} AND {_in_slice(rule, 'a')}"
    )


@dataclass
class Plan:
    """Which rules an incremental run evaluates how."""

    whole: list[Rule] = field(default_factory=list)
    sliced: list[Rule] = field(default_factory=list)
    kept: list[Rule] = field(default_factory=list)


#: tables every rule reads: an alert's explanation gives its time in its outlet's time zone
IMPLICIT = ("outlets",)


def plan(rules: list[Rule], touched: Touched) -> Plan:
    out = Plan()
    everywhere = any(t in touched.tables for t in IMPLICIT)
    for r in rules:
        changed = [t for t in r.tables if t in touched.tables]
        if everywhere:
            out.whole.append(r)
            continue
        if not changed:
            out.kept.append(r)
        elif r.scope.everything or any(not r.scope.keyed(t) for t in changed):
            out.whole.append(r)
        else:
            out.sliced.append(r)
    return out


def merge_stored(
    con: duckdb.DuckDBPyConnection,
    stored: Path,
    fresh: pa.Table,
    replaced: list[str],
    sliced: list[Rule],
    touched: Touched,
    cache: dict,
) -> pa.Table:
    """The stored alerts without those of the ``replaced`` rules (run whole, and the anomaly
    model) and without the sliced rules' re-evaluated ones, plus ``fresh``."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _stored AS SELECT * FROM read_parquet({literal(stored)})"
    )
    drop = [stale_ids(r, con, touched, cache) for r in sliced] or [
        "SELECT CAST(NULL AS VARCHAR) AS alert_id WHERE false"
    ]
    gone = f"a.rule IN ({', '.join(literal(r) for r in replaced)})" if replaced else "FALSE"
    con.register("_fresh", fresh.cast(SCHEMA))
    try:
        return con.sql(
            f"WITH stale AS ({' UNION ALL '.join(drop)}) "
            f"SELECT a.* FROM _stored a ANTI JOIN stale s ON s.alert_id = a.alert_id "
            f"WHERE NOT ({gone}) UNION ALL SELECT * FROM _fresh"
        ).to_arrow_table()
    finally:
        con.unregister("_fresh")


def rescore(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table,
    scores: Any,
    suppressions: list[Any],
    today: Any,
) -> pa.Table:
    """Every alert with its day's anomaly score and features (as a full run attaches them),
    the suppressions applied again, in the stored order."""
    if isinstance(scores, anomaly.AgentDays):
        score_arr, feature_arr = scores.attach(con, table.column("agent_id"), table.column("at"))
    else:  # no model: nothing to attach
        score_arr = pa.nulls(table.num_rows, pa.float64())
        feature_arr = pa.array(["[]"] * table.num_rows, pa.string())
    table = table.set_column(table.schema.get_field_index("score"), "score", score_arr)
    table = table.set_column(table.schema.get_field_index("features"), "features", feature_arr)
    active = [s for s in suppressions if s.active(today)]
    cases: list[str] = []
    params: list[Any] = []
    for s in active:
        conds = [] if s.rule == "*" else ["rule = ?"]
        params_s: list[Any] = [] if s.rule == "*" else [s.rule]
        for k, v in s.match.items():
            if k == "record_id":
                conds.append("list_contains(record_ids, ?)")
            else:
                conds.append(f'"{k}" IS NOT DISTINCT FROM ?')
            params_s.append(v)
        cases.append(f"WHEN {' AND '.join(conds) or 'TRUE'} THEN ?")
        params += [*params_s, s.id]
    suppressed = f"CASE {' '.join(cases)} END" if cases else "CAST(NULL AS VARCHAR)"
    con.register("_merged", table)
    try:
        cols = ", ".join(
            f"{suppressed} AS suppressed_by" if f.name == "suppressed_by" else f'"{f.name}"'
            for f in SCHEMA
        )
        return (
            con.sql(
                f'SELECT {cols} FROM _merged ORDER BY "at" NULLS FIRST, rule, alert_id',
                params=params,
            )
            .to_arrow_table()
            .cast(SCHEMA)
        )
    finally:
        con.unregister("_merged")
