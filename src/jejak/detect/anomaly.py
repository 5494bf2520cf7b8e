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
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np

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

FEATURE_SQL = """
WITH acts AS (
  SELECT p.agent_id, CAST(p."at" AS DATE) AS day, p.event_id, p.outlet_id, p.source_ip,
         p.device_id, p.session_id, coalesce(p.price, 0) AS price,
         CASE WHEN c.consent_id IS NULL THEN 1 ELSE 0 END AS unconsented,
         CASE WHEN EXISTS (SELECT 1 FROM outlet_hours x WHERE x.outlet_id = p.outlet_id)
               AND NOT EXISTS (SELECT 1 FROM outlet_hours h WHERE h.outlet_id = p.outlet_id
                               AND h.opens_at <= p."at" AND h.closes_at > p."at")
              THEN 1 ELSE 0 END AS closed
  FROM provisioning p
  LEFT JOIN consents c
    ON c.consent_id = p.consent_id AND c.msisdn = p.msisdn AND c.verified = TRUE
  WHERE p.action = 'activate' AND p.agent_id IS NOT NULL
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
       list(event_id ORDER BY event_id) FILTER (WHERE unconsented = 1) AS unconsented_events
FROM acts
GROUP BY agent_id, day
ORDER BY agent_id, day
"""


@dataclass
class AgentDay:
    agent_id: str
    day: date
    score: float
    values: dict[str, float]
    top: list[dict[str, Any]]
    unconsented_events: list[str]


def score_agent_days(
    con: duckdb.DuckDBPyConnection, top_n: int = 3
) -> dict[tuple[str, date], AgentDay]:
    """Score every (agent_id, day); ``con`` must hold the kind views and ``outlet_hours``."""
    from sklearn.ensemble import IsolationForest

    rows = con.execute(FEATURE_SQL).fetchall()
    if len(rows) < 8:
        return {}
    x = np.array([[float(v or 0) for v in r[2 : 2 + len(FEATURES)]] for r in rows])
    forest = IsolationForest(
        n_estimators=PARAMS["n_estimators"],
        max_samples=min(PARAMS["max_samples"], len(rows)),
        random_state=PARAMS["random_state"],
    )
    forest.fit(x)
    scores = -forest.score_samples(x)
    med = np.median(x, axis=0)
    mad = np.maximum(np.median(np.abs(x - med), axis=0) * 1.4826, 1e-9)
    scale = np.maximum(mad, np.where(np.abs(med) > 0, np.abs(med) * 0.1, 1.0))
    out: dict[tuple[str, date], AgentDay] = {}
    for i, r in enumerate(rows):
        dev = (x[i] - med) / scale
        order = np.argsort(-dev)[:top_n]
        top = [
            {"feature": FEATURES[j], "value": float(x[i][j]), "deviation": round(float(dev[j]), 2)}
            for j in order
            if dev[j] > 0
        ]
        out[(r[0], r[1])] = AgentDay(
            agent_id=r[0],
            day=r[1],
            score=round(float(scores[i]), 4),
            values={f: float(x[i][k]) for k, f in enumerate(FEATURES)},
            top=top,
            unconsented_events=list(r[-1] or []),
        )
    return out
