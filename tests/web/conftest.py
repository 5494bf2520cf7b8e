"""The API on a home holding the seed case: a TestClient, staff with tokens, SQLite or PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jejak.auth import service as auth
from jejak.cases import Cases
from jejak.cases.users import add_user
from jejak.home import Home
from jejak.store import Store
from jejak.web.app import create_app

#: the seed's staff at the operator: name -> role (fictional)
STAFF = {
    "citra": "cs",
    "dewi": "investigator",
    "sari": "supervisor",
    "bayu": "supervisor",
    "audi": "auditor",
}


@dataclass
class Api:
    """A client on the app and one bearer token per person (plus scoped system tokens)."""

    client: TestClient
    cases: Cases
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.as_(who), **kw)

    def post(self, who: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, headers=self.as_(who), json=body)


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL schema of its own (dropped afterwards): (SQLAlchemy URL, schema)."""
    import psycopg

    schema = "jejak_web_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_url.replace("postgresql://", "postgresql+psycopg://", 1), schema
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _home(store: Store, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> Home:
    monkeypatch.setenv("JEJAK_HOME", str(store.home))
    monkeypatch.setenv("JEJAK_API_ACCEPTS_TIMES", "true")
    if database_url:
        monkeypatch.setenv("JEJAK_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("JEJAK_DATABASE_URL", raising=False)
    return Home(store.home)


@pytest.fixture(params=["sqlite", "postgres"])
def seed_home(
    request: pytest.FixtureRequest, seed_store: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Home]:
    """A Home holding the seed case, its case database on SQLite or on PostgreSQL."""
    url = None
    if request.param == "postgres":
        base, schema = request.getfixturevalue("pg_schema")
        url = f"{base}?options=-csearch_path%3D{schema}"
    home = _home(seed_store, monkeypatch, url)
    yield home
    home.close()


@pytest.fixture
def sqlite_home(seed_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    """A Home holding the seed case, its case database on SQLite."""
    home = _home(seed_store, monkeypatch, None)
    yield home
    home.close()


def make_api(home: Home) -> Api:
    cases = home.cases
    for name, role in STAFF.items():
        add_user(cases.db, name, role)
    tokens = {name: auth.issue_token(cases.db, name)[1] for name in STAFF}
    add_user(cases.db, "billing", "auditor")
    tokens["billing"] = auth.issue_token(cases.db, "billing", ["can-bar"])[1]
    add_user(cases.db, "crm", "cs")
    tokens["crm"] = auth.issue_token(cases.db, "crm", ["complaints:push"])[1]
    tokens["citra-read"] = auth.issue_token(cases.db, "citra", ["cases:read"])[1]
    return Api(TestClient(create_app(home)), cases, tokens)


@pytest.fixture
def api(seed_home: Home) -> Api:
    """The API on the seed home (SQLite and PostgreSQL), with staff tokens."""
    return make_api(seed_home)


@pytest.fixture
def sqlite_api(sqlite_home: Home) -> Api:
    """The API on the seed home, SQLite only."""
    return make_api(sqlite_home)
