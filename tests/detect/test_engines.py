"""The same pack on DuckDB, Spark and PostgreSQL gives the same alerts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from jejak.detect import DetectionResult, detect
from jejak.detect.derived import ip_hex, network_range, opening_windows
from jejak.detect.synth import generate
from jejak.errors import EngineError, UsageError
from jejak.store import Store


@pytest.fixture(scope="session")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A synthetic operator of 20,000 provisioning events with planted oddities."""
    root = tmp_path_factory.mktemp("synth")
    generate(root / "export", 20_000)
    store = Store(root / "home")
    assert store.ingest([root / "export"]).quarantined == 0
    return store


@pytest.fixture(scope="session")
def simulated_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """An operator from the realistic simulator (skips while jejak.simulate is absent)."""
    sim = pytest.importorskip("jejak.simulate", reason="jejak.simulate is not in the tree yet")
    root = tmp_path_factory.mktemp("sim")
    sim.simulate(root / "export")
    store = Store(root / "home")
    store.ingest([root / "export"])
    return store


def _same(a: DetectionResult, b: DetectionResult) -> None:
    assert a.keys(), "nothing to compare: the data must produce alerts"
    only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
    assert not only_a and not only_b, (
        f"{a.engine} only: {only_a[:5]}; {b.engine} only: {only_b[:5]}"
    )


def test_spark_equals_duckdb_on_the_seed(
    seed_detection: tuple[Store, DetectionResult], spark: Any
) -> None:
    store, duck = seed_detection
    _same(duck, detect(store, engine="spark", save=False))


def test_spark_equals_duckdb_on_a_synthetic_operator(synth_store: Store, spark: Any) -> None:
    _same(detect(synth_store, save=False), detect(synth_store, engine="spark", save=False))


def test_spark_equals_duckdb_on_a_simulated_operator(simulated_store: Store, spark: Any) -> None:
    _same(detect(simulated_store, save=False), detect(simulated_store, engine="spark", save=False))


def _drop_schema(store: Store, pg_url: str) -> None:
    from jejak.detect.engines import PostgresEngine

    eng = PostgresEngine(store, pg_url)
    eng.drop()
    eng.close()


def test_postgres_equals_duckdb_on_the_seed(
    seed_detection: tuple[Store, DetectionResult], pg_url: str
) -> None:
    store, duck = seed_detection
    try:
        _same(duck, detect(store, engine="postgres", pg_url=pg_url, save=False))
    finally:
        _drop_schema(store, pg_url)


def test_postgres_equals_duckdb_on_a_synthetic_operator(synth_store: Store, pg_url: str) -> None:
    try:
        _same(
            detect(synth_store, save=False),
            detect(synth_store, engine="postgres", pg_url=pg_url, save=False),
        )
    finally:
        _drop_schema(synth_store, pg_url)


def test_postgres_equals_duckdb_on_a_simulated_operator(
    simulated_store: Store, pg_url: str
) -> None:
    try:
        _same(
            detect(simulated_store, save=False),
            detect(simulated_store, engine="postgres", pg_url=pg_url, save=False),
        )
    finally:
        _drop_schema(simulated_store, pg_url)


def test_postgres_reuses_its_schema(seed_store: Store, pg_url: str) -> None:
    import psycopg

    from jejak.detect.engines import PostgresEngine

    first = PostgresEngine(seed_store, pg_url)
    first.close()
    second = PostgresEngine(seed_store, pg_url)
    try:
        assert second.schema == first.schema
        assert second.query("SELECT count(*) AS n FROM provisioning") == [{"n": 175}]
    finally:
        second.close()
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"DROP SCHEMA {first.schema} CASCADE")


def test_an_unreachable_postgres_is_an_engine_error(seed_store: Store) -> None:
    with pytest.raises(EngineError, match="cannot connect"):
        detect(
            seed_store, engine="postgres", pg_url="postgresql://nobody@127.0.0.1:1/none", save=False
        )


def test_an_unknown_engine_is_a_usage_error(seed_store: Store) -> None:
    with pytest.raises(UsageError, match="unknown engine"):
        detect(seed_store, engine="oracle", save=False)


def test_synthetic_operator_findings(synth_store: Store) -> None:
    result = detect(synth_store, save=False)
    rules = {a.rule for a in result.alerts}
    assert {"JJK-001", "JJK-002", "JJK-003", "JJK-007", "JJK-008", "JJK-013", "JJK-014"} <= rules
    # planted: 20 out-of-hours activations without consent; nothing else is an activation finding
    assert len([a for a in result.alerts if a.rule == "JJK-007"]) == 20


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.20.30.17", "00000000000000000000ffff0a141e11"),
        ("2001:db8::1", "20010db8000000000000000000000001"),
        ("not-an-ip", None),
    ],
)
def test_ip_hex(address: str, expected: str | None) -> None:
    assert ip_hex(address) == expected


def test_network_ranges_compare_as_text() -> None:
    lo, hi = network_range("10.20.30.0/24") or ("", "")
    assert lo <= (ip_hex("10.20.30.255") or "") <= hi
    assert not lo <= (ip_hex("10.20.31.0") or "") <= hi
    assert network_range("bogus") is None


def test_opening_windows_follow_the_outlets_time_zone() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    wit = ZoneInfo("Asia/Jayapura")
    wins = opening_windows(
        "08:00", "16:00", "Mon-Sat", "Asia/Jayapura", date(2016, 7, 16), date(2016, 7, 18)
    )
    monday = [w for w in wins if w[0].astimezone(wit).date() == date(2016, 7, 18)]
    # 08:00-16:00 WIT (UTC+9) is 23:00 the day before to 07:00 UTC
    assert monday and (monday[0][0].hour, monday[0][1].hour) == (23, 7)
    assert all(w[0].astimezone(wit).weekday() != 6 for w in wins), "open on a Sunday"
    always = opening_windows(None, None, None, "Asia/Jakarta", date(2016, 7, 18), date(2016, 7, 18))
    assert len(always) == 1


def test_copy_of_store_keeps_results(
    seed_detection: tuple[Store, DetectionResult], tmp_path: Path
) -> None:
    store, duck = seed_detection
    shutil.copytree(store.home / "store", tmp_path / "home" / "store")
    _same(duck, detect(Store(tmp_path / "home"), save=False))
