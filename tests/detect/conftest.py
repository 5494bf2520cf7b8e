"""Fixtures of the detection tests: one SparkSession per test session, the seed's alerts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from jejak.detect import DetectionResult, detect
from jejak.detect.engines import spark_session
from jejak.store import Store


@pytest.fixture(scope="session")
def spark() -> Any:
    """The shared local[1] SparkSession (started once: Spark start-up is slow)."""
    return spark_session("local[1]")


@pytest.fixture(scope="session")
def seed_detection(
    _seed_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Store, DetectionResult]:
    """The seed store (a private copy) and the DuckDB detection run over it."""
    home = tmp_path_factory.mktemp("seed-detect") / "home"
    shutil.copytree(_seed_home, home)
    store = Store(home)
    return store, detect(store)
