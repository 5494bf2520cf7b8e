"""Detection: the rule pack and the anomaly model over one operator's store.

Every rule of :mod:`jejak.rules` (one SQL file each, see :mod:`jejak.detect.pack`)
runs on one engine (:mod:`jejak.detect.engines`: DuckDB by default, Spark, or
PostgreSQL) over the kind tables plus the derived tables of
:mod:`jejak.detect.derived`. Each row a rule returns becomes an
:class:`~jejak.detect.alerts.Alert` with a stable id; the IsolationForest of
:mod:`jejak.detect.anomaly` adds a score and its top features to every alert
about a user ID's day. Suppressions (:mod:`jejak.detect.suppress`) mark alerts;
the run is stored under ``<home>/alerts/`` for ``investigate`` and the cases.

Example::

    >>> from jejak.store import Store
    >>> from jejak.detect import detect, load_alerts
    >>> result = detect(Store("./jejak-data"))                  # doctest: +SKIP
    >>> {a.rule for a in result.alerts if "EV0000170" in a.record_ids}   # doctest: +SKIP
    {'JJK-001', 'JJK-002', 'JJK-004', 'JJK-007', 'JJK-008'}
    >>> load_alerts(Store("./jejak-data"), msisdn="6281100000001")[0]["rule"]  # doctest: +SKIP
    'JJK-001'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from jejak.detect import aggregates, anomaly
from jejak.detect import incremental as inc
from jejak.detect.alerts import (
    ALERTS_FILE,
    GROUPS,
    Alert,
    alerts_current,
    alerts_dir,
    alerts_of,
    alerts_table,
    forget_subscriber,
    group_alerts,
    load_alerts,
    merge_runs,
    rows_of,
    save_alerts_table,
    split_ids,
    stored_alerts,
    stored_alerts_table,
)
from jejak.detect.derived import addresses, build_derived
from jejak.detect.engines import DuckDBEngine, open_engine
from jejak.detect.evaluate import EvaluationReport, check_truth, read_truth, score
from jejak.detect.pack import SEVERITIES, Rule, RulePack, load_pack, severity_rank
from jejak.detect.suppress import (
    Suppression,
    apply_suppressions,
    check_rule_id,
    known_rule_ids,
    load_suppressions,
    suppress,
)
from jejak.errors import EngineError, NotFoundError, RuleError, UsageError
from jejak.sqlq import literal
from jejak.store import Store

__all__ = [
    "GROUPS",
    "Alert",
    "DetectionResult",
    "EvaluationReport",
    "IncrementalRun",
    "Rule",
    "RulePack",
    "Suppression",
    "alerts_current",
    "detect",
    "evaluate",
    "forget_subscriber",
    "group_alerts",
    "known_rule_ids",
    "load_alerts",
    "load_pack",
    "rows_of",
    "stored_alerts_table",
    "suppress",
]

Progress = Callable[[str, int, int], None]


class _Laps:
    """Seconds per phase of a run (``DetectionResult.phases``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self._mark, 3)
        self._mark = now


@dataclass
class IncrementalRun:
    """How an incremental run went: the batches it took in, how it evaluated each rule, and
    how the stored alert set changed."""

    batches: list[str]
    sliced: list[str]
    whole: list[str]
    kept: list[str]
    removed: int
    stored: int


@dataclass
class DetectionResult:
    """What one run found.

    A full run's ``alerts`` are every alert; an incremental run's (``incremental`` set) are
    the alerts it added, and ``to_arrow()`` is the whole stored set after it.
    """

    engine: str
    alerts: list[Alert]
    seconds: float
    rule_seconds: dict[str, float] = field(default_factory=dict)
    suppressed: int = 0
    incremental: IncrementalRun | None = None
    table: Any = None
    #: where the run's time went, in seconds, phase by phase
    phases: dict[str, float] = field(default_factory=dict)
    #: an incremental run's slices (:func:`jejak.detect.incremental.restricted`): seconds each
    slice_seconds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for a in self.alerts:
            out[a.severity] += 1
        return out

    def to_arrow(self) -> Any:
        """This run's alerts as a typed Arrow table (the stored schema: ``alert_id`` kept,
        ``at`` a UTC timestamp, ``record_ids`` a list, ``features`` JSON text); after an
        incremental run, every stored alert."""
        return self.table if self.table is not None else alerts_table(self.alerts)

    def to_pandas(self) -> Any:
        """:meth:`to_arrow` as a pandas DataFrame (needs pandas)."""
        return self.to_arrow().to_pandas()

    def keys(self) -> set[tuple[str, str, tuple[str, ...]]]:
        """(rule, alert_id, record_ids) of every rule alert: what must agree across engines."""
        return {
            (a.rule, a.alert_id, tuple(a.record_ids))
            for a in self.alerts
            if a.rule != anomaly.RULE_ID
        }


def _local(at: datetime | None, tz: str | None) -> str:
    if at is None:
        return ""
    try:
        zone = ZoneInfo(tz or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def run_rule(
    engine: Any, rule: Rule, version: str, engine_name: str, sql: str | None = None
) -> list[Alert]:
    """Run one rule (or ``sql``, a form of it) on an open engine; its rows as alerts
    (duplicates merged)."""
    try:
        rows = engine.query(sql if sql is not None else rule.transpile(engine_name))
    except EngineError as exc:
        raise EngineError(f"{rule.id} on {engine_name}", exc.message) from exc
    out: dict[str, Alert] = {}
    for r in rows:
        sev = r.get("severity") or rule.severity
        if sev not in SEVERITIES:
            raise RuleError(rule.id, f"returned unknown severity {sev!r}")
        a = Alert(
            rule=rule.id,
            version=version,
            severity=sev,
            at=r["at"],
            agent_id=r["agent_id"],
            msisdn=r["msisdn"],
            outlet_id=r["outlet_id"],
            record_ids=split_ids(r["record_ids"]),
            explanation=str(r["explanation"] or rule.title),
            title=rule.title,
        )
        prev = out.get(a.alert_id)
        if prev is None or _first(a) < _first(prev):
            out[a.alert_id] = a
    return list(out.values())


def _first(a: Alert) -> tuple[Any, ...]:
    """Which of two rows with the same evidence (one alert id) a rule's alert is, whatever
    order the engine returned them in: the more severe, then the one naming a user ID (JJK-010
    and JJK-016 can find a user ID and its outlet on the same activations), then the first by
    time, user ID, outlet, number and explanation."""
    return (
        -severity_rank(a.severity),
        a.agent_id is None,
        a.at.isoformat() if a.at else "",
        a.agent_id or "",
        a.outlet_id or "",
        a.msisdn or "",
        a.explanation,
    )


def detect(
    store: Store,
    *,
    engine: str = "duckdb",
    rules: list[str] | None = None,
    master: str | None = None,
    pg_url: str | None = None,
    progress: Progress | None = None,
    anomalies: bool = True,
    save: bool = True,
    incremental: bool = False,
) -> DetectionResult:
    """Run the rule pack (or the ``rules`` named) over ``store`` on ``engine``.

    ``engine`` is ``duckdb``, ``spark`` (``master``: a Spark master URL, default
    the setting ``spark_master``) or ``postgres`` (``pg_url``, default the setting ``pg_url``).
    The alerts are stored under ``<home>/alerts/`` unless ``save`` is false. A run of only
    some ``rules`` adds to the stored set: the stored alerts of every other rule are kept, those
    of the rules run are replaced by this run's (``result.alerts`` holds this run's only).

    ``incremental`` evaluates only what the batches ingested since the last full or
    incremental run can change (:mod:`jejak.detect.incremental`) and stores the same alerts a
    full run would; ``result.alerts`` are then the alerts it added. Without what it needs (a
    first run, another pack, an erasure since) it is a full run.
    """
    if not store.exists:
        raise NotFoundError(str(store.home), "no ingested data here (run `jejak ingest` first)")
    started = time.perf_counter()
    if anomalies:
        anomaly.preload()
    pack = load_pack()
    for r in rules or []:
        check_rule_id(r)
    if incremental:
        if engine != "duckdb" or rules or not anomalies or not save:
            raise UsageError(
                "--incremental",
                "an incremental run is a stored DuckDB run of the whole pack and the anomaly model",
            )
        done = _detect_incremental(store, pack, progress, started)
        if done is not None:
            return done
    sql_rules = [r for r in rules or [] if r != anomaly.RULE_ID]
    selected = [pack.get(i) for i in sql_rules] if rules else list(pack.rules)
    # one view of the store for the whole run: a batch committed meanwhile is the next run's
    store = store.pinned()
    batches = store.batches()
    lap = _Laps()
    base = DuckDBEngine(store)
    try:
        derived = build_derived(base.con)
        base.register(derived)
        tz = dict(base.con.execute("SELECT outlet_id, timezone FROM outlets").fetchall())
        lap("derived tables")
        feats = anomaly.features(base.con) if anomalies else None
        lap("anomaly features")
        scores = anomaly.score(feats) if feats is not None else anomaly.NO_SCORES
        lap("anomaly scores")
        alerts: list[Alert] = []
        timings: dict[str, float] = {}
        # a stored run of the whole pack keeps the four whole-history rules' aggregates for
        # the next incremental run, and gives those rules' alerts from them
        state = None
        overrides: dict[str, str] = {}
        if engine == "duckdb" and save and not rules and anomalies and aggregates.enabled(pack):
            state = aggregates.build(base.con, pack)
            aggregates.register(base.con, state)
            overrides = {r: aggregates.rule_sql(pack.get(r)) for r in aggregates.RULES}
            lap("aggregates")
        if engine == "duckdb":
            alerts, timings = _run_all(base, selected, pack, "duckdb", progress, overrides)
        else:
            with open_engine(engine, store, master=master, pg_url=pg_url) as eng:
                lap("engine")
                eng.register(derived)
                alerts, timings = _run_all(eng, selected, pack, eng.name, progress)
        lap("rules")
    finally:
        base.close()
    days: dict[tuple[str, Any], anomaly.AgentDay | None] = {}  # alerts share their days
    for a in alerts:
        a.explanation = _with_time(a.explanation, a.at, tz.get(a.outlet_id or ""))
        if a.agent_id and a.at:
            k = (a.agent_id, a.at.astimezone(UTC).date())
            if k not in days:
                days[k] = scores.get(k)
            s = days[k]
            if s:
                a.score, a.features = s.score, [dict(f) for f in s.top]
    if anomalies and (rules is None or anomaly.RULE_ID in (rules or [])):
        alerts.extend(_anomaly_alerts(scores))
    alerts.sort(key=lambda a: (a.at or datetime.min.replace(tzinfo=UTC), a.rule, a.alert_id))
    suppressions = load_suppressions(store)
    suppressed = apply_suppressions(alerts, suppressions)
    lap("alerts")
    result = DetectionResult(
        engine=engine,
        alerts=alerts,
        seconds=time.perf_counter() - started,
        rule_seconds=timings,
        suppressed=suppressed,
        phases=lap.seconds,
    )
    if save:
        kept = alerts
        if rules:
            kept = merge_runs(stored_alerts(store), alerts, set(rules))
            for a in kept:
                a.suppressed_by = None
            apply_suppressions(kept, suppressions)
            kept.sort(key=lambda a: (a.at or datetime.min.replace(tzinfo=UTC), a.rule, a.alert_id))
        digest = save_alerts_table(
            store,
            alerts_table(kept),
            {
                "run_at": datetime.now(UTC).isoformat(),
                "engine": engine,
                "rules": {r.id: pack.version(r.id) for r in selected},
                "anomaly_version": anomaly.VERSION,
                "alerts": len(alerts),
                "stored": len(kept),
                "suppressed": suppressed,
                "counts": result.counts(),
                "seconds": round(result.seconds, 3),
            },
        )
        if not rules and engine == "duckdb" and feats is not None:
            inc.save_baseline(store, pack, batches, derived, digest, feats, state)
        lap("save")
    return result


def _detect_incremental(
    store: Store, pack: RulePack, progress: Progress | None, started: float
) -> DetectionResult | None:
    """The incremental run of :func:`detect`, or None when the baseline cannot be used."""
    lap = _Laps()
    base = inc.load_baseline(store)
    store = store.pinned()  # a batch committed meanwhile is the next run's
    if base is None or not inc.usable(store, pack, base):
        return None
    agg = aggregates.enabled(pack)
    old_state = base.aggregates() if agg else None
    if agg and old_state is None:
        return None
    batches = store.batches()
    new = [b for b in batches if b not in base.batches]
    stored_path = alerts_dir(store) / ALERTS_FILE
    eng = DuckDBEngine(store)
    try:
        con = eng.con
        old = base.derived()
        ips = addresses(con, inc.new_addresses(store, new), old.get("ip_addresses"))
        derived = build_derived(con, ip_addresses=ips)
        eng.register(derived)
        lap("baseline and derived tables")
        touched = inc.touch(con, store, new, old, derived)
        plan = inc.plan(list(pack.rules), touched)
        tz = dict(con.execute("SELECT outlet_id, timezone FROM outlets").fetchall())
        lap("touched keys")
        state = None
        if old_state is not None:
            files = {
                kind: store.batch_files(kind, new)
                for kind in ("provisioning", "sessions", "consents", "agents")
            }
            state = aggregates.update(con, pack, old_state, files, touched.tables)
            aggregates.register(con, state)
            lap("aggregates")
        feats = inc.features(con, base.table("features"), touched)
        lap("anomaly features")
        scores = anomaly.score(feats)
        lap("anomaly scores")
        fresh: list[Alert] = []
        timings: dict[str, float] = {}
        cache: dict[str, Any] = {}
        todo = plan.whole + plan.sliced
        for i, rule in enumerate(todo):
            if progress:
                progress(rule.id, i, len(todo))
            t = time.perf_counter()
            aggregated = state is not None and rule.id in aggregates.RULES
            if aggregated:
                sql: str | None = aggregates.rule_sql(rule)
            elif rule in plan.whole:
                sql = None
            else:
                sql = inc.sliced_sql(rule, con, touched, cache)
            lap("slices")
            fresh.extend(run_rule(eng, rule, pack.version(rule.id), "duckdb", sql))
            lap(
                "aggregated rules"
                if aggregated
                else "whole rules"
                if rule in plan.whole
                else "sliced rules"
            )
            timings[rule.id] = round(time.perf_counter() - t, 3)
        for a in fresh:
            a.explanation = _with_time(a.explanation, a.at, tz.get(a.outlet_id or ""))
        fresh.extend(_anomaly_alerts(scores))
        before = {
            r[0]
            for r in con.execute(
                f"SELECT alert_id FROM read_parquet({literal(stored_path)})"
            ).fetchall()
        }
        merged = inc.merge_stored(
            con,
            stored_path,
            alerts_table(fresh),
            [r.id for r in plan.whole] + [anomaly.RULE_ID],
            plan.sliced,
            touched,
            cache,
        )
        table = inc.rescore(con, merged, scores, load_suppressions(store), datetime.now(UTC).date())
        lap("merge and rescore")
    finally:
        eng.close()
    ids = table.column("alert_id").to_pylist()
    after = set(ids)
    added_rows = table.filter(pa.array([i not in before for i in ids], pa.bool_()))
    added = alerts_of(added_rows)
    counts = {s: 0 for s in SEVERITIES}
    for sev in table.column("severity").to_pylist():
        counts[sev] += 1
    suppressed = table.column("suppressed_by").null_count
    suppressed = table.num_rows - suppressed
    run = IncrementalRun(
        batches=new,
        sliced=[r.id for r in plan.sliced],
        whole=[r.id for r in plan.whole],
        kept=[r.id for r in plan.kept],
        removed=len(before - after),
        stored=table.num_rows,
    )
    seconds = time.perf_counter() - started
    digest = save_alerts_table(
        store,
        table,
        {
            "run_at": datetime.now(UTC).isoformat(),
            "engine": "duckdb",
            "incremental": {
                "batches": new,
                "sliced": run.sliced,
                "whole": run.whole,
                "kept": run.kept,
                "added": len(added),
                "removed": run.removed,
            },
            "rules": {r.id: pack.version(r.id) for r in pack.rules},
            "anomaly_version": anomaly.VERSION,
            "alerts": len(added),
            "stored": table.num_rows,
            "suppressed": suppressed,
            "counts": counts,
            "seconds": round(seconds, 3),
        },
    )
    inc.save_baseline(store, pack, batches, derived, digest, feats, state)
    lap("save")
    return DetectionResult(
        engine="duckdb",
        alerts=added,
        seconds=time.perf_counter() - started,
        rule_seconds=timings,
        suppressed=suppressed,
        incremental=run,
        table=table,
        phases=lap.seconds,
        slice_seconds=dict(cache.get("_seconds", {})),
    )


def _with_time(text: str, at: datetime | None, tz: str | None) -> str:
    text = text.rstrip(".")
    return f"{text} ({_local(at, tz)})." if at else f"{text}."


def _run_all(
    eng: Any,
    selected: list[Rule],
    pack: RulePack,
    name: str,
    progress: Progress | None,
    overrides: Mapping[str, str] | None = None,
) -> tuple[list[Alert], dict[str, float]]:
    """Run each rule (the SQL of ``overrides`` instead of a rule's own where given)."""
    alerts: list[Alert] = []
    timings: dict[str, float] = {}
    for i, rule in enumerate(selected):
        if progress:
            progress(rule.id, i, len(selected))
        t = time.perf_counter()
        sql = (overrides or {}).get(rule.id)
        alerts.extend(run_rule(eng, rule, pack.version(rule.id), name, sql))
        timings[rule.id] = round(time.perf_counter() - t, 3)
    return alerts, timings


def _anomaly_alerts(scores: Mapping[Any, anomaly.AgentDay]) -> list[Alert]:
    out = []
    for s in anomaly.flagged(scores):
        feats = ", ".join(f"{f['feature']} {f['value']:g}" for f in s.top) or "its mix of features"
        out.append(
            Alert(
                rule=anomaly.RULE_ID,
                version=anomaly.VERSION,
                severity="low",
                at=datetime.combine(s.day, datetime.min.time(), UTC),
                agent_id=s.agent_id,
                msisdn=None,
                outlet_id=None,
                record_ids=sorted(s.unconsented_events),
                explanation=f"User ID {s.agent_id} behaved unlike any other user ID on {s.day} "
                f"(anomaly score {s.score:.2f}; {feats}).",
                title=anomaly.TITLE,
                score=s.score,
                features=s.top,
            )
        )
    return out


def evaluate(
    store: Store,
    truth_path: str | Path,
    *,
    min_severity: str = "medium",
    run: bool = True,
    engine: str = "duckdb",
) -> EvaluationReport:
    """Precision and recall per scenario kind of the stored (or, with ``run``, fresh) alerts.

    Refuses (:class:`~jejak.errors.InputError`) a truth whose planted records are not the
    store's (:func:`~jejak.detect.evaluate.check_truth`).
    """
    truth = read_truth(truth_path)
    check_truth(store, truth, str(truth_path))
    if run:
        alerts = [a.to_dict() for a in detect(store, engine=engine).alerts]
    else:
        alerts = load_alerts(store)
    return score(alerts, truth, min_severity)
