"""Fixtures for the workbench: a home with the seed case detected and its case opened, the staff
accounts of every role (password and TOTP), and a client speaking HTTPS to the app."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import jejak
from jejak.auth.service import enroll_totp, set_password
from jejak.cases.users import add_user
from jejak.web.app import create_app

SEED_COMPLAINT = "TCK-2017-0206-0001"
SEED_CASE = "CASE-" + SEED_COMPLAINT
PASSWORD = "correct horse battery staple"
#: one account per role (fictional names)
STAFF = {
    "rina": "cs",
    "sari": "investigator",
    "joko": "supervisor",
    "dewi": "supervisor",
    "ayu": "auditor",
    "adi": "admin",
}


@dataclass
class WorkbenchHome:
    path: Path
    totp: dict[str, str]


def make_home(home: Path, seed_dir: Path) -> WorkbenchHome:
    h = jejak.Home(home)
    h.ingest([seed_dir])
    h.refresh_alerts()
    cases = h.cases
    cases.open_case(SEED_COMPLAINT)
    totp = {}
    for name, role in STAFF.items():
        add_user(cases.db, name, role)
        set_password(cases.db, name, PASSWORD)
        totp[name] = enroll_totp(cases.db, name)
    h.close()
    return WorkbenchHome(home, totp)


@pytest.fixture(scope="session")
def _workbench_home(tmp_path_factory: pytest.TempPathFactory, seed_dir: Path) -> WorkbenchHome:
    return make_home(tmp_path_factory.mktemp("workbench") / "home", seed_dir)


@pytest.fixture
def workbench_home(_workbench_home: WorkbenchHome, tmp_path: Path) -> WorkbenchHome:
    """A private copy of a home with the seed case detected, its case opened, and the staff."""
    home = tmp_path / "home"
    shutil.copytree(_workbench_home.path, home)
    return WorkbenchHome(home, _workbench_home.totp)


@pytest.fixture
def app(workbench_home: WorkbenchHome) -> Iterator[FastAPI]:
    app = create_app(workbench_home.path)
    yield app
    app.state.cases.close()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """A client on https://testserver (the session cookie is Secure)."""
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client: TestClient, home: WorkbenchHome, name: str) -> str:
    """Sign ``name`` in through the form; returns the CSRF token of the new session."""
    page = client.get("/signin")
    assert page.status_code == 200, page.text
    r = client.post(
        "/signin",
        data={
            "csrf": csrf_of(page.text),
            "name": name,
            "password": PASSWORD,
            "code": pyotp.TOTP(home.totp[name]).now(),
            "next": "/",
        },
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/cases" if STAFF[name] != "admin" else "/audit").text)
