"""Two witnesses in their own processes over HTTP on loopback; a log published through them, then
forked and rolled back: both witnesses refuse, the log refuses to sign, the monitor reports it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jejak.errors import ForkError
from jejak.ledger import note as N
from jejak.ledger.checkpoint import open_checkpoint
from jejak.ledger.log import Log
from jejak.ledger.monitor import check
from jejak.ledger.policy import Policy
from jejak.ledger.publish import publish
from jejak.ledger.serve import tiles_server, url_of
from jejak.ledger.state import load_state

ORIGIN = "example.com/test-log"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _entries(n: int, start: int = 0, tag: str = "entry") -> list[bytes]:
    return [f"{tag} {i}".encode() for i in range(start, start + n)]


def start_witness(folder: Path, name: str, log_vkey: Path) -> tuple[subprocess.Popen[str], str]:
    """`jejak ledger witness serve` in its own process; (process, its URL)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv.pop(1)); from jejak.cli import main; main()",
            SRC,
            "ledger",
            "witness",
            "serve",
            "--dir",
            str(folder),
            "--name",
            name,
            "--log",
            str(log_vkey),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if " listening on " not in line:
        proc.kill()
        raise AssertionError(f"witness did not start: {line!r} {proc.stderr.read()!r}")  # type: ignore[union-attr]
    return proc, line.rsplit(" ", 1)[1].strip()


@pytest.fixture
def two_witnesses(tmp_path: Path) -> Iterator[tuple[Log, list[tuple[str, Path]]]]:
    log = Log(tmp_path / "home", origin=ORIGIN)
    log.signed_checkpoint()
    vkey = log.home / "keys" / "ledger.vkey"
    procs, ws = [], []
    try:
        for name in ("w1", "w2"):
            proc, url = start_witness(tmp_path / name, f"witness.example/{name}", vkey)
            procs.append(proc)
            ws.append((url, tmp_path / name))
        policy = f"log {log.verifier}\n"
        for (url, folder), name in zip(ws, ("w1", "w2"), strict=True):
            policy += f"witness {name} {(folder / 'witness.vkey').read_text().strip()} {url}\n"
        policy += "group both all w1 w2\nquorum both\n"
        (log.home / "keys" / "ledger.policy").write_text(policy)
        yield log, ws
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def _witness_keys(ws: list[tuple[str, Path]]) -> list[N.Verifier]:
    return [N.Verifier.parse((f / "witness.vkey").read_text()) for _, f in ws]


def test_a_growing_log_is_published_through_two_witnesses_and_cannot_fork(
    two_witnesses: tuple[Log, list[tuple[str, Path]]], tmp_path: Path
) -> None:
    log, ws = two_witnesses
    keys = _witness_keys(ws)
    policy = Policy.parse((log.home / "keys" / "ledger.policy").read_text())
    tiles = tiles_server(log.dir)
    threading.Thread(target=tiles.serve_forever, daemon=True).start()
    mon = tmp_path / "monitor"
    try:
        # a growing log: every append is published (both cosign), the monitor follows it
        snapshots = []
        for k, n in enumerate((300, 20, 700)):
            log.append(_entries(n, log.size))
            _cp, opened = open_checkpoint(log.signed_checkpoint(), log.verifier, witnesses=keys)
            assert {v for v, _, t in opened.verified if t > 0} == set(keys), k
            assert load_state(log.home).witnessed == log.signed_checkpoint()
            seen = check(url_of(tiles), log.verifier, mon, policy=policy)
            assert seen.ok, seen.line()
            snapshots.append(tmp_path / f"snap{k}")
            shutil.copytree(log.home, snapshots[-1])
        assert log.size == 1020

        # the log refuses to sign a roll-back: the checkpoint of size 320 put back
        (log.dir / "checkpoint").write_bytes((snapshots[1] / "ledger" / "checkpoint").read_bytes())
        with pytest.raises(ForkError, match="behind size 1,020"):
            log.append(_entries(1, 320))
        # ... nor a new tree under the same key once the tiles are gone
        shutil.rmtree(log.dir)
        with pytest.raises(ForkError, match=r"last witnessed at size 1,020\).*tiles are gone"):
            log.append(_entries(5, 0, "forged"))

        # an insider who also deletes the key's memory can sign a fork: the witnesses refuse it
        (log.home / "keys" / "ledger.state").unlink()
        log.append(_entries(300) + _entries(800, 300, "forged"))  # 1,100 leaves, not extending
        result = publish(log)
        assert not result.published and not result.cosigners
        assert set(result.refused) == {"w1", "w2"}
        assert all(why.startswith("422") for why in result.refused.values()), result.refused
        # the monitor reports the fork in one line naming both checkpoints (quorum waived to
        # show the fork itself: the forked checkpoint has no cosignature at all)
        seen = check(url_of(tiles), log.verifier, mon)
        assert seen.status == "fork"
        line = seen.line()
        assert "\n" not in line and line.startswith("FORK: ")
        assert f"{ORIGIN} size 1020 root " in line and f"{ORIGIN} size 1100 root " in line
        # with the policy, the same checkpoint is not even acceptable: short of the quorum
        assert (
            "short of the policy's quorum"
            in check(url_of(tiles), log.verifier, mon, policy=policy).line()
        )

        # a roll-back served to the monitor: the witnesses refuse it too (old size > size)
        shutil.rmtree(log.dir)
        shutil.copytree(snapshots[0] / "ledger", log.dir)
        (log.home / "keys" / "ledger.state").unlink()
        result = publish(log)
        assert not result.published
        assert all(why.startswith("400") for why in result.refused.values()), result.refused
        seen = check(url_of(tiles), log.verifier, mon)
        assert seen.status == "rollback" and seen.line().startswith("ROLLBACK: ")
        assert f"{ORIGIN} size 300 root " in seen.line()
    finally:
        tiles.shutdown()
        tiles.server_close()
