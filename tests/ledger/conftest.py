"""Fixtures for the ledger tests: the shared test vectors, a fresh log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jejak.ledger.log import Log

#: a copy of shared/vectors kept in the repository, so that a clone tests on its own;
#: test_formats.py checks that it still equals shared/vectors where that folder is present
VECTORS = Path(__file__).resolve().parent / "vectors"
SHARED_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


def vectors_dir() -> Path:
    return VECTORS


def load(rel: str) -> Any:
    return json.loads((vectors_dir() / rel).read_text(encoding="utf-8"))


@pytest.fixture
def vectors() -> Path:
    """The folder of transparency-log test vectors (shared/vectors)."""
    return vectors_dir()


@pytest.fixture
def fresh_log(tmp_path: Path) -> Log:
    """An empty log in a temporary home."""
    return Log(tmp_path / "home", origin="example.com/test-log")
