"""Erasure is a signed entry, not a file; every line file is its log (a line the log does not hold
is a finding). Each miss is applied to a real home and the default `jejak ledger verify` fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from jejak.audit.erasure import ErasureEntry, erased_in_log
from jejak.audit.records import locate
from jejak.cli import app
from jejak.home import Home
from jejak.ledger.log import Log
from jejak.store import Store

MSISDN = "6281100000001"
WHO = ["--by", "dpo@example.test", "--basis", "UU PDP art. 8"]
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _verify(runner: CliRunner, home: Path) -> tuple[int, str]:
    r = runner.invoke(app, ["ledger", "verify", "--home", str(home)])
    return r.exit_code, r.output


def _suppress(runner: CliRunner, home: Path, *match: str) -> None:
    args = ["suppress", "--rule", "JJK-002", *match, "--owner", "fraud-team"]
    args += ["--reason", "roster on paper", "--expires", "2999-12-31", "--home", str(home)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output


def test_trim_through_an_unsigned_erasures_json_fails_default_verify(
    seed_store: Store, runner: CliRunner
) -> None:
    home = seed_store.home
    leaf = Home(home).leaf_of("charges", "CH000004")
    assert leaf is not None
    path = home / "store" / locate(Log(home), leaf)["file"]  # type: ignore[index]
    tmp = path.with_name("trimmed.parquet")
    src = f"read_parquet('{path}', file_row_number=true)"
    duckdb.sql(
        f"COPY (SELECT * EXCLUDE (file_row_number) FROM {src} WHERE charge_id <> 'CH000004' "
        f"ORDER BY file_row_number) TO '{tmp}' (FORMAT parquet)"
    )
    os.replace(tmp, path)
    (home / "ledger" / "erasures.json").write_text(
        json.dumps({"format": 1, "erasures": [{"at": "2026-12-01T00:00:00Z", "leaves": [leaf]}]})
    )
    code, out = _verify(runner, home)
    assert code == 1, out
    assert f"deleted: {path}" in out and f"(leaf {leaf})" in out
    assert "listed only in the unsigned ledger/erasures.json, which proves nothing" in out
    # an old home keeps verifying once someone, named, signs the erasure
    args = ["ledger", "erase", "--migrate", *WHO, "--yes", "--home", str(home)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "1 leaf(s) of ledger/erasures.json" in r.output, r.output
    code, out = _verify(runner, home)
    assert code == 0 and ", 1 erased," in out, out
    (entry,) = erased_in_log(Log(home)).entries
    assert entry.leaves == [leaf] and entry.by == "dpo@example.test"
    assert entry.index == 633 and not (home / "ledger" / "erasures.json").exists()


def test_a_backdated_suppression_line_fails_default_verify(
    seed_store: Store, runner: CliRunner
) -> None:
    home = seed_store.home
    _suppress(runner, home, "--agent-id", "16009051")
    assert _verify(runner, home)[0] == 0
    path = home / "alerts" / "suppressions.jsonl"
    line = json.loads(path.read_text().splitlines()[0])
    line.update(id="SUP-backdated01", created="2016-07-01T00:00:00+00:00", reason="always ok")
    with open(path, "a") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")
    code, out = _verify(runner, home)
    assert code == 1, out
    assert "unlogged: " in out and "line 2 is not in the log: written outside jejak" in out
    # no later writer commits it: a new suppression goes to the log, the stray line stays named
    _suppress(runner, home, "--outlet-id", "OUT001")
    code, out = _verify(runner, home)
    assert code == 1 and "line 2 is not in the log" in out, out
    assert out.count("FAIL ") == 1
    assert len(path.read_text().splitlines()) == 3


def test_a_suppression_is_in_the_log_before_the_file(
    seed_store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    """Killed between the log and the file: the line is finished by the next writer."""
    home = seed_store.home
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from jejak.home import Home;"
        "from jejak.detect.suppress import suppress;"
        "suppress(Home(sys.argv[2]).store, rule='JJK-002', match={'agent_id': '16009051'},"
        "owner='fraud-team', reason='roster on paper', expires='2999-12-31')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, SRC, str(home)],
        env={**os.environ, "JEJAK_CRASH_AT": "lines-after-log"},
        capture_output=True,
    )
    assert proc.returncode == -9, proc.stderr
    path = home / "alerts" / "suppressions.jsonl"
    assert not path.exists() and Log(home).size == 634  # in the log, not yet in the file
    assert _verify(runner, home)[0] == 0  # a crashed commit is not tampering
    with Home(home).writer():  # the next writer finishes it
        pass
    assert len(path.read_text().splitlines()) == 1
    assert not (home / "alerts" / "suppressions.jsonl.pending").exists()
    assert Log(home).size == 634
    assert _verify(runner, home)[0] == 0


def test_erasure_is_a_signed_entry_and_scrubs_the_number_from_suppressions(
    seed_store: Store, runner: CliRunner
) -> None:
    home = seed_store.home
    _suppress(runner, home, "--msisdn", MSISDN)
    path = home / "alerts" / "suppressions.jsonl"
    assert MSISDN in path.read_text()
    args = ["ledger", "erase", "--msisdn", MSISDN, *WHO, "--yes", "--home", str(home)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "1 line(s) rewritten without the number" in r.output, r.output
    assert MSISDN not in path.read_text() and '"msisdn": "[erased]"' in path.read_text()
    code, out = _verify(runner, home)
    assert code == 0, out
    log = Log(home)
    found = erased_in_log(log)
    (entry,) = found.entries
    assert entry.by == "dpo@example.test" and entry.basis == "UU PDP art. 8"
    assert entry.index == 634 and list(entry.lines) == [633]
    assert len(entry.leaves) > 0 and max(entry.leaves) < 633
    raw = log.entry(634)
    assert raw.startswith(b"erasure {") and MSISDN.encode() not in raw
    # an erasure entry is honoured only where the log really holds one
    journal = home / "ledger" / "appends.jsonl"
    appends = [json.loads(x) for x in journal.read_text().splitlines()]
    victim = next(a for a in appends if a.get("source") == "erasure")
    victim["first"] = 633  # point the index at the suppression's leaf instead
    journal.write_text("".join(json.dumps(a) + "\n" for a in appends))
    code, out = _verify(runner, home)
    assert code == 1 and "erasure: " in out and "not an erasure entry" in out, out


def test_an_erasure_entry_round_trips_and_splits_when_long() -> None:
    e = ErasureEntry("2026-12-03T07:00:00Z", "dpo", "UU PDP art. 8", list(range(0, 200_000, 2)))
    entries = e.entries()
    assert len(entries) > 1 and all(len(x) <= 65_535 for x in entries)
    back = sorted(i for x in entries for i in ErasureEntry.parse(x).leaves)
    assert back == list(range(0, 200_000, 2))
    assert ErasureEntry.parse(ErasureEntry("t", "a", "b", [1, 2, 3, 7]).entries()[0]).leaves == [
        1,
        2,
        3,
        7,
    ]
