"""An ingest killed at any moment (kill -9) leaves the whole batch or none of it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from jejak.home import Home

ROWS = 400_000


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big") / "export"
    (folder / "provisioning").mkdir(parents=True)
    for part in range(2):
        duckdb.sql(
            "COPY (SELECT 'EV' || i AS event_id, TIMESTAMPTZ '2016-07-01 00:00:00+07' + to_seconds(i) AS \"at\", "
            "CAST(6281200000000 + i % 20000 AS VARCHAR) AS msisdn, 'activate' AS action, 'DATA3GB' AS package_id, "
            "'app' AS channel, NULL AS agent_id, NULL AS session_id, 'APP' AS outlet_id, NULL AS source_ip, "
            "NULL AS device_id, 'CO' || i AS consent_id, 60000 AS price, NULL::DATE AS promo_ends "
            f"FROM range({part * ROWS // 2}, {(part + 1) * ROWS // 2}) t(i)) "
            f"TO '{folder}/provisioning/part-{part}.parquet' (FORMAT parquet)"
        )
    return folder


def _ingest_process(
    home: Path, export: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    code = "import sys; from jejak import Home; Home(sys.argv[1]).ingest([sys.argv[2]])"
    return subprocess.Popen(
        [sys.executable, "-c", code, str(home), str(export)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stored_rows(home: Path) -> int:
    store = Home(home).store
    return sum(store.status(integrity=False).kinds[k].rows for k in ("provisioning",))


def _orphans(home: Path) -> list[Path]:
    store = Home(home).store
    named = {f.resolve() for f in store.files("provisioning")}
    return [p for p in (home / "store" / "data").rglob("*.parquet") if p.resolve() not in named]


def test_killed_just_before_the_commit_the_batch_is_not_there(
    big_export: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    proc = _ingest_process(home, big_export, {"JEJAK_CRASH_AT": "before-manifest"})
    assert proc.wait(timeout=120) == -signal.SIGKILL
    assert _stored_rows(home) == 0
    assert _orphans(home)  # its files were moved into place, but nothing names them
    result = Home(home).ingest([big_export])  # the next writer clears them and goes on
    assert result.loaded == ROWS
    assert _stored_rows(home) == ROWS and _orphans(home) == []


@pytest.mark.slow
def test_killed_at_random_moments_the_store_holds_all_or_nothing(
    big_export: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    rng = random.Random(20160718)
    outcomes = set()
    for _ in range(6):
        proc = _ingest_process(home, big_export)
        time.sleep(rng.uniform(0.3, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        rows = _stored_rows(home)
        assert rows in (0, ROWS), f"a killed ingest left {rows} rows"
        outcomes.add(rows)
        if rows:
            break
    result = Home(home).ingest([big_export])
    assert _stored_rows(home) == ROWS
    assert result.loaded + result.duplicate == ROWS
    assert _orphans(home) == []
    assert 0 in outcomes  # at least one kill landed mid-ingest
