"""The lookup files answer exactly what a scan of the store answers; a report reads the store's
files where one is missing and builds none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
    idx_rows = LookupIndex(seed_copy).rows(kind, key, [value])
    ident = {"provisioning": "event_id", "sessions": "session_id", "shifts": "shift_id"}[kind]
    where = "agent_id IS NOT NULL AND " if kind == "provisioning" else ""
    scan = seed_copy.sql(f'SELECT {ident} FROM {kind} WHERE {where}"{key}" = ?', [value])
    assert sorted(r[ident] for r in idx_rows) == sorted(r[ident] for r in scan)
    assert scan  # the example is not vacuous


def test_built_once_per_batch_and_rebuilt_when_missing(seed_copy: Store, seed_json: dict) -> None:
    idx = LookupIndex(seed_copy)
    shutil.rmtree(idx.root, ignore_errors=True)
    expected = sum(len(keys) for keys, _, _ in LOOKUPS.values())
    assert idx.ensure() == expected
    assert idx.ensure() == 0
    assert all(v == ["000001"] for v in idx.status().values())
    # seed_json was made without lookup files (a report never builds them): the same answers,
    # as of the same moment (the remedy of a bar still in force grows with time)
    as_of = seed_json["as_of"]
    with_files = investigate(seed_copy, SEED_MSISDN, as_of=as_of).to_dict()
    for key in ("verdict", "actions", "blast_radius", "remedy"):
        assert with_files[key] == seed_json[key], key
    shutil.rmtree(idx.root)
    without = investigate(seed_copy, SEED_MSISDN, as_of=as_of).to_dict()
    assert not idx.root.exists()
    for key in ("verdict", "actions", "blast_radius", "remedy"):
        assert without[key] == seed_json[key], key


def test_a_new_batch_gets_its_own_lookup_files(seed_copy: Store, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "provisioning.csv").write_text(
        "event_id,at,msisdn,action,package_id,channel,agent_id,session_id,outlet_id,source_ip,device_id,consent_id,price,promo_ends\n"
        "EV0009999,2016-07-18T21:40:00+07:00,6281100000099,activate,DATA12GB,outlet,16009045,SE000100,SRG,10.20.30.17,SRG-PC-07,,0,2016-12-31\n"
    )
    LookupIndex(seed_copy).ensure()  # lookup files of the first batch
    seed_copy.ingest([extra])
    r = investigate(seed_copy, SEED_MSISDN, alerts=[])  # batch 2 read from the store's files
    assert "6281100000099" in r.blast_radius.by_session
    assert LookupIndex(seed_copy).status()["provisioning.session_id"] == ["000001"]
    LookupIndex(seed_copy).ensure()
    assert LookupIndex(seed_copy).status()["provisioning.session_id"] == ["000001", "000002"]
    again = investigate(seed_copy, SEED_MSISDN, alerts=[])
    assert again.blast_radius.by_session == r.blast_radius.by_session
