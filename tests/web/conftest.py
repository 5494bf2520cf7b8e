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


def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema (SQLAlchemy URL, schema name), dropped afterwards."""
    import psycopg

    name = f"jejak_web_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield pg_url.replace("postgresql://", "postgresql+psycopg://", 1), name
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def seed_cases(
    request: pytest.FixtureRequest, seed_store: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cases]:
    """The case library of a home holding the seed case, on SQLite or on PostgreSQL."""
    monkeypatch.setenv("JEJAK_HOME", str(seed_store.home))
    monkeypatch.setenv("JEJAK_API_ACCEPTS_TIMES", "true")
    if request.param == "sqlite":
        cases = Cases.open(seed_store.home, store=seed_store)
        yield cases
        cases.close()
        return
    pg_url = request.getfixturevalue("pg_url")
    schemas = pg_schema(pg_url)
    url, schema = next(schemas)
    cases = Cases.open(seed_store.home, url=url, schema=schema, store=seed_store)
    try:
        yield cases
    finally:
        cases.close()
        next(schemas, None)


@pytest.fixture
def sqlite_cases(seed_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cases]:
    """The seed home's case library on SQLite only."""
    monkeypatch.setenv("JEJAK_HOME", str(seed_store.home))
    monkeypatch.setenv("JEJAK_API_ACCEPTS_TIMES", "true")
    cases = Cases.open(seed_store.home, store=seed_store)
    yield cases
    cases.close()


def make_api(cases: Cases) -> Api:
    for name, role in STAFF.items():
        add_user(cases.db, name, role)
    tokens = {name: auth.issue_token(cases.db, name)[1] for name in STAFF}
    add_user(cases.db, "billing", "auditor")
    tokens["billing"] = auth.issue_token(cases.db, "billing", ["can-bar"])[1]
    add_user(cases.db, "crm", "cs")
    tokens["crm"] = auth.issue_token(cases.db, "crm", ["complaints:push"])[1]
    tokens["citra-read"] = auth.issue_token(cases.db, "citra", ["cases:read"])[1]
    return Api(TestClient(create_app(cases)), cases, tokens)


@pytest.fixture
def api(seed_cases: Cases) -> Api:
    """The API on the seed home (SQLite and PostgreSQL), with staff tokens."""
    return make_api(seed_cases)


@pytest.fixture
def sqlite_api(sqlite_cases: Cases) -> Api:
    """The API on the seed home, SQLite only."""
    return make_api(sqlite_cases)
