"""Fixtures for the dispute workflow: a case database on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jejak.cases import Cases
from jejak.cases.users import add_user
from jejak.home import Home
from jejak.ledger.verify import Report
from jejak.store import Store

STAFF = [
    ("rina", "cs"),
    ("tono", "cs"),
    ("budi", "investigator"),
    ("sari", "supervisor"),
    ("dewi", "supervisor"),
    ("adi", "auditor"),
    ("admin1", "admin"),
]


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL schema of its own (dropped afterwards): (SQLAlchemy URL, schema)."""
    import psycopg

    schema = "jejak_cases_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield url, schema
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Where the case database lives, set as ``JEJAK_DATABASE_URL`` (so that every part of
    jejak, subprocesses too, finds it): None is SQLite under the home."""
    monkeypatch.delenv("JEJAK_DATABASE_URL", raising=False)
    if request.param == "sqlite":
        return None
    url, schema = request.getfixturevalue("pg_schema")
    full = f"{url}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("JEJAK_DATABASE_URL", full)
    return full


@pytest.fixture
def seed_cases(seed_store: Store, backend: str | None) -> Iterator[Cases]:
    """The seed store with a case database (SQLite or PostgreSQL) and the staff of STAFF."""
    home = Home(seed_store.home)
    cases = home.cases
    for name, role in STAFF:
        add_user(cases.db, name, role)
    yield cases
    home.close()


@pytest.fixture
def empty_cases(tmp_path: Path, backend: str | None) -> Iterator[Cases]:
    """A home with no records, a case database and the staff of STAFF (for CRM-pushed cases)."""
    home = Home(tmp_path / "home")
    cases = home.cases
    for name, role in STAFF:
        add_user(cases.db, name, role)
    yield cases
    home.close()


def verify_home(home: Path) -> Report:
    """``jejak ledger verify`` of a home, through a Home of its own (as a restarted process)."""
    h = Home(home)
    try:
        return h.verify()
    finally:
        h.close()
