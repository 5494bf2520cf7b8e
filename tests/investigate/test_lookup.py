"""The lookup index answers exactly what a scan of the store's Parquet files answers; every
ingest builds it with its batch, and a report reads the Parquet files where it is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jejak import index as X
from jejak.investigate import investigate
from jejak.investigate.lookup import LOOKUPS, LookupIndex
from jejak.store import Store
from tests.investigate.conftest import SEED_MSISDN


@pytest.fixture
def seed_copy(seed_home_detected: Path, tmp_path: Path) -> Store:
    home = tmp_path / "home"
    shutil.copytree(seed_home_detected, home)
    return Store(home)


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("provisioning", "agent_id", "16009045"),
        ("provisioning", "session_id", "SE000100"),
        ("provisioning", "source_ip", "10.20.30.17"),
        ("provisioning", "device_id", "SRG-PC-07"),
        ("sessions", "session_id", "SE000057"),
        ("sessions", "device_id", "SRG-PC-07"),
        ("shifts", "agent_id", "16009051"),
    ],
)
def test_lookup_equals_a_scan(seed_copy: Store, kind: str, key: str, value: str) -> None:
    assert seed_copy.indexed_files(kind, key)[0]  # answered by the index, not by the fallback
    idx_rows = LookupIndex(seed_copy).rows(kind, key, [value])
    ident = {"provisioning": "event_id", "sessions": "session_id", "shifts": "shift_id"}[kind]
    where = "agent_id IS NOT NULL AND " if kind == "provisioning" else ""
    scan = seed_copy.sql(f'SELECT * FROM {kind} WHERE {where}"{key}" = ?', [value])
    assert sorted(r[ident] for r in idx_rows) == sorted(r[ident] for r in scan)
    by_id = {r[ident]: r for r in scan}
    assert all(r == by_id[r[ident]] for r in idx_rows)  # every field, typed as DuckDB reads it
    assert scan  # the example is not vacuous


@pytest.mark.parametrize("kind", ["provisioning", "consents", "charges", "locations", "complaints"])
def test_subscriber_lookup_equals_a_scan(seed_copy: Store, kind: str) -> None:
    got = seed_copy.subscriber(SEED_MSISDN)[kind]
    tf = {"complaints": "opened_at"}.get(kind, "at")
    scan = seed_copy.sql(f'SELECT * FROM {kind} WHERE msisdn = ? ORDER BY "{tf}"', [SEED_MSISDN])
    assert got == scan and scan


def test_each_ingest_indexes_its_own_batch(seed_copy: Store, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "provisioning.csv").write_text(
        "event_id,at,msisdn,action,package_id,channel,agent_id,session_id,outlet_id,source_ip,device_id,consent_id,price,promo_ends\n"
        "EV0009999,2016-07-18T21:40:00+07:00,6281100000099,activate,DATA12GB,outlet,16009045,SE000100,SRG,10.20.30.17,SRG-PC-07,,0,2016-12-31\n"
    )
    seed_copy.ingest([extra])
    status = LookupIndex(seed_copy).status()
    assert status["provisioning.session_id"] == ["000001", "000002"]  # no report built it
    assert LookupIndex(seed_copy).ensure() == 0
    r = investigate(seed_copy, SEED_MSISDN, alerts=[])
    assert "6281100000099" in r.blast_radius.by_session
    assert seed_copy.subscriber("6281100000099")["provisioning"][0]["event_id"] == "EV0009999"


def test_a_report_without_the_index_is_the_same(seed_copy: Store, seed_json: dict) -> None:
    as_of = seed_json["as_of"]  # a still-running bar's compensation is counted to as_of
    with_index = investigate(seed_copy, SEED_MSISDN, as_of=as_of).to_dict()
    for key in ("verdict", "actions", "blast_radius", "remedy", "chronology"):
        assert with_index[key] == seed_json[key], key
    shutil.rmtree(seed_copy.root / "index")
    X.forget(seed_copy.root)
    without = investigate(seed_copy, SEED_MSISDN, as_of=as_of).to_dict()
    assert not (seed_copy.root / "index").exists()  # a read builds nothing
    for key in ("verdict", "actions", "blast_radius", "remedy", "chronology"):
        assert without[key] == seed_json[key], key
    assert LookupIndex(seed_copy).ensure() == sum(1 for k in X.SECOND_KEYS if seed_copy.files(k))
    assert all(v == ["000001"] for v in LookupIndex(seed_copy).status().values())
    assert set(LookupIndex(seed_copy).status()) == {
        f"{k}.{key}" for k, (keys, _) in LOOKUPS.items() for key in keys
    }


def test_a_second_key_hash_collision_is_filtered(
    seed_copy: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value whose hash matches a stored one's is not that value: only equal keys come back."""
    real = X.hashes

    def colliding(values: list[str]) -> list[int]:
        return real(["SE000100" for _ in values])

    monkeypatch.setattr(X, "hashes", colliding)
    assert seed_copy.lookup("provisioning", ["SE999999"], "session_id") == []
    assert seed_copy.lookup("provisioning", ["SE000100"], "session_id")


def test_an_index_of_another_version_of_its_file_is_not_used(seed_copy: Store) -> None:
    """A data file rewritten behind its index's back (an erasure cut off by a crash) is read from
    the Parquet, never through the stale index, until the index is built again."""
    import duckdb

    rel = "data/provisioning/000001-0000.parquet"
    path = seed_copy.root / rel
    tmp = path.with_name("rewritten.parquet")
    duckdb.sql(
        f"COPY (SELECT * FROM read_parquet('{path}') WHERE msisdn <> '{SEED_MSISDN}') "
        f"TO '{tmp}' (FORMAT parquet)"
    )
    tmp.replace(path)
    assert seed_copy.subscriber(SEED_MSISDN)["provisioning"] == []
    assert seed_copy.indexed_files("provisioning", "session_id")[0]  # the manifest still says so
    assert all(
        r["msisdn"] != SEED_MSISDN for r in seed_copy.provisioning_by("session_id", "SE000100")
    )
    assert LookupIndex(seed_copy).ensure() == sum(1 for k in X.SECOND_KEYS if seed_copy.files(k))
    assert X.current(seed_copy.root, "provisioning", rel)
    assert seed_copy.provisioning_by("session_id", "SE000100")


def test_second_key_arrays_hold_every_row_sorted_by_hash_then_row(seed_copy: Store) -> None:
    """Each second key's arrays: one (hash, row) pair per row whose key is set, the hash
    DuckDB's (what a lookup computes), ordered by hash and then row."""
    import duckdb
    import numpy as np

    rel = seed_copy.indexed_files("provisioning", "agent_id")[0][0]
    base = seed_copy.root / X.base_of(rel)
    con = duckdb.connect()
    for key in X.SECOND_KEYS["provisioning"]:
        h = np.load(f"{base}.{key}.h.npy")
        p = np.load(f"{base}.{key}.p.npy")
        assert h.dtype == np.uint64 and p.dtype == np.uint32
        values = con.execute(
            f'SELECT "{key}" FROM read_parquet(?, file_row_number=true) ORDER BY file_row_number',
            [str(seed_copy.root / rel)],
        ).fetchall()
        expected = sorted(
            (X.hashes([v])[0], row) for row, (v,) in enumerate(values) if v is not None
        )
        assert expected  # not vacuous
        assert list(zip(h.tolist(), p.tolist(), strict=True)) == expected
