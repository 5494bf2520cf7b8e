"""kill -9 at random moments while actions run: after a restart each action is wholly there
(database and log) or wholly absent, and the log verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jejak.cases.users import add_user
from jejak.home import Home
from tests.cases.conftest import verify_home

WORKER = r"""
import sys
from jejak.home import Home
cases = Home(sys.argv[1]).cases
cid = sys.argv[2]
print("ready", flush=True)
n = 0
while True:
    n += 1
    who = ("rina", "tono")[n % 2]
    action = ("note", "comment")[n % 2]
    cases.act(cid, who, action, {"text": f"step {n}"})
    print(n, flush=True)
"""

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_kill_9_leaves_every_action_whole(tmp_path: Path, backend: str | None) -> None:
    home = tmp_path / "home"
    h = Home(home)
    cases = h.cases
    add_user(cases.db, "rina", "cs")
    add_user(cases.db, "tono", "cs")
    case, _ = cases.create(
        {
            "complaint_id": "TCK-CRASH-1",
            "msisdn": "6281100000077",
            "opened_at": "2026-01-05T09:00:00+07:00",
            "disputed_amount": 100000,
        }
    )
    cid = case["case_id"]
    h.close()
    rng = random.Random(20170206)
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    acknowledged = 0
    for _ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(home), cid],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the imports and the opening take a while on a busy machine
        assert first.strip() == "ready", proc.stderr.read() if proc.stderr else first
        time.sleep(rng.uniform(0.05, 1.5))  # then kill it at a random moment among the actions
        proc.send_signal(signal.SIGKILL)
        out, errs = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, errs
        done = [int(x) for x in out.split()]
        acknowledged += len(done)

        again = Home(home)
        restarted = again.cases  # opening finishes an interrupted commit
        try:
            timeline = restarted.timeline(cid, customer=False)
            texts = {e["text"] for e in timeline}
            # every action the worker saw committed is there ...
            assert all(f"step {n}" in texts for n in done)
            # ... in order, without gaps, each at its place in the log
            assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
            assert all(e["ledger_index"] is not None for e in timeline)
            assert restarted.get(cid)["version"] == 1 + sum(
                1 for e in timeline if e["action"] in ("note", "comment")
            )
        finally:
            again.close()
        report = verify_home(home)
        assert report.ok, [str(p) for p in report.problems]
        assert {(n["case_id"], n["seq"]) for n in report.named if "seq" in n} == {
            (cid, e["seq"]) for e in timeline
        }
    assert acknowledged > 0, "the worker never got to act: kill later"
