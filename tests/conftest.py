"""Fixtures shared by every test: named for what they give."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.home import Home
from jejak.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
#: the seed case: shared/scenarios/seed-2016 where shared/ sits beside the repository, else the
#: copy the simulator embeds (test_seed_copy_is_current keeps the two equal)
PACKAGED_SEED = REPO / "src" / "jejak" / "simulate" / "seed_2016"
SEED_DIR = (
    SHARED / "scenarios" / "seed-2016"
    if (SHARED / "scenarios" / "seed-2016").exists()
    else PACKAGED_SEED
)
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

# rich wraps to the terminal width; tests read whole lines
os.environ["COLUMNS"] = "200"


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    """The seed case in the export format (shared/scenarios/seed-2016)."""
    if not SEED_DIR.exists():
        pytest.skip(f"the seed scenario is not at {SEED_DIR} (clone with shared/ beside the repo)")
    return SEED_DIR


@pytest.fixture
def fresh_store(tmp_path: Path) -> Store:
    """An empty store in a temporary home."""
    return Home(tmp_path / "home").store


@pytest.fixture(scope="session")
def _seed_home(tmp_path_factory: pytest.TempPathFactory, seed_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("seed") / "home"
    result = Home(home).ingest([seed_dir])
    assert result.quarantined == 0, result.to_dict()
    return home


@pytest.fixture
def seed_store(_seed_home: Path, tmp_path: Path) -> Store:
    """A store holding the seed case (a private copy: tests may write to it)."""
    home = tmp_path / "seed-home"
    shutil.copytree(_seed_home, home)
    return Home(home).store


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A PostgreSQL URL that answers; skips (or fails under CI=true) when there is none."""
    url = os.environ.get("JEJAK_TEST_PG_URL", PG_DEFAULT)
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as con:
            con.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means: no server here
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {url} is required under CI=true: {exc}")
        pytest.skip(f"no PostgreSQL at {url} ({exc}); set JEJAK_TEST_PG_URL to run these tests")
    return url
