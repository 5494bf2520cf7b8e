"""Hostile and messy input (issue 17): every test builds its input from the seed export.

Fixtures and helpers named for what they give: ``export`` (a private copy of the seed
export to damage), ``lines``/``write_lines`` (a CSV file as its lines), ``jejak`` (run a
command through the CLI runner), ``assert_accounted`` (the accounting identity, file by file).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from jejak.cli import app
from jejak.ingest import IngestResult

#: the seed case's subscriber and complaint (docs/architecture.md)
SEED_MSISDN = "6281100000001"
SEED_COMPLAINT = "TCK-2017-0206-0001"


@pytest.fixture
def export(tmp_path: Path, seed_dir: Path) -> Path:
    """A private copy of the seed export (its CSV files only), free to damage."""
    folder = tmp_path / "export"
    folder.mkdir()
    for f in sorted(seed_dir.glob("*.csv")):
        shutil.copy(f, folder / f.name)
    return folder


def lines(path: Path) -> list[str]:
    """A CSV file's lines without their line ends (the seed files end lines with CRLF)."""
    text = path.read_bytes().decode("utf-8")
    return [x.rstrip("\r") for x in text.split("\n") if x.rstrip("\r")]


def write_lines(path: Path, rows: list[str], end: str = "\r\n") -> Path:
    path.write_bytes("".join(r + end for r in rows).encode("utf-8"))
    return path


def assert_accounted(result: IngestResult) -> None:
    """rows in = loaded + duplicates + conflicts + quarantined, for every file not refused whole,
    and the files' figures add up to the kinds'."""
    for f in result.files:
        assert f.error or f.accounted, f.summary()
    for name, c in result.kinds.items():
        mine = [f for f in result.files if f.kind == name and not f.error]
        assert c.read == sum(f.read for f in mine), name
        assert c.loaded == sum(f.loaded for f in mine), name
        assert c.duplicate == sum(f.duplicate for f in mine), name
        assert c.conflicting == sum(f.conflicting for f in mine), name
        assert c.quarantined == sum(f.quarantined for f in mine), name


@pytest.fixture
def jejak(runner: CliRunner) -> Callable[..., Result]:
    """Run ``jejak ARGS...`` through the CLI runner (errors as the user sees them)."""

    def run(*args: str | Path) -> Result:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)

    return run
