"""A home made by the previous release (store format 1, lookup files built by reports) is
refused by ingest, converted by `jejak store migrate`, and its log still verifies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cli import app
from jejak.home import Home
from tests.conftest import FIXTURES

OLD_HOME = FIXTURES / "home-format1"


@pytest.fixture
def old_home(tmp_path: Path) -> Path:
    home = tmp_path / "old"
    shutil.copytree(OLD_HOME, home)
    return home


def test_a_previous_release_home_migrates_and_verifies(
    old_home: Path, runner: CliRunner, seed_dir: Path
) -> None:
    before = Home(old_home).investigate("6281100000001", as_of="2017-04-01").to_dict()
    assert Home(old_home).verify().ok
    refused = runner.invoke(app, ["ingest", str(seed_dir), "--home", str(old_home)])
    assert refused.exit_code != 0, refused.output
    assert "jejak store migrate" in refused.output

    done = runner.invoke(app, ["store", "migrate", "--home", str(old_home)])
    assert done.exit_code == 0, done.output
    assert "format 1 -> 2" in done.output
    manifest = json.loads((old_home / "store" / "manifest.json").read_text())
    assert manifest["format"] == 2 and all(b["index"] for b in manifest["batches"])
    assert (old_home / "store" / "index" / "provisioning" / "000001-0000.arrow").exists()
    assert not (old_home / "investigate" / "lookup").exists()

    verified = runner.invoke(app, ["ledger", "verify", "--home", str(old_home)])
    assert verified.exit_code == 0, verified.output
    home = Home(old_home)
    assert home.store.indexed_files("provisioning", "session_id")[0]
    after = home.investigate("6281100000001", as_of="2017-04-01").to_dict()
    assert after == before

    again = runner.invoke(app, ["store", "migrate", "--home", str(old_home)])
    assert again.exit_code == 0 and "0 data file(s) indexed" in again.output, again.output
    more = runner.invoke(app, ["ingest", str(seed_dir), "--home", str(old_home)])
    assert more.exit_code == 0, more.output  # all duplicates now, and allowed
    assert Home(old_home).verify().ok
