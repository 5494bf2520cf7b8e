"""``jejak demo``: the whole job on a fresh home, again on the same home, and never over real data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cli import app

pytest.importorskip("jejak.simulate")


def test_demo_fresh_then_again(runner: CliRunner, tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    r = runner.invoke(app, ["demo", "--home", str(home), "--subscribers", "2000", "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert "credential_misuse" in r.output
    assert "Budi Santoso" in r.output
    assert "IDR 500,000" in r.output
    for lang in ("en", "id"):
        page = home / "reports" / f"6281100000001-TCK-2017-0206-0001.{lang}.html"
        assert f"HTML report ({lang}): {page}" in r.output
        assert page.exists()
    assert json.loads((home / "demo.json").read_text()) == {
        "subscribers": 2000,
        "seed": 1,
        "days": 30,
    }
    manifest = (home / "store" / "manifest.json").read_text()

    again = runner.invoke(app, ["demo", "--home", str(home)])
    assert again.exit_code == 0, again.output
    assert "Staff workbench on this data" in r.output
    assert "demo-supervisor" in r.output and "TOTP secret" in r.output
    assert "reused the operator built before" in again.output
    assert "made by an earlier run" in again.output and "TOTP secret" not in again.output
    assert "credential_misuse" in again.output
    assert (home / "store" / "manifest.json").read_text() == manifest  # nothing ingested twice

    other = runner.invoke(app, ["demo", "--home", str(home), "--seed", "2"])
    assert other.exit_code == 0, other.output
    assert "reused" not in other.output
    assert json.loads((home / "demo.json").read_text())["seed"] == 2


def test_demo_refuses_a_home_with_other_data(
    runner: CliRunner, _seed_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "operator"
    shutil.copytree(_seed_home, home)
    r = runner.invoke(app, ["demo", "--home", str(home)])
    assert r.exit_code == 2, r.output
    assert "the demo did not build" in r.output
    assert not (home / "demo-export").exists()
