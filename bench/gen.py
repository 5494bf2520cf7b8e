"""Synthetic provisioning rows in the export layout, made fast with DuckDB, for the benchmarks.

Not a realistic operator (that is ``jejak simulate``): just valid rows with
realistic cardinalities — 1 subscriber per 20 events, 2,000 user IDs,
10 events per session, 250 outlets — so ingest and lookups do real work.

    python bench/gen.py --rows 10000000 --format parquet --out bench/data/p10m
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

SQL = """
SELECT 'EV' || lpad(CAST(i AS VARCHAR), 10, '0') AS event_id,
       TIMESTAMPTZ '2016-07-01 00:00:00+07' + to_seconds(CAST((i * 7919) % (86400 * 90) AS BIGINT)) AS "at",
       CAST(6281200000000 + hash(i) % {subs} AS VARCHAR) AS msisdn,
       (['activate','renew','modify','deactivate','expire'])[1 + (i % 5)] AS action,
       (['DATA12GB','DATA3GB','NELP50'])[1 + (i % 3)] AS package_id,
       (['outlet','app','ussd','web','dealer'])[1 + (i % 5)] AS channel,
       CAST(16000000 + (i // 10) % 2000 AS VARCHAR) AS agent_id,
       'SE' || CAST(i // 10 AS VARCHAR) AS session_id,
       'OUT' || CAST((i // 10) % 2000 % 250 AS VARCHAR) AS outlet_id,
       '10.' || CAST((i // 10) % 2000 % 250 AS VARCHAR) || '.' || CAST(i % 7 AS VARCHAR) || '.' || CAST(1 + (i // 10) % 200 AS VARCHAR) AS source_ip,
       'PC-' || CAST((i // 10) % 2000 AS VARCHAR) AS device_id,
       'CO' || CAST(i AS VARCHAR) AS consent_id,
       CAST((i % 3) * 50000 AS BIGINT) AS price,
       CASE WHEN i % 11 = 0 THEN DATE '2016-12-31' END AS promo_ends
FROM range({start}, {stop}) t(i)
"""


def generate(out: Path, rows: int, fmt: str, parts: int = 1, start: int = 0) -> Path:
    """Write ``rows`` provisioning rows as ``out/provisioning/part-N.<fmt>``; returns the folder."""
    folder = out / "provisioning"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Jakarta'")
    per = -(-rows // parts)
    for p in range(parts):
        lo, hi = start + p * per, start + min(rows, (p + 1) * per)
        if lo >= hi:
            break
        query = SQL.format(start=lo, stop=hi, subs=max(1, (start + rows) // 20))
        target = folder / f"part-{p:04d}.{fmt}"
        if fmt == "parquet":
            con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        else:
            con.execute(
                f'COPY (SELECT * REPLACE (strftime("at", \'%Y-%m-%dT%H:%M:%S+07:00\') AS "at") FROM ({query})) '
                f"TO '{target}' (FORMAT csv, HEADER)"
            )
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    generate(a.out, a.rows, a.format, a.parts, a.start)


if __name__ == "__main__":
    main()
