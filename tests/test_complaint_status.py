"""Export format 1.1: a complaint's status, closing time and resolution (all optional)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jejak.schema import KINDS
from jejak.store import Store
from jejak.validate import canonical_sql

V10 = "complaint_id,msisdn,opened_at,channel,category,summary,disputed_charge_ids,disputed_amount\n"
V11 = V10.rstrip("\n") + ",status,closed_at,resolution\n"
ROW = (
    "TCK-1,6281100000001,2017-02-06T10:12:00+07:00,call_center,billing,tagihan salah,CH1;CH2,500000"
)


def _complaints(store: Store) -> dict[str, dict[str, object]]:
    return {r["complaint_id"]: r for r in store.sql("SELECT * FROM complaints")}


def test_a_version_1_0_file_without_the_new_columns_loads_as_open(
    fresh_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text(V10 + ROW + "\n")
    result = fresh_store.ingest([path])
    assert (result.exit_code, result.loaded, result.quarantined) == (0, 1, 0), result.to_dict()
    row = _complaints(fresh_store)["TCK-1"]
    assert (row["status"], row["closed_at"], row["resolution"]) == (None, None, None)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_closed_complaints_keep_status_closing_time_and_resolution(
    fmt: str, fresh_store: Store, tmp_path: Path
) -> None:
    rows = [
        {"status": "closed", "closed_at": "2017-03-01T10:00:00+07:00", "resolution": "rejected"},
        {"status": "open", "closed_at": "", "resolution": ""},
    ]
    names = V11.strip().split(",")
    records = []
    for i, extra in enumerate(rows):
        values = dict(zip(names, [*ROW.split(","), "", "", ""], strict=True))
        values.update(extra, complaint_id=f"TCK-{i}")
        records.append(values)
    if fmt == "csv":
        path = tmp_path / "complaints.csv"
        path.write_text(V11 + "".join(",".join(r.values()) + "\n" for r in records))
    elif fmt == "jsonl":
        path = tmp_path / "complaints.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path = tmp_path / "complaints.parquet"
        pq.write_table(pa.Table.from_pylist(records), path)
    result = fresh_store.ingest([path])
    assert (result.loaded, result.quarantined) == (2, 0), result.to_dict()
    got = _complaints(fresh_store)
    assert got["TCK-0"]["status"] == "closed" and got["TCK-0"]["resolution"] == "rejected"
    assert got["TCK-0"]["closed_at"] is not None
    assert got["TCK-1"]["status"] == "open" and got["TCK-1"]["closed_at"] is None


def test_a_closed_complaint_without_closing_time_is_quarantined(
    fresh_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text(V11 + ROW + ",closed,,upheld\n" + ROW.replace("TCK-1", "TCK-2") + ",,,\n")
    result = fresh_store.ingest([path])
    assert (result.exit_code, result.loaded, result.quarantined) == (1, 1, 1)
    [q] = fresh_store.quarantine()
    assert q["line"] == 2 and "closed_at: required when status is closed" in q["reason"]


def test_an_unknown_resolution_is_quarantined(fresh_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text(V11 + ROW + ",closed,2017-03-01T10:00:00+07:00,refunded\n")
    result = fresh_store.ingest([path])
    assert result.quarantined == 1
    assert "resolution: unknown value" in fresh_store.quarantine()[0]["reason"]


def test_a_complaint_without_the_new_fields_keeps_its_version_1_0_canonical_text(
    fresh_store: Store, tmp_path: Path
) -> None:
    """Content hashes and ledger commitments are taken over the canonical text: a complaint
    that leaves the 1.1 fields empty must keep the text (so the commitment) it had in 1.0."""
    path = tmp_path / "complaints.csv"
    path.write_text(V11 + ROW + ",,,\n" + ROW.replace("TCK-1", "TCK-2") + ",open,,\n")
    fresh_store.ingest([path])
    con = fresh_store.connect()
    texts = dict(
        con.execute(
            f"SELECT complaint_id, {canonical_sql(KINDS['complaints'])} FROM complaints"
        ).fetchall()
    )
    fields = texts["TCK-1"].split("\x1f")
    assert fields[0] == "complaints" and len(fields) == 1 + 8  # the eight fields of 1.0
    assert fields[1:3] == ["TCK-1", "6281100000001"] and fields[-1] == "500000"
    assert texts["TCK-2"].split("\x1f")[9:] == ["open", "\x00", "\x00"]
