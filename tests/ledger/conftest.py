"""Fixtures for the ledger tests: the shared test vectors, a fresh log."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jejak.ledger.log import Log

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


def vectors_dir() -> Path:
    if not VECTORS.exists():
        if os.environ.get("CI") == "true":
            raise AssertionError(f"the test vectors must be at {VECTORS} under CI")
        pytest.skip(f"the test vectors are not at {VECTORS} (clone shared/ beside the repo)")
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
