"""Fixtures of the investigation tests: a seed store with its alerts, and the seed report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jejak.investigate import Report, investigate
from jejak.store import Store

SEED_MSISDN = "6281100000001"
SEED_COMPLAINT = "TCK-2017-0206-0001"


@pytest.fixture(scope="session")
def seed_home_detected(_seed_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the seed home on which detection has run (alerts stored)."""
    from jejak.detect import detect

    home = tmp_path_factory.mktemp("inv-seed") / "home"
    shutil.copytree(_seed_home, home)
    detect(Store(home), save=True)
    return home


@pytest.fixture(scope="session")
def seed_report(seed_home_detected: Path) -> Report:
    """The evidence report for the seed subscriber, with its complaint."""
    return investigate(Store(seed_home_detected), SEED_MSISDN)


@pytest.fixture(scope="session")
def seed_json(seed_report: Report) -> dict:
    return seed_report.to_dict()
