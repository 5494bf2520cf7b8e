"""The jejak command, through its CLI runner: what the user sees, and the exit status."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jejak.cli import app

from .conftest import FIXTURES


def test_ingest_then_status_show_the_seed(
    runner: CliRunner, seed_dir: Path, tmp_path: Path
) -> None:
    home = str(tmp_path / "home")
    result = runner.invoke(app, ["ingest", str(seed_dir), "--home", home])
    assert result.exit_code == 0, result.output
    assert "633 record(s) loaded" in result.output
    assert "provisioning" in result.output and "175" in result.output
    result = runner.invoke(app, ["status", "--home", home])
    assert result.exit_code == 0, result.output
    assert "633 records in 1 batch(es)" in result.output
    assert "quarantined rows: 0" in result.output
    assert "every reference resolves" in result.output
    result = runner.invoke(app, ["status", "--home", home, "--json"])
    data = json.loads(result.output)
    assert data["kinds"]["provisioning"]["rows"] == 175
    assert data["kinds"]["provisioning"]["first"].startswith("2016-07-01")


def test_ingest_is_idempotent_from_the_command_line(
    runner: CliRunner, seed_dir: Path, tmp_path: Path
) -> None:
    home = str(tmp_path / "home")
    runner.invoke(app, ["ingest", str(seed_dir), "--home", home])
    result = runner.invoke(app, ["ingest", str(seed_dir), "--home", home])
    assert result.exit_code == 0, result.output
    assert "nothing new: the store is unchanged" in result.output


def test_quarantine_exits_1_and_says_where_to_read(runner: CliRunner, tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    bad = FIXTURES / "bad_input" / "provisioning-malformed_ip.csv"
    result = runner.invoke(app, ["ingest", str(bad), "--home", home])
    assert result.exit_code == 1, result.output
    assert "1 row(s) quarantined" in result.output
    assert f"jejak quarantine --home {home}" in result.output.replace("\n", "")
    result = runner.invoke(app, ["quarantine", "--home", home, "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.splitlines()[0])
    assert row["line"] == 3 and row["reason"].startswith("source_ip: malformed IP address")


def test_errors_are_one_line_and_debug_shows_the_traceback(
    runner: CliRunner, tmp_path: Path
) -> None:
    home = str(tmp_path / "home")
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing.csv"), "--home", home])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"error: {tmp_path / 'missing.csv'}: no such file or folder"]
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "missing.csv"), "--home", home, "--debug"]
    )
    assert result.exit_code != 0
    assert result.exception is not None and "no such file" in str(result.exception)


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_status_of_an_empty_home_says_how_to_start(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--home", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "no jejak store here yet" in result.output
