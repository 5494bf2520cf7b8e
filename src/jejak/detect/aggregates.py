"""Running aggregates: the four rules that read a whole history, kept from batch to batch.

JJK-004, JJK-010, JJK-015 and JJK-016 cannot be sliced by the keys and times of a new batch
(:mod:`jejak.detect.slices`): a session's activations are linked by its id whenever they
happened, a reference dangles until a record of its id arrives, and a peer statistic compares
every user ID and outlet with all the others. Run as SQL, each reads the whole store. Instead,
a full run that stores a baseline also builds these tables from the whole store, keeps them
beside the baseline (:mod:`jejak.detect.incremental`), and gives the four rules' alerts from
them; an incremental run updates them from the new batch and gives the alerts from them again,
reading besides only the rows it must:

``peer_keys(entity, key, acts, hv, hv_last)`` — JJK-010, JJK-016
    per user ID (``entity = 'agent'``) and outlet: its activations, how many were high-value
    (price above the catalogue's median) and when the last of those was. Sums and a maximum:
    a new batch adds its own. A new package (the median, a price) makes it again from the
    whole store.
``unconsented(event_id, at, agent_id, outlet_id, consent_id, msisdn)`` — JJK-010
    every activation without a verified consent. A new activation is looked up among the
    consents of its ``consent_id`` (the new batch's; the stored ones only for the ids the batch
    does not hold: a stored record's id never comes again); a new verified consent takes the
    activations waiting for it out (a consent only ever turns an activation consented).
``hv_events(entity, key, event_id)`` — JJK-016
    the high-value activations of the keys the rule flags (its evidence). A key that stays
    flagged adds the batch's; a key flagged for the first time has its activations read from
    the store, the one read of old provisioning rows, and only when that happens.
``dangling(at, agent_id, msisdn, outlet_id, record_ids, explanation, severity, ref, ref_id)``
    — JJK-015: the rule's rows, each with the reference that dangles (``agent``, ``session``,
    ``consent``, or ``session_agent`` for a session's user ID). A record of that id in a new
    batch takes the row out; the new batch's references are looked up as above.
``takeovers(s2, s1, at, agent_id, device_id, s1_agent)`` and
``takeover_events(session_id, event_id, outlet_id)`` — JJK-004
    the pairs of sessions the rule finds, and the activations of each pair's later session.
    A new session, a session on the same terminal that a new one comes just before, or one whose
    user ID's shift windows changed at its time is evaluated again (a join over the sessions of
    those terminals and times); a new activation of a found session joins its evidence; a new
    session found has its older activations among JJK-015's rows (they named a session nobody
    knew); any other session found for the first time has its activations read from the store.

Each aggregate is tied to the rule text it was written for (:data:`PINNED`): when a rule file
changes, the four run as SQL over everything again (``tests/detect/test_incremental.py`` fails
until the aggregate is checked against the new text and the pin moved). The rules' tails (the
peer statistics, the explanations) are the rules' own SQL with their ``counts`` table replaced,
so the alerts are the ones the SQL gives, field for field; the property test of incremental
detection compares them with a full run of the SQL after every batch.

Example::

    >>> state = build(con)                      # doctest: +SKIP
    >>> register(con, state)                    # doctest: +SKIP
    >>> con.sql(rule_sql(pack.get("JJK-010"))).fetchall()   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot

from jejak.detect.pack import Rule, RulePack
from jejak.sqlq import read_parquet

#: the rule files (sha256) the aggregates below were written for
PINNED = {
    "JJK-004": "f01056405e3e509ad794db15b0ab48041a7b785c40cab3f8acf62b25e3f26f96",
    "JJK-010": "2f4dcdb22b2d31e51503518df8e5beb5c7010a938854db22e5b728f9301f7fa2",
    "JJK-015": "3a85c25be40127643227301621c5bf7c974194e3c93b0a08f984a6168c57514c",
    "JJK-016": "8ecb4b01706d584b3c15a0fa3165418af1c45db155081f49262b809d887c68f9",
}
RULES = tuple(PINNED)
#: the tables kept beside the baseline
TABLES = ("peer_keys", "unconsented", "hv_events", "dangling", "takeovers", "takeover_events")
#: bump when the tables change meaning (part of the baseline's fingerprint)
VERSION = "1"

HV = "CASE WHEN coalesce(p.price, k.price) > (SELECT median(price) FROM packages) THEN 1 ELSE 0 END"


def enabled(pack: RulePack) -> bool:
    """Whether every rule of :data:`PINNED` is the text its aggregate was written for."""
    try:
        return all(pack.get(r).sha256 == sha for r, sha in PINNED.items())
    except Exception:  # a pack without one of them
        return False


def _t(name: str) -> str:
    return f"_agg_{name}"


def register(con: duckdb.DuckDBPyConnection, state: dict[str, pa.Table]) -> None:
    """The tables as DuckDB temp tables ``_agg_<name>`` (what :func:`rule_sql` reads)."""
    for name in TABLES:
        con.register("_agg_arrow", state[name])
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_t(name)} AS SELECT * FROM _agg_arrow")
        finally:
            con.unregister("_agg_arrow")


def _fetch(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
    return con.sql(f"SELECT * FROM {_t(name)}").to_arrow_table()


# --------------------------------------------------------------------- the rules' SQL


def _replace_counts(rule: Rule, counts: str, drop: Iterable[str]) -> str:
    """The rule's SQL with its ``counts`` table replaced by ``counts`` and the tables only
    ``counts`` read (``drop``) removed."""
    tree = rule.ast.copy()
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is None:
        raise ValueError(f"{rule.id} has no WITH")
    kept = []
    found = False
    for cte in with_.expressions:
        if cte.alias_or_name == "counts":
            cte.set("this", sqlglot.parse_one(counts, read="duckdb"))
            found = True
        if cte.alias_or_name not in drop:
            kept.append(cte)
    if not found:
        raise ValueError(f"{rule.id} has no counts table")
    with_.set("expressions", kept)
    return tree.sql(dialect="duckdb")


COUNTS_010 = f"""
SELECT k.entity, k.key, CAST(coalesce(u.n, 0) AS HUGEINT) AS n, u.last_at, u.events
FROM {_t("peer_keys")} k
LEFT JOIN (
  SELECT 'agent' AS entity, agent_id AS key, count(*) AS n, max("at") AS last_at,
         string_agg(event_id, ';') AS events
  FROM {_t("unconsented")} GROUP BY agent_id
  UNION ALL
  SELECT 'outlet' AS entity, outlet_id AS key, count(*) AS n, max("at") AS last_at,
         string_agg(event_id, ';') AS events
  FROM {_t("unconsented")} WHERE outlet_id IS NOT NULL GROUP BY outlet_id
) u ON u.entity = k.entity AND u.key = k.key
"""

COUNTS_016 = f"""
SELECT k.entity, k.key, k.acts AS total, CAST(k.hv AS HUGEINT) AS n, k.hv_last AS last_at,
       e.events
FROM {_t("peer_keys")} k
LEFT JOIN (
  SELECT entity, key, string_agg(event_id, ';') AS events
  FROM {_t("hv_events")} GROUP BY entity, key
) e ON e.entity = k.entity AND e.key = k.key
"""

SQL_015 = f"""
SELECT "at", agent_id, msisdn, outlet_id, record_ids, explanation, severity
FROM {_t("dangling")}
"""

SQL_004 = f"""
SELECT t."at" AS "at", t.agent_id AS agent_id, CAST(NULL AS VARCHAR) AS msisdn,
       max(e.outlet_id) AS outlet_id,
       concat_ws(';', t.s1, t.s2, string_agg(e.event_id, ';')) AS record_ids,
       'User ID ' || t.agent_id || ' logged in on terminal ' || t.device_id
         || ' right after user ID ' || t.s1_agent
         || ' had been using it, while its owner was not on duty' AS explanation
FROM {_t("takeovers")} t
LEFT JOIN {_t("takeover_events")} e ON e.session_id = t.s2
GROUP BY t."at", t.agent_id, t.device_id, t.s1_agent, t.s1, t.s2
"""


def rule_sql(rule: Rule) -> str:
    """SQL over the registered tables (:func:`register`) giving ``rule``'s rows."""
    if rule.id == "JJK-010":
        return _replace_counts(rule, COUNTS_010, ("acts",))
    if rule.id == "JJK-016":
        return _replace_counts(rule, COUNTS_016, ("acts", "median_price"))
    if rule.id == "JJK-015":
        return SQL_015
    if rule.id == "JJK-004":
        return SQL_004
    raise ValueError(f"{rule.id} is not kept as an aggregate")


def _flagged_016(con: duckdb.DuckDBPyConnection, pack: RulePack) -> None:
    """``_agg_flagged(entity, key)``: the keys JJK-016 flags over ``_agg_peer_keys``."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _agg_flagged AS "
        "SELECT DISTINCT CASE WHEN agent_id IS NOT NULL THEN 'agent' ELSE 'outlet' END AS entity, "
        f"coalesce(agent_id, outlet_id) AS key FROM ({rule_sql(pack.get('JJK-016'))})"
    )


# --------------------------------------------------------------------- full builds

ACTS = f"""
SELECT p.event_id, p."at", p.agent_id, p.outlet_id, p.consent_id, p.msisdn,
       CASE WHEN c.consent_id IS NULL THEN 1 ELSE 0 END AS unconsented,
       {HV} AS hv
FROM {{provisioning}} p
LEFT JOIN {{consents}} c
  ON c.consent_id = p.consent_id AND c.msisdn = p.msisdn AND c.verified = TRUE
LEFT JOIN packages k ON k.package_id = p.package_id
WHERE p.action = 'activate' AND p.agent_id IS NOT NULL
"""

UNC = (
    'struct_pack(event_id := event_id, "at" := "at", agent_id := agent_id, '
    "outlet_id := outlet_id, consent_id := consent_id, msisdn := msisdn)"
)


def _peer(con: duckdb.DuckDBPyConnection, provisioning: str, consents: str, out: str) -> None:
    """``out``: per (user ID, outlet) pair of the activations of ``provisioning``, their count,
    high-value count, last high-value time and unconsented activations (one pass)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "
        f"SELECT agent_id, outlet_id, count(*) AS acts, CAST(sum(hv) AS BIGINT) AS hv, "
        f'max(CASE WHEN hv = 1 THEN "at" END) AS hv_last, '
        f"list({UNC}) FILTER (WHERE unconsented = 1) AS unc "
        f"FROM ({ACTS.format(provisioning=provisioning, consents=consents)}) "
        "GROUP BY agent_id, outlet_id"
    )


def _keys_of(pairs: str) -> str:
    """SQL: ``peer_keys`` rows from a table of (user ID, outlet) pairs (:func:`_peer`)."""
    return (
        "SELECT 'agent' AS entity, agent_id AS key, CAST(sum(acts) AS BIGINT) AS acts, "
        "CAST(sum(hv) AS BIGINT) AS hv, max(hv_last) AS hv_last "
        f"FROM {pairs} GROUP BY agent_id "
        "UNION ALL SELECT 'outlet', outlet_id, CAST(sum(acts) AS BIGINT), "
        f"CAST(sum(hv) AS BIGINT), max(hv_last) FROM {pairs} WHERE outlet_id IS NOT NULL "
        "GROUP BY outlet_id"
    )


def _unc_of(pairs: str) -> str:
    return (
        'SELECT u.event_id, u."at", u.agent_id, u.outlet_id, u.consent_id, u.msisdn FROM '
        f"(SELECT unnest(unc) AS u FROM {pairs} WHERE unc IS NOT NULL)"
    )


def _hv_events(keys: str, provisioning: str = "provisioning") -> str:
    """SQL: the high-value activations of ``provisioning`` of the (entity, key) of ``keys``."""
    return (
        f"WITH hv AS (SELECT p.event_id, p.agent_id, p.outlet_id FROM {provisioning} p "
        "LEFT JOIN packages k ON k.package_id = p.package_id "
        f"WHERE p.action = 'activate' AND p.agent_id IS NOT NULL AND {HV} = 1 "
        f"AND (p.agent_id IN (SELECT key FROM {keys} WHERE entity = 'agent') "
        f"OR p.outlet_id IN (SELECT key FROM {keys} WHERE entity = 'outlet'))) "
        f"SELECT 'agent' AS entity, agent_id AS key, event_id FROM hv "
        f"WHERE agent_id IN (SELECT key FROM {keys} WHERE entity = 'agent') "
        f"UNION ALL SELECT 'outlet', outlet_id, event_id FROM hv "
        f"WHERE outlet_id IN (SELECT key FROM {keys} WHERE entity = 'outlet')"
    )


DANGLING = """
SELECT p."at" AS "at", p.agent_id AS agent_id, p.msisdn AS msisdn, p.outlet_id AS outlet_id,
       p.event_id AS record_ids,
       'Package ' || coalesce(p.package_id, '?') || ' was changed under user ID ' || p.agent_id
         || ', which no staff or HR export knows' AS explanation,
       'high' AS severity, 'agent' AS ref, p.agent_id AS ref_id
FROM {provisioning} p
WHERE p.agent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.agent_id = p.agent_id)
UNION ALL
SELECT p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id,
       'Package ' || coalesce(p.package_id, '?') || ' was changed in session ' || p.session_id
         || ', which no session export knows',
       'medium', 'session', p.session_id
FROM {provisioning} p
WHERE p.session_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = p.session_id)
UNION ALL
SELECT p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id,
       'Package ' || coalesce(p.package_id, '?') || ' names consent ' || p.consent_id
         || ', which no consent export knows',
       'medium', 'consent', p.consent_id
FROM {provisioning} p
WHERE p.consent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {consents} c WHERE c.consent_id = p.consent_id)
UNION ALL
SELECT s.started_at, s.agent_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), s.session_id,
       'Session ' || s.session_id || ' logged in under user ID ' || s.agent_id
         || ', which no staff or HR export knows',
       'high', 'session_agent', s.agent_id
FROM {sessions} s
WHERE s.agent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.agent_id = s.agent_id)
"""

TAKEOVERS = """
SELECT s2.session_id AS s2, s1.session_id AS s1, s2.started_at AS "at", s2.agent_id AS agent_id,
       s2.device_id AS device_id, s1.agent_id AS s1_agent
FROM {sessions} s2
JOIN sessions s1
  ON s1.device_id = s2.device_id
 AND s1.agent_id <> s2.agent_id
 AND s1.started_at < s2.started_at
 AND coalesce(s1.ended_at, s1.started_at) > s2.started_at - INTERVAL 30 MINUTE
ANTI JOIN shift_windows s
  ON s.agent_id = s2.agent_id AND s.early_from <= s2.started_at AND s.late_until > s2.started_at
WHERE s2.device_id IS NOT NULL
"""


def build(con: duckdb.DuckDBPyConnection, pack: RulePack) -> dict[str, pa.Table]:
    """Every table from the whole store; ``con`` holds the kind views and derived tables."""
    _build_peer(con, pack)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('dangling')} AS "
        + DANGLING.format(provisioning="provisioning", consents="consents", sessions="sessions")
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('takeovers')} AS "
        + TAKEOVERS.format(sessions="sessions")
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('takeover_events')} AS "
        "SELECT p.session_id, p.event_id, p.outlet_id FROM provisioning p "
        f"WHERE p.session_id IN (SELECT s2 FROM {_t('takeovers')})"
    )
    return {name: _fetch(con, name) for name in TABLES}


def _build_peer(con: duckdb.DuckDBPyConnection, pack: RulePack) -> None:
    _peer(con, "provisioning", "consents", "_agg_pairs")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_t('peer_keys')} AS {_keys_of('_agg_pairs')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_t('unconsented')} AS {_unc_of('_agg_pairs')}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('hv_events')} AS "
        "SELECT CAST(NULL AS VARCHAR) AS entity, CAST(NULL AS VARCHAR) AS key, "
        "CAST(NULL AS VARCHAR) AS event_id WHERE false"
    )
    _flagged_016(con, pack)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_t('hv_events')} AS {_hv_events('_agg_flagged')}")


# --------------------------------------------------------------------- updates


def _new_views(con: duckdb.DuckDBPyConnection, files: dict[str, list[Path]]) -> None:
    """``_nw_<kind>``: the new batches' records of the kinds the aggregates read."""
    for kind in ("provisioning", "sessions", "consents", "agents"):
        got = files.get(kind) or []
        source = read_parquet(got) if got else f"(SELECT * FROM {kind} WHERE false)"
        con.execute(f"CREATE OR REPLACE TEMP VIEW _nw_{kind} AS SELECT * FROM {source}")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    return int(row[0]) if row else 0


def update(
    con: duckdb.DuckDBPyConnection,
    pack: RulePack,
    state: dict[str, pa.Table],
    files: dict[str, list[Path]],
    touched: set[str],
) -> dict[str, pa.Table]:
    """The tables after the new batches (``files``: their data files per kind), from the
    baseline's (``state``); ``touched``: the tables the batches changed (derived ones too;
    ``_diff_shift_windows`` must exist when ``shift_windows`` is among them)."""
    for name in TABLES:
        con.register("_agg_arrow", state[name])
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _old_{name} AS SELECT * FROM _agg_arrow")
        finally:
            con.unregister("_agg_arrow")
    _new_views(con, files)
    con.execute(
        'CREATE OR REPLACE TEMP TABLE _agg_newp AS SELECT event_id, "at", action, agent_id, '
        "outlet_id, consent_id, msisdn, package_id, price, session_id FROM _nw_provisioning"
    )
    # the consents of the new rows' consent ids: the new batch's; the stored ones only for the
    # ids the batch does not hold (an id the store holds never comes in a later batch)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _agg_want AS SELECT DISTINCT p.consent_id FROM _agg_newp p "
        "WHERE p.consent_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM _nw_consents c WHERE c.consent_id = p.consent_id)"
    )
    old = "SELECT consent_id, msisdn, verified FROM consents WHERE false"
    if _count(con, "SELECT * FROM _agg_want"):
        old = "SELECT c.consent_id, c.msisdn, c.verified FROM consents c SEMI JOIN _agg_want w ON w.consent_id = c.consent_id"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _agg_cons AS SELECT consent_id, msisdn, verified "
        "FROM _nw_consents c WHERE c.consent_id IN (SELECT consent_id FROM _agg_newp) "
        f"UNION ALL {old}"
    )
    _update_peer(con, pack, touched)
    _update_dangling(con)
    _update_takeovers(con, touched)
    return {name: _fetch(con, name) for name in TABLES}


def _update_peer(con: duckdb.DuckDBPyConnection, pack: RulePack, touched: set[str]) -> None:
    if "packages" in touched:  # the median price, or a price: every activation again
        _build_peer(con, pack)
        return
    _peer(con, "_agg_newp", "_agg_cons", "_agg_newpairs")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('peer_keys')} AS "
        "SELECT entity, key, CAST(sum(acts) AS BIGINT) AS acts, CAST(sum(hv) AS BIGINT) AS hv, "
        f"max(hv_last) AS hv_last FROM (SELECT * FROM _old_peer_keys "
        f"UNION ALL {_keys_of('_agg_newpairs')}) GROUP BY entity, key"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('unconsented')} AS "
        "SELECT u.* FROM _old_unconsented u ANTI JOIN _nw_consents c "
        "ON c.consent_id = u.consent_id AND c.msisdn = u.msisdn AND c.verified = TRUE "
        f"UNION ALL {_unc_of('_agg_newpairs')}"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_t('hv_events')} AS SELECT * FROM _old_hv_events")
    _flagged_016(con, pack)
    # keys flagged before: their evidence and the batch's; keys flagged now for the first
    # time: read from the store
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _agg_first AS SELECT f.* FROM _agg_flagged f "
        "ANTI JOIN (SELECT DISTINCT entity, key FROM _old_hv_events) o "
        "ON o.entity = f.entity AND o.key = f.key"
    )
    first = "SELECT entity, key, CAST(NULL AS VARCHAR) AS event_id FROM _agg_first WHERE false"
    if _count(con, "SELECT * FROM _agg_first"):
        first = _hv_events("_agg_first")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('hv_events')} AS "
        "WITH kept AS (SELECT f.* FROM _agg_flagged f ANTI JOIN _agg_first n "
        "ON n.entity = f.entity AND n.key = f.key) "
        "SELECT o.* FROM _old_hv_events o SEMI JOIN kept k ON k.entity = o.entity AND k.key = o.key "
        f"UNION ALL SELECT * FROM ({_hv_events('kept', '_agg_newp')}) "
        f"UNION ALL SELECT * FROM ({first})"
    )


def _update_dangling(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('dangling')} AS "
        "SELECT d.* FROM _old_dangling d WHERE NOT ("
        "(d.ref IN ('agent', 'session_agent') "
        "AND EXISTS (SELECT 1 FROM _nw_agents a WHERE a.agent_id = d.ref_id)) "
        "OR (d.ref = 'session' "
        "AND EXISTS (SELECT 1 FROM _nw_sessions s WHERE s.session_id = d.ref_id)) "
        "OR (d.ref = 'consent' "
        "AND EXISTS (SELECT 1 FROM _nw_consents c WHERE c.consent_id = d.ref_id))) "
        "UNION ALL "
        + DANGLING.format(provisioning="_agg_newp", consents="_agg_cons", sessions="_nw_sessions")
    )


def _update_takeovers(con: duckdb.DuckDBPyConnection, touched: set[str]) -> None:
    # the later sessions whose pairs can have changed: new ones, those a new session on the
    # same terminal comes just before, those whose user ID's shift windows changed at their time
    parts = [
        "SELECT session_id FROM _nw_sessions",
        "SELECT s2.session_id FROM sessions s2 JOIN _nw_sessions n "
        "ON n.device_id = s2.device_id AND n.started_at < s2.started_at "
        "AND coalesce(n.ended_at, n.started_at) > s2.started_at - INTERVAL 30 MINUTE",
    ]
    if "shift_windows" in touched:
        parts.append(
            "SELECT s2.session_id FROM sessions s2 JOIN _diff_shift_windows d "
            "ON d.key_agent_id = s2.agent_id AND s2.started_at >= d.lo AND s2.started_at <= d.hi"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _agg_cand AS SELECT DISTINCT session_id FROM ("
        + " UNION ALL ".join(parts)
        + ")"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('takeovers')} AS "
        "SELECT o.* FROM _old_takeovers o ANTI JOIN _agg_cand c ON c.session_id = o.s2 "
        "UNION ALL "
        + TAKEOVERS.format(
            sessions="(SELECT * FROM sessions SEMI JOIN _agg_cand c USING (session_id))"
        )
    )
    # the activations of the later sessions found: known ones kept, the batch's added; a new
    # session's older activations were JJK-015's (they named a session nobody knew); any
    # other session found for the first time is read from the store
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _agg_s2 AS SELECT DISTINCT t.s2, "
        "t.s2 IN (SELECT s2 FROM _old_takeovers) AS known, "
        "t.s2 IN (SELECT session_id FROM _nw_sessions) AS fresh "
        f"FROM {_t('takeovers')} t"
    )
    other = "SELECT session_id, event_id, outlet_id FROM provisioning WHERE false"
    if _count(con, "SELECT * FROM _agg_s2 WHERE NOT known AND NOT fresh"):
        other = (
            "SELECT p.session_id, p.event_id, p.outlet_id FROM provisioning p "
            "WHERE p.session_id IN (SELECT s2 FROM _agg_s2 WHERE NOT known AND NOT fresh)"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_t('takeover_events')} AS "
        "SELECT e.* FROM _old_takeover_events e "
        "WHERE e.session_id IN (SELECT s2 FROM _agg_s2 WHERE known) "
        "UNION ALL SELECT p.session_id, p.event_id, p.outlet_id FROM _agg_newp p "
        "WHERE p.session_id IN (SELECT s2 FROM _agg_s2 WHERE known OR fresh) "
        "UNION ALL SELECT d.ref_id, d.record_ids, d.outlet_id FROM _old_dangling d "
        "WHERE d.ref = 'session' AND d.ref_id IN (SELECT s2 FROM _agg_s2 WHERE fresh) "
        f"UNION ALL {other}"
    )
