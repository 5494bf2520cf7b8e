"""kill -9 at random moments of ingest and of detect, two detects at once, an ingest racing a
verify: every crash ends in the old or the new state, and the next write repairs it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jejak import Home
from jejak.store import Store
from tests.hostile.conftest import lines, write_lines

ROWS = 4_000


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


#: what each child process runs: the library call behind the command, without the CLI's imports
CALLS = {
    "ingest": "from jejak import Home; Home(sys.argv[2]).ingest([sys.argv[1]])",
    # the SQL pack without the anomaly model: the same writes, a fraction of the time
    "detect": "from jejak import Home; Home(sys.argv[1]).refresh_alerts(anomalies=False)",
}


def _jejak(what: str, *args: str | Path) -> subprocess.Popen[bytes]:
    """``jejak ingest PATH --home HOME`` or ``jejak detect --home HOME`` in a child process."""
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; " + CALLS[what], *map(str, args)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def bigger_export(tmp_path_factory: pytest.TempPathFactory, seed_dir: Path) -> Path:
    """The seed export with its provisioning grown to 4,000 rows (new identifiers), so that an
    ingest lasts long enough to be killed in each of its phases."""
    folder = tmp_path_factory.mktemp("bigger") / "export"
    folder.mkdir()
    for f in seed_dir.glob("*.csv"):
        (folder / f.name).write_bytes(f.read_bytes())
    rows = lines(seed_dir / "provisioning.csv")
    body = [r.split(",", 1)[1] for r in rows[1:]]
    grown = [f"EVK{i:07d},{body[i % len(body)]}" for i in range(ROWS)]
    write_lines(folder / "provisioning.csv", [rows[0], *grown])
    return folder


def _all_or_nothing(home: Path) -> int:
    """The rows of provisioning in the store: none or all of the batch, never part of it."""
    store = Home(home).store
    if not store.exists:
        return 0
    rows = store.status(integrity=False).kinds["provisioning"].rows
    assert rows in (0, ROWS), rows
    return rows


def test_ingest_killed_at_random_moments_leaves_all_or_nothing_and_verifies(
    bigger_export: Path, tmp_path: Path
) -> None:
    rng = random.Random(17)
    home = tmp_path / "home"
    for _ in range(3):
        proc = _jejak("ingest", bigger_export, home)
        time.sleep(rng.uniform(0.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _all_or_nothing(home)
        report = Home(home).verify()  # a batch whose append was cut off is pending, not tampered
        assert report.ok, report.problems
    assert _jejak("ingest", bigger_export, home).wait(timeout=120) == 0
    assert _all_or_nothing(home) == ROWS
    report = Home(home).verify()
    assert report.ok and not report.pending, (report.problems, report.pending)


def _alerts_readable(home: Path) -> None:
    path = home / "alerts" / "alerts.parquet"
    if path.exists():
        pq.read_table(path)  # whole, never half-written


def test_detect_killed_at_random_moments_leaves_the_alerts_whole(seed_store: Store) -> None:
    rng = random.Random(18)
    home = seed_store.home
    for _ in range(2):
        proc = _jejak("detect", home)
        time.sleep(rng.uniform(1.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _alerts_readable(home)
    proc = _jejak("detect", home)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    _alerts_readable(home)


def test_two_detects_at_once_both_finish(seed_store: Store) -> None:
    runs = [_jejak("detect", seed_store.home) for _ in range(2)]
    for proc in runs:
        code = proc.wait(timeout=120)
        assert code == 0, proc.stderr.read().decode() if proc.stderr else code
    _alerts_readable(seed_store.home)
    assert not list((seed_store.home / "alerts").glob("*.tmp"))


def test_a_verify_racing_an_ingest_never_cries_tampering(
    seed_store: Store, bigger_export: Path
) -> None:
    proc = _jejak("ingest", bigger_export / "provisioning.csv", seed_store.home)
    checks = 0
    while proc.poll() is None or checks == 0:
        report = Home(seed_store.home).verify()
        assert report.ok, report.problems  # an append in progress is pending, not "unlogged"
        checks += 1
    assert proc.wait(timeout=120) == 0
    report = Home(seed_store.home).verify()
    assert report.ok and not report.pending and checks >= 1
