"""Anomaly scoring per user ID and day with scikit-learn's IsolationForest.

Features of each (agent_id, UTC day), computed in DuckDB over the store:
activations, activations without a verified consent, share of activations
outside the outlet's opening hours, distinct outlets, addresses and terminals,
sessions, and the total price of activations. The forest (fixed seed, so the
same data scores the same) gives each agent-day a score in [0, 1] (higher = more
anomalous, ``-score_samples``); the *top contributing features* are those whose
value is furthest above the median of all agent-days, in units of the median
absolute deviation (at least 1).

Scores are attached to every alert about that user ID and day, and agent-days
scoring at or above :data:`THRESHOLD` with at least one unconsented activation
become low-severity alerts of the pseudo-rule :data:`RULE_ID`.

Example::

    >>> scores = score_agent_days(con)          # doctest: +SKIP
    >>> scores[("16009045", date(2016, 7, 18))].top[0]["feature"]   # doctest: +SKIP
    'unconsented'
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

RULE_ID = "JJK-900"
TITLE = "Anomalous day of a user ID (IsolationForest)"
THRESHOLD = 0.62
FEATURES = (
    "activations",
    "unconsented",
    "closed_share",
    "outlets",
    "addresses",
    "terminals",
    "sessions",
    "value",
)
PARAMS = {"n_estimators": 100, "max_samples": 256, "random_state": 20160718}
VERSION = hashlib.sha256(repr((FEATURES, PARAMS, THRESHOLD)).encode()).hexdigest()[:8]

#: the UTC day of an instant ``p."at"`` as days since 1970-01-01 (integer arithmetic on the
#: instant: exact, and much cheaper than a time-zone-aware cast)
DAY_SQL = (
    '(epoch_us(p."at") - ((epoch_us(p."at") % 86400000000) + 86400000000) % 86400000000)'
    " // 86400000000"
)

#: one row per (user ID, UTC day) of the activations of ``{provisioning}``; ``waiting`` lists
#: the (consent_id, msisdn) of its activations without a verified consent (a consent that
#: arrives later changes that day: :mod:`jejak.detect.incremental`)
FEATURE_SQL = """
WITH acts AS (
  SELECT p.agent_id, p."at", p.event_id, p.outlet_id, p.source_ip, p.device_id, p.session_id,
         coalesce(p.price, 0) AS price, p.consent_id, p.msisdn, {day} AS day
  FROM {provisioning} p
  WHERE p.action = 'activate' AND p.agent_id IS NOT NULL
),
inside AS (
  SELECT a.event_id
  FROM acts a
  SEMI JOIN outlet_hours h ON h.outlet_id = a.outlet_id AND h.opens_at <= a."at" AND h.closes_at > a."at"
),
flags AS (
  SELECT a.*,
         CASE WHEN c.consent_id IS NULL THEN 1 ELSE 0 END AS unconsented,
         CASE WHEN x.outlet_id IS NOT NULL AND i.event_id IS NULL THEN 1 ELSE 0 END AS closed
  FROM acts a
  LEFT JOIN {consents} c
    ON c.consent_id = a.consent_id AND c.msisdn = a.msisdn AND c.verified = TRUE
  LEFT JOIN scheduled_outlets x ON x.outlet_id = a.outlet_id
  LEFT JOIN inside i ON i.event_id = a.event_id
)
SELECT agent_id, day,
       count(*) AS activations,
       sum(unconsented) AS unconsented,
       avg(closed) AS closed_share,
       count(DISTINCT outlet_id) AS outlets,
       count(DISTINCT source_ip) AS addresses,
       count(DISTINCT device_id) AS terminals,
       count(DISTINCT session_id) AS sessions,
       sum(price) AS value,
       list(event_id ORDER BY event_id) FILTER (WHERE unconsented = 1) AS unconsented_events,
       list(struct_pack(consent_id := consent_id, msisdn := msisdn))
         FILTER (WHERE unconsented = 1 AND consent_id IS NOT NULL) AS waiting
FROM flags
GROUP BY agent_id, day
ORDER BY agent_id, day
"""

EPOCH = date(1970, 1, 1)


@dataclass
class AgentDay:
    agent_id: str
    day: date
    score: float
    values: dict[str, float]
    top: list[dict[str, Any]]
    unconsented_events: list[str]


class AgentDays(Mapping[tuple[str, date], AgentDay]):
    """The scores of every (user ID, UTC day), looked up by ``(agent_id, day)``; each
    :class:`AgentDay` is made when asked for (a store holds hundreds of thousands)."""

    def __init__(self, table: pa.Table, scores: np.ndarray, top: np.ndarray, dev: np.ndarray):
        self._agents = table.column("agent_id").to_pylist()
        self._days = table.column("day").to_pylist()
        self._x = _matrix(table)
        self._events = table.column("unconsented_events")
        self._scores, self._top, self._dev = scores, top, dev
        # an activation without a time makes a day None: it is scored, and never looked up
        self._index: dict[tuple[str, date], int] = {
            (a, _date(d)): i  # type: ignore[misc]
            for i, (a, d) in enumerate(zip(self._agents, self._days, strict=True))
        }

    def _make(self, i: int) -> AgentDay:
        return AgentDay(
            agent_id=self._agents[i],
            day=_date(self._days[i]),  # type: ignore[arg-type]
            score=round(float(self._scores[i]), 4),
            values={f: float(self._x[i][k]) for k, f in enumerate(FEATURES)},
            top=self._top_of(i),
            unconsented_events=list(self._events[i].as_py() or []),
        )

    def _top_of(self, i: int) -> list[dict[str, Any]]:
        return [
            {
                "feature": FEATURES[j],
                "value": float(self._x[i][j]),
                "deviation": round(float(self._dev[i][j]), 2),
            }
            for j in self._top[i]
            if self._dev[i][j] > 0
        ]

    def attach(
        self, con: duckdb.DuckDBPyConnection, agents: Any, ats: Any
    ) -> tuple[pa.Array, pa.Array]:
        """The score and top features (JSON text) of each (user ID, instant)'s UTC day, as an
        alert carries them (None and ``[]`` where there is none), for arrays of user IDs and
        instants: one join, and one Python step per day found rather than per alert."""
        n = len(agents)
        keys = pa.table(
            {
                "agent_id": pa.array(self._agents, pa.string()),
                "day": pa.array(self._days, pa.int64()),
                "i": pa.array(np.arange(len(self._agents), dtype=np.int64)),
            }
        )
        rows = pa.table(
            {"r": pa.array(np.arange(n, dtype=np.int64)), "agent_id": agents, "at": ats}
        )
        con.register("_ad_keys", keys)
        con.register("_ad_rows", rows)
        try:
            got = con.sql(
                "SELECT k.i FROM (SELECT p.r, p.agent_id, "
                f"{DAY_SQL} AS day FROM _ad_rows p WHERE p.agent_id <> '') a "
                "JOIN (SELECT agent_id, day, max(i) AS i FROM _ad_keys GROUP BY agent_id, day) k "
                "ON k.agent_id = a.agent_id AND k.day = a.day "
                "RIGHT JOIN _ad_rows o ON o.r = a.r ORDER BY o.r"
            ).to_arrow_table()
        finally:
            con.unregister("_ad_keys")
            con.unregister("_ad_rows")
        idx = got.column("i").fill_null(-1).to_numpy()
        found = {
            int(i): (round(float(self._scores[i]), 4), json.dumps(self._top_of(int(i))))
            for i in np.unique(idx[idx >= 0])
        }
        scores = [found[i][0] if i >= 0 else None for i in idx.tolist()]
        tops = [found[i][1] if i >= 0 else "[]" for i in idx.tolist()]
        return pa.array(scores, pa.float64()), pa.array(tops, pa.string())

    def __getitem__(self, key: tuple[str, date]) -> AgentDay:
        return self._make(self._index[key])

    def __iter__(self) -> Iterator[tuple[str, date]]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def flagged(self) -> list[AgentDay]:
        """Days scoring at least :data:`THRESHOLD` with at least one unconsented activation."""
        unconsented = self._x[:, FEATURES.index("unconsented")] > 0
        rounded = np.round(self._scores, 4)
        return [self._make(int(i)) for i in np.flatnonzero((rounded >= THRESHOLD) & unconsented)]


def _date(day: int | None) -> date | None:
    """A day number of :data:`FEATURE_SQL` as a date (an activation without a time: None)."""
    return None if day is None else EPOCH + timedelta(days=day)


def _matrix(table: pa.Table) -> np.ndarray:
    if table.num_rows == 0:
        return np.zeros((0, len(FEATURES)))
    return np.column_stack(
        [
            table.column(f).cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)
            for f in FEATURES
        ]
    )


def features(
    con: duckdb.DuckDBPyConnection, provisioning: str = "provisioning", consents: str = "consents"
) -> pa.Table:
    """The feature table (:data:`FEATURE_SQL`) of the activations of ``provisioning`` (a
    table, or a query in parentheses), their consents looked up in ``consents`` (which must
    hold at least those of their ids); ``con`` must hold the kind views, ``outlet_hours`` and
    ``scheduled_outlets``."""
    return con.sql(
        FEATURE_SQL.format(provisioning=provisioning, consents=consents, day=DAY_SQL)
    ).to_arrow_table()


def preload() -> threading.Thread:
    """Import scikit-learn in a thread of its own (seconds of imports), so that it overlaps
    the queries a run makes before it scores; :func:`score` waits for it."""
    thread = threading.Thread(target=_import_forest, name="jejak-sklearn-import", daemon=True)
    thread.start()
    _LOADING.append(thread)
    return thread


_LOADING: list[threading.Thread] = []


def _import_forest() -> None:
    import sklearn.ensemble  # noqa: F401


def score(table: pa.Table, top_n: int = 3) -> AgentDays:
    """Fit the forest on the feature table and score every row (no scores under 8 rows)."""
    while _LOADING:
        _LOADING.pop().join()
    from sklearn.ensemble import IsolationForest

    if table.num_rows < 8:
        table = table.slice(0, 0)
        nothing = np.zeros((0, len(FEATURES)))
        return AgentDays(table, np.zeros(0), nothing.astype(int), nothing)
    x = _matrix(table)
    forest = IsolationForest(
        n_estimators=PARAMS["n_estimators"],
        max_samples=min(PARAMS["max_samples"], len(x)),
        random_state=PARAMS["random_state"],
    )
    forest.fit(x)
    scores = -forest.score_samples(x)
    med = np.median(x, axis=0)
    mad = np.maximum(np.median(np.abs(x - med), axis=0) * 1.4826, 1e-9)
    scale = np.maximum(mad, np.where(np.abs(med) > 0, np.abs(med) * 0.1, 1.0))
    dev = (x - med) / scale
    top = np.argsort(-dev, axis=1)[:, :top_n]  # the per-row order of earlier releases
    return AgentDays(table, scores, top, dev)


def score_agent_days(con: duckdb.DuckDBPyConnection, top_n: int = 3) -> AgentDays:
    """Score every (agent_id, day); ``con`` must hold the kind views, ``outlet_hours`` and
    ``scheduled_outlets``."""
    return score(features(con), top_n)


#: what a run without the anomaly model attaches: nothing
NO_SCORES: Mapping[tuple[str, date], AgentDay] = {}


def flagged(scores: Mapping[tuple[str, date], AgentDay]) -> list[AgentDay]:
    """The days of ``scores`` that become alerts (:meth:`AgentDays.flagged`)."""
    return scores.flagged() if isinstance(scores, AgentDays) else []
