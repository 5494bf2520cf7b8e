"""Issue 17, points 6-9: nothing escapes the home, data is never markup or control, erasure is
remembered, msisdns and offsets keep to the spec. Each test builds on a copy of the seed export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import Result

from jejak import Home
from jejak.store import Store
from tests.hostile.conftest import SEED_COMPLAINT, SEED_MSISDN, assert_accounted, lines, write_lines


def _set_cell(path: Path, key: str, column: str, value: str) -> None:
    rows = lines(path)
    head = rows[0].split(",")
    for i, r in enumerate(rows):
        if r.startswith(key + ","):
            cells = r.split(",")
            cells[head.index(column)] = value
            rows[i] = ",".join(cells)
            break
    else:
        raise AssertionError(f"no row {key}")
    write_lines(path, rows)


def test_6_a_complaint_id_that_is_a_path_stays_inside_the_home(
    export: Path, tmp_path: Path, jejak: Callable[..., Result]
) -> None:
    hostile = "x/../../../../PWNED"
    _set_cell(export / "complaints.csv", SEED_COMPLAINT, "complaint_id", hostile)
    home = tmp_path / "deep" / "home"
    assert jejak("ingest", export, "--home", home).exit_code in (0, 1)
    done = jejak("investigate", "--complaint", hostile, "--format", "html", "--home", home)
    assert done.exit_code == 0, done.output
    written = Path(done.stdout.strip())
    assert written.parent == home / "reports" and written.exists()
    assert not list(tmp_path.rglob("*PWNED*.html")) or all(
        p.parent == home / "reports" for p in tmp_path.rglob("*PWNED*.html")
    )


@pytest.mark.parametrize("msisdn", ["../../../../tmp/x", "a/b", "..", "/etc/passwd"])
def test_6_a_number_that_is_a_path_names_no_file_outside_the_reports(msisdn: str) -> None:
    from types import SimpleNamespace

    from jejak.investigate.render_html import report_path

    home = Path("/srv/home")
    path = report_path(home, SimpleNamespace(msisdn=msisdn, complaint_id=".."), "en")  # type: ignore[arg-type]
    assert path.parent == home / "reports" and "/" not in path.name


HOSTILE = {
    "clear screen": "\x1b[2J\x1b[H",
    "window title": "\x1b]0;owned\x07",
    "hyperlink markup": "[link=https://evil.example]click[/link]",
    "closing tag": "[/]",
    "closing bold": "[/bold]",
    "bidi override": "SRG\u202egnp.exe",
}


def test_7_data_in_tables_and_reports_is_text_never_markup_or_control(
    export: Path, tmp_path: Path, jejak: Callable[..., Result]
) -> None:
    rows = lines(export / "provisioning.csv")
    mine = [r.split(",")[0] for r in rows if SEED_MSISDN in r]
    prov = export / "provisioning.csv"
    _set_cell(prov, mine[0], "outlet_id", HOSTILE["closing tag"])  # dangling: an example shown
    _set_cell(prov, mine[2], "outlet_id", HOSTILE["closing bold"])
    _set_cell(prov, mine[0], "device_id", HOSTILE["bidi override"])
    _set_cell(prov, mine[1], "device_id", HOSTILE["clear screen"])
    _set_cell(export / "complaints.csv", SEED_COMPLAINT, "category", HOSTILE["hyperlink markup"])
    _set_cell(export / "complaints.csv", SEED_COMPLAINT, "summary", HOSTILE["window title"])
    home = tmp_path / "home"
    for args in (
        ("ingest", export),
        ("status",),
        ("quarantine",),
        ("detect",),
        ("investigate", "--msisdn", SEED_MSISDN),
    ):
        done = jejak(*args, "--home", home)
        shown = done.output
        assert done.exit_code in (0, 1), f"{args[0]}: {shown}"
        assert "internal error" not in shown and "Traceback" not in shown, shown
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown, args[0]
    assert "[/]" in jejak("status", "--home", home).output  # shown as it is, not obeyed


def test_7_the_text_report_writes_control_characters_out(export: Path, tmp_path: Path) -> None:
    from jejak.investigate import investigate
    from jejak.investigate.render_text import render_text

    rows = lines(export / "provisioning.csv")
    key = next(r.split(",")[0] for r in rows if SEED_MSISDN in r)
    _set_cell(export / "provisioning.csv", key, "device_id", "PC\x1b[2J-07")
    store = Home(tmp_path / "home").store
    store.ingest([export])
    text = render_text(investigate(store, SEED_MSISDN))
    assert "\x1b" not in text and "PC\\x1b[2J-07" in text


def _erase_setup(export: Path, home: Path) -> Store:
    """The seed, plus a quarantined and a conflicting row that name the seed subscriber."""
    store = Home(home).store
    store.ingest([export])
    rows = lines(export / "locations.csv")
    bad = [rows[0], *(r.replace("+07:00", "") for r in rows[1:] if r.startswith(SEED_MSISDN))]
    prov = lines(export / "provisioning.csv")
    mine = next(r for r in prov if SEED_MSISDN in r).replace("activate", "deactivate", 1)
    folder = home.parent / "again"
    folder.mkdir()
    write_lines(folder / "locations.csv", bad)
    write_lines(folder / "provisioning.csv", [prov[0], mine])
    result = store.ingest([folder])
    assert result.quarantined >= 1 and result.conflicting == 1
    return store


def _texts(con: duckdb.DuckDBPyConnection, files: list[Path]) -> str:
    return "".join(
        str(row)
        for f in files
        for row in con.execute(f"SELECT * FROM read_parquet('{f}')").fetchall()
    )


def test_8_erasure_leaves_the_number_nowhere_and_is_remembered(
    export: Path, tmp_path: Path, jejak: Callable[..., Result]
) -> None:
    home = tmp_path / "home"
    store = _erase_setup(export, home)
    page = jejak("investigate", "--msisdn", SEED_MSISDN, "--format", "html", "--home", home)
    assert page.exit_code == 0 and Path(page.stdout.strip()).exists()
    done = jejak(
        "ledger",
        "erase",
        "--msisdn",
        SEED_MSISDN,
        "--by",
        "Dewi (DPO)",
        "--basis",
        "UU PDP art. 8",
        "--yes",
        "--home",
        home,
    )
    assert done.exit_code == 0, done.output

    store = Home(home).store
    con = duckdb.connect()
    kept = _texts(con, store.files("quarantine") + store.files("conflicts"))
    assert SEED_MSISDN not in kept and "[erased]" in kept
    assert not list((home / "reports").glob("*"))
    assert SEED_MSISDN.encode() not in (home / "store" / "erased.json").read_bytes()
    assert store.quarantine() and store.conflicts()  # the rows stay, with file, line and reason

    again = store.ingest([export])  # the same export: the subscriber's records are refused
    assert_accounted(again)
    assert again.loaded == 0 and again.quarantined > 30
    refused = [q for q in store.quarantine() if "erased" in q["reason"]]
    assert len(refused) == again.quarantined and all(q["record"] is None for q in refused)
    assert all(not v for v in store.subscriber(SEED_MSISDN).values())
    assert SEED_MSISDN not in _texts(con, store.files("quarantine"))
    assert jejak("ledger", "verify", "--home", home).exit_code == 0


@pytest.mark.parametrize(
    ("msisdn", "loads"),
    [
        ("6281100000099", True),
        ("62811abc0099", False),
        ("+6281100000099", False),
        ("62811 0000099", False),
        ("62811/000/99", False),
        ("0081100000099", False),
        ("6281100000099123456", False),
    ],
)
def test_9_msisdn_must_be_e164_digits(
    export: Path, fresh_store: Store, msisdn: str, loads: bool
) -> None:
    rows = lines(export / "subscribers.csv")
    path = write_lines(
        export / "subscribers.csv", [rows[0], msisdn + rows[1][len(rows[1].split(",")[0]) :]]
    )
    result = fresh_store.ingest([path])
    assert_accounted(result)
    assert (result.loaded, result.quarantined) == ((1, 0) if loads else (0, 1))
    if not loads:
        assert "E.164" in fresh_store.quarantine()[0]["reason"]


@pytest.mark.parametrize(
    ("offset", "loads"),
    [
        ("+07:00", True),
        ("+14:00", True),
        ("-14:00", True),
        ("-1200", True),
        ("Z", True),
        ("+25:00", False),
        ("+14:30", False),
        ("-15:00", False),
        ("+07:60", False),
    ],
)
def test_9_utc_offsets_beyond_14_hours_are_refused(
    export: Path, fresh_store: Store, offset: str, loads: bool
) -> None:
    rows = lines(export / "complaints.csv")
    path = write_lines(export / "complaints.csv", [rows[0], rows[1].replace("+07:00", offset, 1)])
    result = fresh_store.ingest([path])
    assert_accounted(result)
    assert (result.loaded, result.quarantined) == ((1, 0) if loads else (0, 1)), offset
