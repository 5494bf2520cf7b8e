"""Ingest of the operator export: every kind, every format, every class of bad input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from jejak.errors import StoreLockedError, UnknownKindError, UsageError
from jejak.schema import KINDS
from jejak.store import Store
from jejak.validate import canonical_sql

from .conftest import FIXTURES

SEED_ROWS = {
    "agents": 6,
    "charges": 10,
    "complaints": 1,
    "consents": 169,
    "line_actions": 1,
    "locations": 7,
    "notifications": 11,
    "outlets": 6,
    "packages": 3,
    "provisioning": 175,
    "sessions": 100,
    "shifts": 99,
    "subscribers": 45,
}


def contents(store: Store) -> dict[str, set[str]]:
    """Every stored record's canonical text, per kind: equal sets mean equal stores."""
    con = store.connect()
    try:
        return {
            name: {
                r[0] for r in con.execute(f"SELECT {canonical_sql(kind)} FROM {name}").fetchall()
            }
            for name, kind in KINDS.items()
        }
    finally:
        con.close()


def test_seed_loads_every_row_and_nothing_is_quarantined(
    seed_dir: Path, fresh_store: Store
) -> None:
    result = fresh_store.ingest([seed_dir])
    assert result.exit_code == 0
    assert result.quarantined == 0 and not result.unreadable
    assert {k: c.loaded for k, c in result.kinds.items()} == SEED_ROWS
    assert result.dangling == []
    assert [Path(p).name for p, _ in result.ignored] == ["README.md"]
    status = fresh_store.status()
    assert {k: v.rows for k, v in status.kinds.items()} == SEED_ROWS
    assert status.quarantined == 0 and status.conflicts == 0 and status.dangling == []


def test_values_are_typed_as_the_spec_says(seed_store: Store) -> None:
    row = seed_store.record("provisioning", "EV0000170")
    assert (
        row["at"].isoformat() == "2016-07-18T14:14:40+00:00"
    )  # 21:14:40+07:00, kept as an instant
    assert row["price"] == 0 and row["promo_ends"].isoformat() == "2016-12-31"
    assert row["consent_id"] is None  # an empty cell is "none"
    assert seed_store.record("outlets", "SRG")["networks"] == ["10.20.30.0/24"]
    assert seed_store.record("packages", "DATA12GB")["auto_renew"] is True
    assert seed_store.record("complaints", "TCK-2017-0206-0001")["disputed_charge_ids"] == [
        "CH000009",
        "CH000010",
    ]
    assert (row["_src"].endswith("provisioning.csv"), row["_line"]) == (True, 171)


# ------------------------------------------------------------------ formats


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory, _seed_home: Path) -> dict[str, Path]:
    """The seed case written in every format the spec allows, from the ingested (typed) seed."""
    base = tmp_path_factory.mktemp("formats")
    store = Store(_seed_home)
    con = store.connect()
    out: dict[str, Path] = {}
    for fmt in ("csv.gz", "jsonl", "jsonl.gz", "parquet-typed", "parquet-text", "parts"):
        folder = base / fmt
        folder.mkdir()
        out[fmt] = folder
        for name, kind in KINDS.items():
            cols = ", ".join(f'"{n}"' for n in kind.names)
            text_cols = ", ".join(
                f'array_to_string("{f.name}", \';\') AS "{f.name}"'
                if f.type in ("list", "cidrs")
                else f'strftime("{f.name}", \'%Y-%m-%dT%H:%M:%S+00:00\') AS "{f.name}"'
                if f.type == "timestamp"
                else f'CAST("{f.name}" AS VARCHAR) AS "{f.name}"'
                for f in kind.fields
            )
            if fmt == "csv.gz":
                con.execute(
                    f"COPY (SELECT {text_cols} FROM {name}) TO '{folder}/{name}.csv' (FORMAT csv, HEADER)"
                )
                with (
                    open(folder / f"{name}.csv", "rb") as src,
                    gzip.open(folder / f"{name}.csv.gz", "wb") as dst,
                ):
                    shutil.copyfileobj(src, dst)
                (folder / f"{name}.csv").unlink()
            elif fmt.startswith("jsonl"):
                path = folder / f"{name}-2016.jsonl"
                con.execute(f"COPY (SELECT {cols} FROM {name}) TO '{path}' (FORMAT json)")
                if fmt == "jsonl.gz":
                    with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    path.unlink()
            elif fmt == "parquet-typed":
                con.execute(
                    f"COPY (SELECT {cols} FROM {name}) TO '{folder}/{name}.parquet' (FORMAT parquet)"
                )
            elif fmt == "parquet-text":
                con.execute(
                    f"COPY (SELECT {text_cols} FROM {name}) TO '{folder}/{name}.parquet' (FORMAT parquet)"
                )
            else:  # a folder named after the kind, holding parts
                (folder / name).mkdir()
                con.execute(
                    f"COPY (SELECT {cols}, row_number() OVER () % 3 AS part FROM {name}) TO '{folder}/{name}' "
                    f"(FORMAT parquet, PARTITION_BY (part))"
                )
                for i, part in enumerate(sorted((folder / name).rglob("*.parquet"))):
                    part.rename(folder / name / f"part-{i:04d}.parquet")
                for d in [d for d in (folder / name).iterdir() if d.is_dir()]:
                    shutil.rmtree(d)
    con.close()
    return out


@pytest.mark.parametrize(
    "fmt", ["csv.gz", "jsonl", "jsonl.gz", "parquet-typed", "parquet-text", "parts"]
)
def test_every_format_loads_every_kind_the_same(
    fmt: str, exports: dict[str, Path], seed_store: Store, tmp_path: Path
) -> None:
    store = Store(tmp_path / fmt)
    result = store.ingest([exports[fmt]])
    assert result.exit_code == 0, result.to_dict()
    assert {k: c.loaded for k, c in result.kinds.items()} == SEED_ROWS
    assert contents(store) == contents(seed_store)


def test_a_single_file_can_be_named(seed_dir: Path, fresh_store: Store) -> None:
    result = fresh_store.ingest([seed_dir / "provisioning.csv", seed_dir / "agents.csv"])
    assert {k: c.loaded for k, c in result.kinds.items()} == {"provisioning": 175, "agents": 6}
    # sessions, consents, outlets and packages are not loaded yet: references to them dangle
    dangling = {(d.field, d.target): d.count for d in result.dangling}
    assert dangling[("session_id", "sessions")] == 173  # all but the app and system events
    assert dangling[("consent_id", "consents")] == 169


# --------------------------------------------------------------- bad input

BAD_ROWS = [
    ("provisioning-missing_identifier.csv", 3, "event_id: missing identifier"),
    ("provisioning-unknown_enum.csv", 3, "action: unknown value 'activated'"),
    ("provisioning-timestamp_without_offset.csv", 3, "at: timestamp without UTC offset"),
    ("provisioning-malformed_ip.csv", 3, "source_ip: malformed IP address '10.20.300.12'"),
    ("outlets-malformed_cidr.csv", 3, "networks: malformed CIDR network '10.30.2.0/33'"),
    ("provisioning-non_integer_money.csv", 3, "price: not whole rupiah '60000.50'"),
    ("provisioning-bad_date.csv", 3, "promo_ends: not a YYYY-MM-DD date '2016-02-30'"),
    ("provisioning-too_many_cells.csv", 3, "more cells than the header"),
    ("provisioning-not_json.jsonl", 2, "not a JSON object"),
]


@pytest.mark.parametrize(("name", "line", "reason"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_quarantined_with_file_line_and_reason_and_the_rest_loads(
    name: str, line: int, reason: str, fresh_store: Store
) -> None:
    path = FIXTURES / "bad_input" / name
    result = fresh_store.ingest([path])
    assert result.exit_code == 1
    assert result.quarantined == 1
    assert result.loaded == 2
    [q] = fresh_store.quarantine()
    assert (Path(q["file"]).name, q["line"]) == (name, line)
    assert reason in q["reason"]
    assert q["record"]  # the row as read is kept, so nothing is lost


def test_an_unterminated_quote_quarantines_its_own_line_only(fresh_store: Store) -> None:
    result = fresh_store.ingest([FIXTURES / "bad_input" / "provisioning-unterminated_quote.csv"])
    assert (result.exit_code, result.loaded, result.quarantined) == (1, 2, 1)
    [q] = fresh_store.quarantine()
    assert q["line"] == 3 and "quote" in q["reason"]
    assert "EV9000002" in q["record"] and "EV9000003" not in q["record"]
    assert fresh_store.record("provisioning", "EV9000003")["_line"] == 4  # read afresh, loaded


def test_a_file_in_the_wrong_encoding_loads_nothing_and_is_named(
    fresh_store: Store, seed_dir: Path
) -> None:
    result = fresh_store.ingest(
        [FIXTURES / "bad_input" / "provisioning-wrong_encoding.csv", seed_dir / "agents.csv"]
    )
    assert result.exit_code == 1
    [bad] = result.unreadable
    assert bad.path.endswith("provisioning-wrong_encoding.csv") and "UTF-8" in (bad.error or "")
    assert result.kinds["provisioning"].loaded == 0
    assert result.kinds["agents"].loaded == 6  # the other file still loads


def test_a_truncated_parquet_file_loads_nothing(
    exports: dict[str, Path], fresh_store: Store, tmp_path: Path
) -> None:
    whole = (exports["parquet-typed"] / "provisioning.parquet").read_bytes()
    cut = tmp_path / "provisioning.parquet"
    cut.write_bytes(whole[: len(whole) // 2])
    result = fresh_store.ingest([cut])
    assert result.exit_code == 1 and result.loaded == 0
    assert result.unreadable[0].path == str(cut)


def test_a_file_missing_a_column_loads_nothing(fresh_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text(
        "agent_id,person,role,outlet_id,status,valid_from\n17000001,A Person,cs,SRG,active,2015-01-01\n"
    )
    result = fresh_store.ingest([path])
    assert result.exit_code == 1
    assert "missing column(s) valid_to" in (result.unreadable[0].error or "")


def test_a_file_naming_no_kind_is_refused_by_name(fresh_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(
        UnknownKindError, match=r"invoices\.csv: no record kind is named 'invoices'"
    ):
        fresh_store.ingest([path])
    with pytest.raises(UsageError, match="no such file"):
        fresh_store.ingest([tmp_path / "nope.csv"])


# ------------------------------------------------- duplicates and conflicts


def test_reingesting_the_same_files_changes_nothing(seed_dir: Path, seed_store: Store) -> None:
    before = seed_store.manifest_path.read_bytes()
    result = seed_store.ingest([seed_dir])
    assert result.exit_code == 0
    assert result.batch is None and result.loaded == 0
    assert result.duplicate == sum(SEED_ROWS.values())
    assert seed_store.manifest_path.read_bytes() == before


def test_reingesting_bad_rows_does_not_grow_the_quarantine(fresh_store: Store) -> None:
    path = FIXTURES / "bad_input" / "provisioning-malformed_ip.csv"
    fresh_store.ingest([path])
    again = fresh_store.ingest([path])
    assert again.quarantined == 1 and again.exit_code == 1  # still reported
    assert len(fresh_store.quarantine()) == 1  # but kept once


def test_a_known_identifier_with_other_content_is_a_conflict_and_the_stored_record_stands(
    seed_store: Store, tmp_path: Path, seed_dir: Path
) -> None:
    lines = (seed_dir / "provisioning.csv").read_text().splitlines()
    changed = [
        lines[0],
        lines[170].replace(",0,2016-12-31", ",250000,2016-12-31"),
    ]  # EV0000170, repriced
    path = tmp_path / "provisioning-late.csv"
    path.write_text("\n".join(changed) + "\n")
    result = seed_store.ingest([path])
    assert (result.loaded, result.duplicate, result.conflicting) == (0, 0, 1)
    assert result.exit_code == 0  # a conflict is kept for review, not bad input
    assert seed_store.record("provisioning", "EV0000170")["price"] == 0
    [c] = seed_store.conflicts()
    assert c["key"] == "EV0000170" and "differs from the stored record" in c["reason"]
    assert json.loads(c["record"])["price"] == 250000
    seed_store.ingest([path])  # seen again: reported again, kept once
    assert len(seed_store.conflicts()) == 1


def test_two_rows_with_one_identifier_in_one_ingest(fresh_store: Store, tmp_path: Path) -> None:
    head = "package_id,name,price,period_days,data_mb,auto_renew"
    path = tmp_path / "packages.csv"
    path.write_text(
        f"{head}\nP1,One,1000,30,10,true\nP1,One,1000,30,10,true\nP1,One,2000,30,10,true\nP2,Two,5,1,1,false\n"
    )
    result = fresh_store.ingest([path])
    assert (result.loaded, result.duplicate, result.conflicting) == (2, 1, 1)
    assert fresh_store.record("packages", "P1")["price"] == 1000  # the first one stands
    assert "line 2" in fresh_store.conflicts()[0]["reason"]


def test_dangling_references_are_loaded_and_reported(fresh_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "line_actions.csv"
    path.write_text(
        "action_id,msisdn,at,action,reason,amount_due,agent_id\n"
        "LA1,6281299990001,2017-03-10T09:00:00+07:00,bar_all,non_payment,500000,GHOST-01\n"
    )
    result = fresh_store.ingest([path])
    assert result.loaded == 1 and result.exit_code == 0
    [d] = result.dangling
    assert (d.kind, d.field, d.target, d.count, d.examples) == (
        "line_actions",
        "agent_id",
        "agents",
        1,
        ["GHOST-01"],
    )
    assert fresh_store.status().dangling[0].examples == ["GHOST-01"]


# ------------------------------------------------------------ one writer


def test_a_second_writer_is_refused_while_one_writes(seed_dir: Path, fresh_store: Store) -> None:
    with fresh_store.writer(), pytest.raises(StoreLockedError, match="another jejak process"):
        Store(fresh_store.home).ingest([seed_dir])


def test_large_batches_are_written_in_sorted_runs(
    fresh_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jejak import ingest

    monkeypatch.setattr(ingest, "RUN_ROWS", 1000)
    path = tmp_path / "consents.parquet"
    duckdb.sql(
        "COPY (SELECT 'C' || i AS consent_id, CAST(6281200000000 + (i * 7) % 500 AS VARCHAR) AS msisdn, "
        "TIMESTAMPTZ '2016-07-01 00:00:00+00' + to_seconds(i) AS \"at\", 'sms_otp' AS method, true AS verified, "
        f"NULL AS evidence FROM range(4500) t(i)) TO '{path}' (FORMAT parquet)"
    )
    result = fresh_store.ingest([path])
    assert result.loaded == 4500
    files = fresh_store.files("consents")
    assert len(files) == 5
    for f in files:  # each run is sorted by subscriber
        msisdns = [r[0] for r in duckdb.sql(f"SELECT msisdn FROM '{f}'").fetchall()]
        assert msisdns == sorted(msisdns)
    assert len(fresh_store.subscriber("6281200000007")["consents"]) == 9


def test_an_empty_list_is_none_recorded_in_every_format(tmp_path: Path) -> None:
    """An empty CSV cell, an empty JSON array and an empty Parquet list are the same record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = (
        "complaint_id,msisdn,opened_at,channel,category,summary,disputed_charge_ids,disputed_amount"
    )
    row = "TCK-1,6281200000001,2016-07-20T10:00:00+07:00,app,service,slow data,{ids},0"
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "complaints.csv").write_text(
        f"{header}\n{row.format(ids='')}\n{row.format(ids=' ; ').replace('TCK-1', 'TCK-2')}\n"
    )
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    (tmp_path / "jsonl").mkdir()
    (tmp_path / "jsonl" / "complaints.jsonl").write_text(
        json.dumps({**fields, "disputed_charge_ids": [], "disputed_amount": 0}) + "\n"
    )
    (tmp_path / "parquet").mkdir()
    table = pa.table(
        {
            **{
                k: [v]
                for k, v in fields.items()
                if k not in ("disputed_charge_ids", "disputed_amount")
            },
            "disputed_charge_ids": pa.array([[]], pa.list_(pa.string())),
            "disputed_amount": [0],
        }
    )
    pq.write_table(table, tmp_path / "parquet" / "complaints.parquet")
    store = Store(tmp_path / "home")
    first = store.ingest([tmp_path / "csv"])
    assert first.loaded == 2 and first.quarantined == 0
    assert store.record("complaints", "TCK-1")["disputed_charge_ids"] is None
    assert store.record("complaints", "TCK-2")["disputed_charge_ids"] is None
    for fmt in ("jsonl", "parquet"):
        again = store.ingest([tmp_path / fmt])
        assert (again.duplicate, again.conflicting) == (1, 0), fmt
