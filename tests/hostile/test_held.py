"""The classes of bad input the probe found handled well, kept that way: one row per class.

Each builds its input from the seed export: a row of a seed file is damaged in one way, and
the row is quarantined with its file, line and reason (the rest of the file loads), or the file
is refused whole with a reason, or the input is sound after all and loads.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from jejak import Home
from jejak.errors import StoreLockedError, UnknownKindError
from jejak.store import Store
from tests.hostile.conftest import SEED_MSISDN, assert_accounted, lines, write_lines


def cell(kind: str, column: str, value: str, row: int = 1) -> Callable[[Path], Path]:
    """Set one cell of row ``row`` (1 = the first after the header) of ``kind``.csv."""

    def damage(export: Path) -> Path:
        path = export / f"{kind}.csv"
        rows = lines(path)
        head = rows[0].split(",")
        cells = rows[row].split(",")
        cells[head.index(column)] = value
        rows[row] = ",".join(cells)
        return write_lines(path, rows)

    return damage


def edit(kind: str, fn: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    def damage(export: Path) -> Path:
        path = export / f"{kind}.csv"
        return write_lines(path, fn(lines(path)))

    return damage


def raw(kind: str, fn: Callable[[bytes], bytes], name: str | None = None) -> Callable[[Path], Path]:
    def damage(export: Path) -> Path:
        path = export / f"{kind}.csv"
        data = fn(path.read_bytes())
        path.unlink()
        out = export / (name or f"{kind}.csv")
        out.write_bytes(data)
        return out

    return damage


def to_jsonl(kind: str, fn: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    def damage(export: Path) -> Path:
        rows = lines(export / f"{kind}.csv")
        head = rows[0].split(",")
        out = [json.dumps(dict(zip(head, r.split(","), strict=True))) for r in rows[1:]]
        (export / f"{kind}.csv").unlink()
        path = export / f"{kind}.jsonl"
        path.write_text("\n".join(fn(out)) + "\n")
        return path

    return damage


def to_parquet(kind: str, cut: int | None = None) -> Callable[[Path], Path]:
    def damage(export: Path) -> Path:
        table = pacsv.read_csv(export / f"{kind}.csv")
        (export / f"{kind}.csv").unlink()
        path = export / f"{kind}.parquet"
        pq.write_table(table, path)
        if cut:
            path.write_bytes(path.read_bytes()[:cut])
        return path

    return damage


QUARANTINED = [
    ("missing identifier", cell("provisioning", "event_id", ""), 2, "missing identifier"),
    ("unknown enum value", cell("provisioning", "action", "explode"), 2, "unknown value"),
    (
        "timestamp without offset",
        cell("provisioning", "at", "2016-07-01T15:23:30"),
        2,
        "without UTC offset",
    ),
    ("not a timestamp", cell("provisioning", "at", "yesterday"), 2, "ISO 8601"),
    ("malformed IP address", cell("provisioning", "source_ip", "10.20.30.017"), 2, "IP address"),
    ("non-integer money", cell("provisioning", "price", "12.5"), 2, "whole rupiah"),
    ("bad date", cell("provisioning", "promo_ends", "2016-13-40"), 2, "YYYY-MM-DD"),
    ("bad time of day", cell("outlets", "opens", "25:00"), 2, "HH:MM"),
    ("unknown time zone", cell("outlets", "timezone", "Asia/Atlantis"), 2, "time zone"),
    ("CIDR with host bits", cell("outlets", "networks", "10.20.30.1/24"), 2, "host bits"),
    ("bad opening days", cell("outlets", "open_days", "Mon-Funday"), 2, "opening days"),
    ("not true or false", cell("packages", "auto_renew", "perhaps"), 2, "true or false"),
    (
        "more cells than the header",
        edit("agents", lambda r: [*r[:3], r[3] + ",x", *r[4:]]),
        4,
        "more cells",
    ),
    (
        "too few cells",
        edit("agents", lambda r: [*r[:3], r[3].rsplit(",", 2)[0], *r[4:]]),
        4,
        "too few cells",
    ),
    ("a stray quote", cell("agents", "person", 'Sri "Wahyuni'), 2, "quote"),
    (
        "JSON line that is no object",
        to_jsonl("packages", lambda r: [r[0], "[1, 2]", *r[1:]]),
        2,
        "JSON object",
    ),
    (
        "broken JSON line",
        to_jsonl("packages", lambda r: [r[0], '{"package_id": ', *r[1:]]),
        2,
        "JSON object",
    ),
]


@pytest.mark.parametrize(
    ("damage", "line", "reason"),
    [pytest.param(d, ln, r, id=n) for n, d, ln, r in QUARANTINED],
)
def test_a_bad_row_is_quarantined_with_its_file_line_and_reason(
    export: Path, fresh_store: Store, damage: Callable[[Path], Path], line: int, reason: str
) -> None:
    path = damage(export)
    result = fresh_store.ingest([path])
    assert_accounted(result)
    assert result.exit_code == 1 and result.quarantined == 1 and result.loaded >= 1
    [q] = fresh_store.quarantine()
    assert (Path(q["file"]), q["line"]) == (path, line)
    assert reason in q["reason"] and q["record"]


REFUSED = [
    ("empty file", raw("agents", lambda b: b""), "empty file"),
    (
        "missing column",
        edit("agents", lambda r: [r[0].replace("person", "persona"), *r[1:]]),
        "missing column",
    ),
    (
        "duplicate column",
        edit("agents", lambda r: [r[0] + ",role", *(x + ",cs" for x in r[1:])]),
        "duplicate column",
    ),
    ("not UTF-8", raw("agents", lambda b: b.replace(b"Sri", b"Sr\xed")), "not UTF-8"),
    ("truncated gzip", raw("agents", lambda b: gzip.compress(b)[:40], "agents.csv.gz"), ""),
    ("truncated Parquet", to_parquet("agents", cut=200), ""),
]


@pytest.mark.parametrize(("damage", "why"), [pytest.param(d, w, id=n) for n, d, w in REFUSED])
def test_a_file_that_cannot_be_read_is_refused_whole_with_a_reason(
    export: Path, fresh_store: Store, damage: Callable[[Path], Path], why: str
) -> None:
    path = damage(export)
    result = fresh_store.ingest([path, export / "outlets.csv"])
    [refused] = result.unreadable
    assert refused.path == str(path) and why in (refused.error or "") and refused.error
    assert result.exit_code == 1 and result.loaded == 6  # the other file loads
    assert not fresh_store.files("agents")


SOUND = [
    ("a byte-order mark", raw("agents", lambda b: b"\xef\xbb\xbf" + b)),
    ("blank lines", edit("agents", lambda r: [r[0], "", *r[1:3], "   ", *r[3:]])),
    ("LF line ends", raw("agents", lambda b: b.replace(b"\r\n", b"\n"))),
    ("gzip", raw("agents", gzip.compress, "agents.csv.gz")),
    ("JSON Lines", to_jsonl("agents", lambda r: r)),
    ("Parquet", to_parquet("agents")),
    ("a quoted comma", cell("agents", "person", '"Wahyuni, Sri"')),
    ("a quoted quote", cell("agents", "person", '"Sri ""Yuni"" Wahyuni"')),
    ("hostile text in a free-text cell", cell("agents", "person", "<script>alert(1)</script>")),
]


@pytest.mark.parametrize("damage", [pytest.param(d, id=n) for n, d in SOUND])
def test_sound_input_in_any_dress_loads_every_row(
    export: Path, fresh_store: Store, damage: Callable[[Path], Path]
) -> None:
    path = damage(export)
    result = fresh_store.ingest([path])
    assert_accounted(result)
    assert (result.exit_code, result.loaded, result.quarantined) == (0, 6, 0), result.files


def test_the_same_row_twice_is_a_duplicate_and_changed_a_conflict(
    export: Path, fresh_store: Store
) -> None:
    rows = lines(export / "agents.csv")
    changed = rows[1].replace("Sri Wahyuni", "Sri W.")
    path = write_lines(export / "agents.csv", [*rows, rows[1], changed])
    result = fresh_store.ingest([path])
    assert_accounted(result)
    assert (result.loaded, result.duplicate, result.conflicting) == (6, 1, 1)
    [c] = fresh_store.conflicts()
    assert c["line"] == 9 and "line 2" in c["reason"]


def test_the_same_export_twice_changes_nothing(seed_store: Store, seed_dir: Path) -> None:
    before = seed_store.status(integrity=False).rows
    result = seed_store.ingest([seed_dir])
    assert_accounted(result)
    assert result.batch is None and result.duplicate == result.read == before


def test_a_file_named_for_no_kind_is_refused_and_a_readme_is_ignored(
    export: Path, fresh_store: Store
) -> None:
    shutil.copy(export / "agents.csv", export / "invoices.csv")
    with pytest.raises(UnknownKindError):
        fresh_store.ingest([export / "invoices.csv"])
    (export / "README.md").write_text("notes")
    result = fresh_store.ingest([export])
    assert {Path(p).name for p, _ in result.ignored} >= {"README.md", "invoices.csv"}


def test_the_write_lock_holds_against_a_second_writer(export: Path, fresh_store: Store) -> None:
    with fresh_store.writer(), pytest.raises(StoreLockedError):
        Home(fresh_store.home).store.ingest([export / "agents.csv"])
    assert Home(fresh_store.home).store.ingest([export / "agents.csv"]).loaded == 6


def test_the_log_holds_no_personal_data(seed_store: Store) -> None:
    for f in (seed_store.home / "ledger").rglob("*"):
        if f.is_file():
            assert SEED_MSISDN.encode() not in f.read_bytes(), f


def test_the_html_report_escapes_hostile_text(export: Path, fresh_store: Store) -> None:
    from jejak.investigate import investigate
    from jejak.investigate.render_html import render_html

    rows = lines(export / "provisioning.csv")
    i = next(i for i, r in enumerate(rows) if SEED_MSISDN in r)
    rows[i] = rows[i].replace("SRG-PC-07", "<script>alert(1)</script>", 1)
    write_lines(export / "provisioning.csv", rows)
    fresh_store.ingest([export])
    page = render_html(investigate(fresh_store, SEED_MSISDN), "en")
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
