"""Derived tables: what rules need that SQL dialects disagree on, computed once per run in Python.

Rules read the kind views plus these tables, registered identically in every
engine, so that the rule SQL stays plain and transpiles cleanly:

``outlet_networks(outlet_id, network, lo, hi)``
    each CIDR of an outlet's ``networks``, its first and last address as
    zero-padded 32-hex text (IPv4 as IPv4-mapped IPv6, RFC 4291 §2.5.5.2), so
    that "address inside network" is a plain string range comparison.
``ip_addresses(ip, ip_hex)``
    every distinct ``source_ip`` of provisioning and sessions in the same form.
``outlet_hours(outlet_id, opens_at, closes_at)``
    one row per outlet and local day on which it is open, as UTC instants,
    computed with the outlet's IANA time zone (:mod:`zoneinfo`), for every day
    between the first and last provisioning event (plus a day either side).
    An outlet with neither ``opens`` nor ``closes`` is open always (one row
    spanning the whole range).
    ``early_from`` and ``late_until`` widen each window by the shift tolerance
    (staff finish the last customer after closing).
``shift_windows(shift_id, agent_id, outlet_id, duty, starts_at, ends_at, early_from, late_until)``
    every shift with the instants between which work under it is ordinary:
    ``early_from = starts_at - tolerance`` and ``late_until = ends_at + tolerance``,
    where a person's tolerance is the setting ``shift_tolerance_minutes`` or, when
    larger, the person's own habit (:func:`personal_margins`), never more than
    ``shift_tolerance_max_minutes``. Rules that compare an instant with a shift
    compare it with this window, not with the shift's exact start and end.
``last_rostered(agent_id, covered_until)``
    the end of each user ID's last rostered day: midnight after its last shift
    ends, in the outlet's time zone. The HR status in ``agents`` is the status
    at export time, so it says nothing about activity before that instant.
``complaint_charges(complaint_id, msisdn, opened_at, charge_id)``
    the complaints' ``disputed_charge_ids`` list, one row per charge.
``complaint_spans(complaint_id, msisdn, opened_at, open_until, resolution)``
    when each complaint was open: from ``opened_at`` until ``closed_at`` (export
    1.1), or without end when the export does not say it was closed.

Example::

    >>> tables = build_derived(store)          # doctest: +SKIP
    >>> sorted(tables)                         # doctest: +SKIP
    ['complaint_charges', 'complaint_spans', 'ip_addresses', 'last_rostered', 'outlet_hours', 'outlet_networks', 'shift_windows']
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa

from jejak.errors import RuleError
from jejak.schema import parse_open_days
from jejak.settings import settings

#: bump when the derived tables change meaning (part of the PostgreSQL cache key)
DERIVED_VERSION = "3"

#: how many of a person's sessions inside a shift make a habit (fewer: the setting alone)
PATTERN_MIN_SESSIONS = 5
#: which share of those sessions the personal margin covers
PATTERN_QUANTILE = 0.75

SCHEMAS: dict[str, pa.Schema] = {
    "outlet_networks": pa.schema(
        [
            ("outlet_id", pa.string()),
            ("network", pa.string()),
            ("lo", pa.string()),
            ("hi", pa.string()),
        ]
    ),
    "ip_addresses": pa.schema([("ip", pa.string()), ("ip_hex", pa.string())]),
    "outlet_hours": pa.schema(
        [
            ("outlet_id", pa.string()),
            ("opens_at", pa.timestamp("us", tz="UTC")),
            ("closes_at", pa.timestamp("us", tz="UTC")),
            ("early_from", pa.timestamp("us", tz="UTC")),
            ("late_until", pa.timestamp("us", tz="UTC")),
        ]
    ),
    "shift_windows": pa.schema(
        [
            ("shift_id", pa.string()),
            ("agent_id", pa.string()),
            ("outlet_id", pa.string()),
            ("duty", pa.string()),
            ("starts_at", pa.timestamp("us", tz="UTC")),
            ("ends_at", pa.timestamp("us", tz="UTC")),
            ("early_from", pa.timestamp("us", tz="UTC")),
            ("late_until", pa.timestamp("us", tz="UTC")),
        ]
    ),
    "last_rostered": pa.schema(
        [("agent_id", pa.string()), ("covered_until", pa.timestamp("us", tz="UTC"))]
    ),
    "rostered_agents": pa.schema([("agent_id", pa.string())]),
    "scheduled_outlets": pa.schema([("outlet_id", pa.string())]),
    "complaint_spans": pa.schema(
        [
            ("complaint_id", pa.string()),
            ("msisdn", pa.string()),
            ("opened_at", pa.timestamp("us", tz="UTC")),
            ("open_until", pa.timestamp("us", tz="UTC")),
            ("resolution", pa.string()),
        ]
    ),
    "complaint_charges": pa.schema(
        [
            ("complaint_id", pa.string()),
            ("msisdn", pa.string()),
            ("opened_at", pa.timestamp("us", tz="UTC")),
            ("charge_id", pa.string()),
        ]
    ),
}


def ip_hex(address: str) -> str | None:
    """An address as 32 hex digits (IPv4 mapped into IPv6); None if it is not an address.

    >>> ip_hex("10.20.30.17")
    '00000000000000000000ffff0a141e11'
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        ip = ipaddress.IPv6Address(f"::ffff:{ip}")
    return f"{int(ip):032x}"


def network_range(cidr: str) -> tuple[str, str] | None:
    """The first and last address of a CIDR as 32-hex text.

    >>> network_range("10.20.30.0/24")
    ('00000000000000000000ffff0a141e00', '00000000000000000000ffff0a141eff')
    """
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None
    lo, hi = net.network_address, net.broadcast_address
    if net.version == 4:
        return ip_hex(str(lo)) or "", ip_hex(str(hi)) or ""
    return f"{int(lo):032x}", f"{int(hi):032x}"


def _hhmm(text: str | None) -> time | None:
    if not text:
        return None
    h, m = text.split(":")
    return time(int(h), int(m))


def opening_windows(
    opens: str | None, closes: str | None, open_days: str | None, tz: str, first: date, last: date
) -> list[tuple[datetime, datetime]]:
    """The UTC windows in which an outlet is open, one per open local day in [first, last]."""
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuleError(tz, f"unknown time zone: {exc}") from exc
    o, c = _hhmm(opens), _hhmm(closes)
    if o is None and c is None:
        lo = datetime.combine(first - timedelta(days=2), time(0), zone).astimezone(UTC)
        hi = datetime.combine(last + timedelta(days=2), time(0), zone).astimezone(UTC)
        return [(lo, hi)]
    o = o or time(0)
    days = parse_open_days(open_days) if open_days else frozenset(range(7))
    out = []
    d = first - timedelta(days=1)
    while d <= last + timedelta(days=1):
        if d.weekday() in days:
            start = datetime.combine(d, o, zone)
            end_day = d if c is not None and c > o else d + timedelta(days=1)
            end = datetime.combine(end_day, c or time(0), zone)
            out.append((start.astimezone(UTC), end.astimezone(UTC)))
        d += timedelta(days=1)
    return out


def personal_margins(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[float, float]]:
    """Each user ID's habit at the edges of its shifts, in minutes: (early, late).

    From the person's own sessions that overlap one of her shifts: how long before
    the shift's start she logged in, and how long after its end she logged out
    (0 when inside), the :data:`PATTERN_QUANTILE` of each over at least
    :data:`PATTERN_MIN_SESSIONS` sessions. Sessions that do not overlap a shift
    (the ones detection is about) teach nothing.
    """
    rows = con.execute(
        f"""
        WITH m AS (
          SELECT s.agent_id,
                 greatest(epoch(r.starts_at) - epoch(s.started_at), 0) / 60.0 AS early,
                 greatest(epoch(coalesce(s.ended_at, s.started_at)) - epoch(r.ends_at), 0) / 60.0
                   AS late
          FROM sessions s
          JOIN shifts r
            ON r.agent_id = s.agent_id
           AND s.started_at < r.ends_at
           AND coalesce(s.ended_at, s.started_at) > r.starts_at
          WHERE s.agent_id IS NOT NULL
        )
        SELECT agent_id, quantile_cont(early, {PATTERN_QUANTILE}),
               quantile_cont(late, {PATTERN_QUANTILE})
        FROM m GROUP BY agent_id HAVING count(*) >= {PATTERN_MIN_SESSIONS}
        """
    ).fetchall()
    return {a: (float(e or 0), float(lt or 0)) for a, e, lt in rows}


def tolerances(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Each user ID's tolerance before and after its shifts, in whole microseconds: the setting
    ``shift_tolerance_minutes`` or, when larger, the person's habit (:func:`personal_margins`),
    never more than ``shift_tolerance_max_minutes``. A user ID without a habit is absent (it gets
    the setting)."""
    cfg = settings()
    base, cap = cfg.shift_tolerance_minutes, cfg.shift_tolerance_max_minutes

    def micros(minutes: float) -> int:
        return timedelta(minutes=min(max(base, minutes), max(cap, base))) // timedelta(
            microseconds=1
        )

    return {a: (micros(e), micros(lt)) for a, (e, lt) in personal_margins(con).items()}


def shift_windows(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The ``shift_windows`` table: every shift widened by its person's tolerance."""
    base = timedelta(minutes=settings().shift_tolerance_minutes) // timedelta(microseconds=1)
    habits = pa.Table.from_pylist(
        [{"agent_id": a, "before": b, "after": f} for a, (b, f) in tolerances(con).items()],
        pa.schema([("agent_id", pa.string()), ("before", pa.int64()), ("after", pa.int64())]),
    )
    con.register("_habits", habits)
    try:
        table = con.sql(
            f"""
            SELECT s.shift_id, s.agent_id, s.outlet_id, s.duty, s.starts_at, s.ends_at,
                   s.starts_at - to_microseconds(coalesce(h.before, {base})) AS early_from,
                   s.ends_at + to_microseconds(coalesce(h.after, {base})) AS late_until
            FROM shifts s LEFT JOIN _habits h ON h.agent_id = s.agent_id
            WHERE s.starts_at IS NOT NULL AND s.ends_at IS NOT NULL
            ORDER BY s.shift_id
            """
        ).to_arrow_table()
    finally:
        con.unregister("_habits")
    return table.cast(SCHEMAS["shift_windows"])


def last_rostered(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The ``last_rostered`` table: midnight after each user ID's last shift, local time."""
    rows = []
    for agent, ends, tz in con.execute(
        "SELECT s.agent_id, s.ends_at, o.timezone FROM shifts s "
        "LEFT JOIN outlets o ON o.outlet_id = s.outlet_id "
        "WHERE s.agent_id IS NOT NULL AND s.ends_at IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY s.agent_id ORDER BY s.ends_at DESC) = 1 "
        "ORDER BY s.agent_id"
    ).fetchall():
        try:
            zone = ZoneInfo(tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = ends.astimezone(zone)
        # a shift ending at midnight belongs to the day before
        day = (local - timedelta(microseconds=1)).date()
        until = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        rows.append({"agent_id": agent, "covered_until": until})
    return pa.Table.from_pylist(rows, SCHEMAS["last_rostered"])


def addresses(
    con: duckdb.DuckDBPyConnection, source: str, known: pa.Table | None = None
) -> pa.Table:
    """The ``ip_addresses`` table of the ``source_ip`` column of the query ``source``, plus
    the rows of ``known`` (an earlier ``ip_addresses``), sorted by address."""
    rows = {r["ip"]: r for r in (known.to_pylist() if known is not None else [])}
    for (ip,) in con.execute(
        f"SELECT DISTINCT source_ip FROM ({source}) WHERE source_ip IS NOT NULL"
    ).fetchall():
        if ip not in rows:
            h = ip_hex(ip)
            if h:
                rows[ip] = {"ip": ip, "ip_hex": h}
    return pa.Table.from_pylist([rows[k] for k in sorted(rows)], SCHEMAS["ip_addresses"])


def build_derived(
    con: duckdb.DuckDBPyConnection, *, ip_addresses: pa.Table | None = None
) -> dict[str, pa.Table]:
    """Compute every derived table from a connection holding the kind views; ``ip_addresses``
    given (incremental detection: the earlier table plus the new batches' addresses) is used
    as it is instead of reading every address of the store."""
    tables: dict[str, pa.Table] = {}
    slack = timedelta(minutes=settings().shift_tolerance_minutes)
    rng = con.execute(
        'SELECT CAST(min("at") AS DATE), CAST(max("at") AS DATE) FROM provisioning'
    ).fetchall()[0]
    first, last = rng or (None, None)
    if first is None:
        first = last = date(2000, 1, 1)
    nets: list[dict[str, str]] = []
    hours: list[dict[str, object]] = []
    for outlet_id, networks, opens, closes, open_days, tz in con.execute(
        "SELECT outlet_id, networks, opens, closes, open_days, timezone FROM outlets ORDER BY outlet_id"
    ).fetchall():
        for cidr in networks or []:
            r = network_range(cidr)
            if r:
                nets.append({"outlet_id": outlet_id, "network": cidr, "lo": r[0], "hi": r[1]})
        for a, b in opening_windows(opens, closes, open_days, tz, first, last):
            hours.append(
                {
                    "outlet_id": outlet_id,
                    "opens_at": a,
                    "closes_at": b,
                    "early_from": a - slack,
                    "late_until": b + slack,
                }
            )
    tables["outlet_networks"] = pa.Table.from_pylist(nets, SCHEMAS["outlet_networks"])
    tables["outlet_hours"] = pa.Table.from_pylist(hours, SCHEMAS["outlet_hours"])
    tables["ip_addresses"] = (
        ip_addresses
        if ip_addresses is not None
        else addresses(
            con, "SELECT source_ip FROM provisioning UNION SELECT source_ip FROM sessions"
        )
    )
    cc = con.execute(
        "SELECT complaint_id, msisdn, opened_at, disputed_charge_ids FROM complaints ORDER BY complaint_id"
    ).fetchall()
    crow = [
        {"complaint_id": cid, "msisdn": m, "opened_at": at, "charge_id": ch}
        for cid, m, at, charges in cc
        for ch in sorted(set(charges or []))
    ]
    tables["complaint_charges"] = pa.Table.from_pylist(crow, SCHEMAS["complaint_charges"])
    spans = con.execute(
        "SELECT complaint_id, msisdn, opened_at, "
        "CASE WHEN status = 'closed' "
        "THEN closed_at END, resolution FROM complaints ORDER BY complaint_id"
    ).fetchall()
    tables["complaint_spans"] = pa.Table.from_pylist(
        [
            {"complaint_id": c, "msisdn": m, "opened_at": o, "open_until": u, "resolution": r}
            for c, m, o, u, r in spans
        ],
        SCHEMAS["complaint_spans"],
    )
    tables["shift_windows"] = shift_windows(con)
    tables["last_rostered"] = last_rostered(con)
    tables["rostered_agents"] = (
        con.sql("SELECT DISTINCT agent_id FROM shifts WHERE agent_id IS NOT NULL ORDER BY agent_id")
        .to_arrow_table()
        .cast(SCHEMAS["rostered_agents"])
    )
    tables["scheduled_outlets"] = pa.Table.from_pylist(
        [{"outlet_id": o} for o in sorted({str(h["outlet_id"]) for h in hours})],
        SCHEMAS["scheduled_outlets"],
    )
    return tables
