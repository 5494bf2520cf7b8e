"""`jejak serve --workers 2` as a real process on loopback: the workers share nothing but the
database, so a token revoked anywhere is refused by every worker, and concurrent actions on one
case keep every update (or answer 409)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from jejak.auth import service as auth
from jejak.cases.db import Database
from jejak.cases.users import add_user
from jejak.home import Home
from jejak.store import Store

REPO = Path(__file__).resolve().parents[2]
TICKET = "TCK-2017-0206-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(seed_store: Store) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """`jejak serve --workers 2` on the seed home; (base URL, home, process)."""
    home = seed_store.home
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), JEJAK_API_ACCEPTS_TIMES="true")
    env.pop("JEJAK_DATABASE_URL", None)
    cmd = [sys.executable, "-c", "from jejak.cli import main; main()", "serve"]
    cmd += ["--home", str(home), "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("jejak serve did not answer within 90 s")
        yield base, home, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.slow
def test_two_workers_share_everything_through_the_database(
    served: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    import psutil

    base, home, proc = served
    assert len(psutil.Process(proc.pid).children(recursive=True)) >= 2
    db = Database.open(home)
    add_user(db, "citra", "cs")
    add_user(db, "dewi", "investigator")
    citra = {"Authorization": f"Bearer {auth.issue_token(db, 'citra')[1]}"}
    dewi_id, dewi_token = auth.issue_token(db, "dewi")
    dewi = {"Authorization": f"Bearer {dewi_token}"}

    with httpx.Client(base_url=base, timeout=60) as c:
        r = c.post(
            "/api/v1/cases",
            headers=citra,
            json={"complaint_id": TICKET, "at": "2017-02-06T10:15:00+07:00"},
        )
        assert r.status_code == 201, r.text
        cid = r.json()["case_id"]

        # twenty notes at once, from two people, through both workers: all land, in order
        def note(i: int) -> int:
            who = citra if i % 2 else dewi
            body = {"action": "note", "text": f"catatan {i}", "at": "2017-02-06T11:00:00+07:00"}
            return c.post(f"/api/v1/cases/{cid}/actions", headers=who, json=body).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(note, range(20)))
        assert statuses == [200] * 20
        timeline = c.get(f"/api/v1/cases/{cid}", headers=citra).json()["timeline"]
        texts = {e["text"] for e in timeline}
        assert {f"catatan {i}" for i in range(20)} <= texts
        assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))

        # a revoked token is refused by every worker at once (no worker caches it)
        auth.revoke_token(db, dewi_id)
        refused = [c.get(f"/api/v1/cases/{cid}", headers=dewi).status_code for _ in range(8)]
        assert refused == [401] * 8
    db.dispose()

    # both workers appended to one transparency log: it verifies, and names every action
    owner = Home(home)
    try:
        report = owner.verify()
        logged = {n["seq"] for n in report.named if n.get("case_id") == cid and "seq" in n}
    finally:
        owner.close()
    assert report.ok, [str(p) for p in report.problems]
    assert {e["seq"] for e in timeline} <= logged
