"""A synthetic operator in the export layout, made fast with DuckDB: for benchmarks and engine tests.

Not the realistic simulator (:mod:`jejak.simulate`): regular rows with realistic
cardinalities — 8 user IDs per outlet, each on a 08:00–17:00 shift and one
session a day on its own terminal, one verified consent per staff activation,
a package charge an hour after every fourth activation, subscribers that visit one outlet, a handset location per second event —
plus a few planted oddities per 1,000 events (out of hours without consent, a
foreign address, a far-away handset, a charge above price, a bar over a
disputed charge) so that every engine has real work and real findings.

    >>> generate(Path("/tmp/synth"), events=20_000)    # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import duckdb

DAYS = 90
START = "2016-07-01 00:00:00+07"


def generate(
    out: Path,
    events: int,
    *,
    parts: int = 1,
    planted: bool = True,
    days: tuple[int, int] = (0, DAYS),
    first_event: int = 0,
    population: int | None = None,
) -> Path:
    """Write ``out/<kind>/part-N.parquet`` for every kind; returns ``out``.

    ``planted=False`` gives a clean operator: nothing in it should be an alert. ``days`` (first
    day, number of days) and ``first_event`` make a later export of the same operator: the
    activity of those days only, event numbers from ``first_event`` on, without the reference
    kinds (outlets, staff, packages, subscribers) unless ``first_event`` is 0; ``population``
    is the event count the operator's size follows (its staff, outlets and subscribers;
    default ``events``), so that a day's export of a large operator is a day of that operator.

        >>> generate(Path("/tmp/synth/next-day"), 1_000_000, days=(90, 1),    # doctest: +SKIP
        ...          first_event=100_000_000, population=100_000_000)
    """
    out.mkdir(parents=True, exist_ok=True)
    size = population or events
    n_agents = max(16, min(4000, size // 2500))
    n_outlets = max(2, n_agents // 8)
    subs = max(10, size // 20)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    p = {
        "agents": n_agents,
        "outlets": n_outlets,
        "subs": subs,
        "first_day": days[0],
        "last_day": days[0] + days[1],
        "days": days[1],
        "start": START,
        "plant": 1 if planted else 0,
    }
    reference = first_event == 0

    def write(kind: str, sql: str, nparts: int = 1, rows: int = 0) -> None:
        if not reference and kind in ("outlets", "agents", "packages", "subscribers"):
            return
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        if nparts == 1:
            q = sql.format(lo=first_event, hi=first_event + rows, **p)
            con.execute(f"COPY ({q}) TO '{folder}/part-0000.parquet' (FORMAT parquet)")
            return
        per = -(-rows // nparts)
        for i in range(nparts):
            lo, hi = first_event + i * per, first_event + min(rows, (i + 1) * per)
            q = sql.format(lo=lo, hi=hi, **p)
            con.execute(f"COPY ({q}) TO '{folder}/part-{i:04d}.parquet' (FORMAT parquet)")

    write(
        "outlets",
        """
        SELECT 'OUT' || o AS outlet_id, 'Outlet ' || o AS name, 'service_center' AS kind,
               'R' || (o % 10) AS region, 'City' || o AS city, 'Asia/Jakarta' AS timezone,
               '08:00' AS opens, '17:00' AS closes, 'Mon-Sat' AS open_days,
               ['10.' || (o // 250) || '.' || (o % 250) || '.0/24'] AS networks
        FROM range({outlets}) t(o)""",
    )
    write(
        "agents",
        """
        SELECT CAST(16000000 + a AS VARCHAR) AS agent_id, 'Person ' || a AS person, 'cs' AS role,
               'OUT' || (a // 8) AS outlet_id, 'active' AS status, DATE '2015-01-01' AS valid_from,
               CAST(NULL AS DATE) AS valid_to
        FROM range({agents}) t(a)""",
    )
    write(
        "packages",
        """
        SELECT * FROM (VALUES ('DATA12GB', 'Paket Data 12GB', 250000, 30, 12288, true),
                              ('DATA3GB', 'Paket Data 3GB', 60000, 30, 3072, true),
                              ('NELP50', 'Paket Nelpon 50', 50000, 30, 0, true))
               v(package_id, name, price, period_days, data_mb, auto_renew)""",
    )
    write(
        "subscribers",
        """
        SELECT CAST(6281200000000 + s AS VARCHAR) AS msisdn,
               CASE WHEN s % 3 = 0 THEN 'postpaid' ELSE 'prepaid' END AS plan,
               'R' || (s % 10) AS home_region, DATE '2014-01-01' AS since, 'active' AS status
        FROM range({subs}) t(s)""",
    )
    # working days only (Mon-Sat): day d is a Sunday when (d + 4) % 7 = 6 (2016-07-01 was a Friday)
    write(
        "shifts",
        """
        SELECT 'SH' || a || '-' || d AS shift_id, CAST(16000000 + a AS VARCHAR) AS agent_id,
               'OUT' || (a // 8) AS outlet_id,
               TIMESTAMPTZ '{start}' + INTERVAL (d) DAY + INTERVAL 8 HOUR AS starts_at,
               TIMESTAMPTZ '{start}' + INTERVAL (d) DAY + INTERVAL 17 HOUR AS ends_at,
               'regular' AS duty
        FROM range({agents}) t(a), range({first_day}, {last_day}) u(d) WHERE (d + 4) % 7 <> 6""",
    )
    write(
        "sessions",
        """
        SELECT 'SE' || a || '-' || d AS session_id, CAST(16000000 + a AS VARCHAR) AS agent_id,
               TIMESTAMPTZ '{start}' + INTERVAL (d) DAY + INTERVAL 475 MINUTE AS started_at,
               TIMESTAMPTZ '{start}' + INTERVAL (d) DAY + INTERVAL 1025 MINUTE AS ended_at,
               '10.' || ((a // 8) // 250) || '.' || ((a // 8) % 250) || '.' || (10 + a % 8) AS source_ip,
               'PC-' || a AS device_id, 'password' AS auth
        FROM range({agents}) t(a), range({first_day}, {last_day}) u(d) WHERE (d + 4) % 7 <> 6""",
    )
    ev = """
        WITH base AS (
          SELECT i, hash(i) % {agents} AS a,
                 {first_day} + (i // {agents}) % {days} AS d0,
                 {plant} = 1 AND i % 1000 = 7 AS planted
          FROM range({lo}, {hi}) t(i)
        ), b AS (
          SELECT *, CASE WHEN (d0 + 4) % 7 = 6 THEN d0 - 1 ELSE d0 END AS d FROM base
        )
        SELECT 'EV' || lpad(CAST(i AS VARCHAR), 10, '0') AS event_id,
               TIMESTAMPTZ '{start}' + INTERVAL (d) DAY
                 + INTERVAL (CASE WHEN planted THEN 1260 ELSE 485 + (i * 7919) % 500 END) MINUTE
                 + INTERVAL (i % 60) SECOND AS "at",
               CAST(6281200000000 + (hash(i * 31) % ({subs} // {outlets} + 1)) * {outlets} + a // 8 AS VARCHAR) AS msisdn,
               CASE WHEN i % 10 < 6 OR planted THEN 'activate' WHEN i % 10 < 8 THEN 'renew'
                    WHEN i % 10 = 8 THEN 'modify' ELSE 'deactivate' END AS action,
               (['DATA12GB', 'DATA3GB', 'NELP50'])[1 + i % 3] AS package_id,
               'outlet' AS channel,
               CAST(16000000 + a AS VARCHAR) AS agent_id,
               'SE' || a || '-' || d AS session_id,
               'OUT' || (a // 8) AS outlet_id,
               CASE WHEN {plant} = 1 AND i % 5000 = 7 THEN '203.0.113.' || (i % 200)
                    ELSE '10.' || ((a // 8) // 250) || '.' || ((a // 8) % 250) || '.' || (10 + a % 8) END AS source_ip,
               'PC-' || a AS device_id,
               CASE WHEN planted THEN NULL ELSE 'CO' || i END AS consent_id,
               CAST(([250000, 60000, 50000])[1 + i % 3] AS BIGINT) AS price,
               CAST(NULL AS DATE) AS promo_ends
        FROM b"""
    nparts = max(parts, events // 5_000_000 or 1)
    write("provisioning", ev, nparts, events)
    write(
        "consents",
        f"""
        SELECT consent_id, msisdn, "at" - INTERVAL 30 SECOND AS "at", 'sms_otp' AS method, true AS verified,
               'otp://' || consent_id AS evidence
        FROM ({ev}) WHERE consent_id IS NOT NULL""",
        nparts,
        events,
    )
    write(
        "charges",
        f"""
        SELECT 'CH' || substr(event_id, 3) AS charge_id, msisdn,
               strftime("at" + INTERVAL 1 HOUR, '%Y-%m') AS cycle, "at" + INTERVAL 1 HOUR AS "at",
               package_id,
               CASE WHEN {{plant}} = 1 AND CAST(substr(event_id, 3) AS BIGINT) % 2000 = 4 THEN price * 2 ELSE price END AS amount,
               'package' AS kind, 'Paket' AS description
        FROM ({ev}) WHERE action = 'activate' AND CAST(substr(event_id, 3) AS BIGINT) % 4 = 0""",
        nparts,
        events,
    )
    write(
        "locations",
        f"""
        SELECT msisdn, "at" - INTERVAL 20 MINUTE AS "at",
               CASE WHEN {{plant}} = 1 AND CAST(substr(event_id, 3) AS BIGINT) % 1000 = 7 THEN 'FAR' ELSE 'R' || (CAST(substr(outlet_id, 4) AS BIGINT) % 10) END AS region,
               CASE WHEN {{plant}} = 1 AND CAST(substr(event_id, 3) AS BIGINT) % 1000 = 7 THEN 'Faraway' ELSE 'City' || substr(outlet_id, 4) END AS city,
               'CELL-' || substr(outlet_id, 4) AS cell_id
        FROM ({ev}) WHERE CAST(substr(event_id, 3) AS BIGINT) % 2 = 1""",
        nparts,
        events,
    )
    write(
        "complaints",
        f"""
        SELECT 'TCK' || substr(charge_id, 3) AS complaint_id, msisdn, "at" + INTERVAL 5 DAY AS opened_at,
               'call_center' AS channel, 'billing' AS category, 'tagihan' AS summary,
               [charge_id] AS disputed_charge_ids, amount AS disputed_amount
        FROM (SELECT 'CH' || substr(event_id, 3) AS charge_id, msisdn, "at" + INTERVAL 1 HOUR AS "at",
                     price * 2 AS amount
              FROM ({ev}) WHERE {{plant}} = 1 AND action = 'activate' AND CAST(substr(event_id, 3) AS BIGINT) % 2000 = 4)""",
        1,
        events,
    )
    write(
        "line_actions",
        f"""
        SELECT 'LA' || substr(charge_id, 3) AS action_id, msisdn, "at" + INTERVAL 30 DAY AS "at",
               'bar_all' AS action, 'non_payment' AS reason, amount AS amount_due, 'SYS-BILL' AS agent_id
        FROM (SELECT 'CH' || substr(event_id, 3) AS charge_id, msisdn, "at" + INTERVAL 1 HOUR AS "at",
                     price * 2 AS amount
              FROM ({ev}) WHERE {{plant}} = 1 AND action = 'activate' AND CAST(substr(event_id, 3) AS BIGINT) % 4000 = 4)""",
        1,
        events,
    )
    con.close()
    return out
