"""The log's history is kept beside its key and by witnesses: a restarted or rolled-back log fails
the default `jejak ledger verify`, naming it; damaged tiles read as one finding each."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cli import app
from jejak.ledger.log import Log
from jejak.ledger.publish import cosign_log
from jejak.ledger.serve import url_of, witness_server
from jejak.ledger.tiles import entries_path, tile_path
from jejak.ledger.witness import open_witness, trust_log
from jejak.store import Store


def _verify(runner: CliRunner, home: Path, *extra: str) -> tuple[int, str]:
    r = runner.invoke(app, ["ledger", "verify", "--home", str(home), *extra])
    return r.exit_code, r.output


def _rebuild_edited(home: Path, tmp_path: Path) -> None:
    """An insider rebuilds the log under the same key with leaf 5 changed (by hand, not with
    jejak, which refuses), keeping keys/ledger.state as it was."""
    log = Log(home)
    entries = [log.entry(i) for i in range(log.size)]
    entries[5] = entries[5][:-1] + bytes([entries[5][-1] ^ 1])
    appends = (home / "ledger" / "appends.jsonl").read_bytes()
    state = home / "keys" / "ledger.state"
    kept = tmp_path / "state-aside"
    shutil.move(state, kept)
    shutil.rmtree(home / "ledger")
    Log(home).append(entries)
    (home / "ledger" / "appends.jsonl").write_bytes(appends)
    shutil.move(kept, state)


def test_restart_with_the_same_key_fails_default_verify(
    seed_store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    home = seed_store.home
    assert _verify(runner, home)[0] == 0
    _rebuild_edited(home, tmp_path)
    code, out = _verify(runner, home, "--log-only")
    assert code == 1, out
    assert "fork: " in out and "has another root at size 633" in out
    assert "of the checkpoint its key last signed" in out and "ledger.state" in out


def test_a_deleted_log_is_not_started_again_under_the_same_key(
    seed_store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    home = seed_store.home
    w = open_witness(tmp_path / "w1", "witness.example/w1")
    cosign_log(Log(home), w)  # witnessed at 633
    shutil.rmtree(home / "ledger")
    code, out = _verify(runner, home)
    assert code == 1 and "rollback: " in out and "the log was deleted" in out, out
    # the next writer (here: ingest) refuses, in one line naming the last witnessed size
    r = runner.invoke(app, ["ingest", "/work/shared/scenarios/seed-2016", "--home", str(home)])
    assert r.exit_code != 0
    err = [line for line in r.output.splitlines() if "error" in line]
    assert len(err) == 1, r.output
    assert "last witnessed at size 633" in err[0] and "tiles are gone" in err[0]
    assert not (home / "ledger" / "checkpoint").exists()


@pytest.fixture
def witness_url(tmp_path: Path, seed_store: Store) -> Iterator[str]:
    folder = tmp_path / "w1"
    trust_log(folder, Log(seed_store.home).verifier)
    srv = witness_server(open_witness(folder, "witness.example/w1"))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield url_of(srv)
    srv.shutdown()
    srv.server_close()


def test_a_restart_that_also_deletes_the_keys_memory_is_caught_by_the_witness(
    seed_store: Store, runner: CliRunner, tmp_path: Path, witness_url: str
) -> None:
    home = seed_store.home
    log = Log(home)
    wkey = (tmp_path / "w1" / "witness.vkey").read_text().strip()
    (home / "keys" / "ledger.policy").write_text(
        f"log {log.verifier}\nwitness w1 {wkey} {witness_url}\nquorum w1\n"
    )
    r = runner.invoke(app, ["ledger", "publish", "--home", str(home)])
    assert r.exit_code == 0 and "size 633 published: cosigned by w1" in r.output, r.output
    code, out = _verify(runner, home)
    assert (
        code == 0 and "history: checked against the checkpoint witnessed at size 633 by w1" in out
    )
    _rebuild_edited(home, tmp_path)
    (home / "keys" / "ledger.state").unlink()
    (home / "ledger" / "checkpoint").write_text(Log(home).signed_checkpoint())
    r = runner.invoke(app, ["ledger", "publish", "--home", str(home)])
    assert r.exit_code == 1 and "NOT published" in r.output and "w1 refused: 422" in r.output
    code, out = _verify(runner, home, "--log-only")
    assert code == 1, out
    assert "fork: " in out and "witnessed at size 633 by w1" in out and "/checkpoint)" in out


def test_roll_back_fails_default_verify(seed_store: Store, runner: CliRunner) -> None:
    home = seed_store.home
    older = (home / "ledger" / "checkpoint").read_bytes()
    args = ["suppress", "--rule", "JJK-002", "--agent-id", "16009051", "--owner", "fraud-team"]
    args += ["--reason", "roster on paper", "--expires", "2999-12-31", "--home", str(home)]
    assert runner.invoke(app, args).exit_code == 0
    (home / "ledger" / "checkpoint").write_bytes(older)  # only a suppression came after it
    code, out = _verify(runner, home)
    assert code == 1, out
    assert "rollback: " in out and "is at size 633, behind size 634" in out
    # and the writer will not sign on top of it
    r = runner.invoke(app, args)
    assert r.exit_code != 0 and "refusing to sign a fork or a roll-back" in r.output


def test_an_append_during_verification_is_not_a_rollback(seed_store: Store) -> None:
    """A verifier reads the checkpoint first and the key's signed state last: an append in
    between leaves it holding an older checkpoint than the key signed. That is the log growing,
    not being rolled back (a verify racing an ingest said "rollback" under load)."""
    from jejak.ledger.verify import Report, check_history

    log = Log(seed_store.home)
    path = seed_store.home / "ledger" / "checkpoint"
    older, read_first = path.read_bytes(), log.checkpoint()
    log.append([b"case racing-append"])
    report = Report()
    check_history(log, read_first, log.verifier, report)
    assert report.problems == []
    path.write_bytes(older)  # the same older checkpoint put back on disk: a rollback
    report = Report()
    check_history(log, read_first, log.verifier, report)
    assert [p.what for p in report.problems] == ["rollback"]


def test_a_swapped_tile_is_one_finding_and_a_missing_partial_tile_a_finding(
    seed_store: Store, runner: CliRunner
) -> None:
    home = seed_store.home
    led = home / "ledger"
    a, b = led / tile_path(0, 0), led / tile_path(0, 1)
    da = a.read_bytes()
    a.write_bytes(b.read_bytes())
    code, out = _verify(runner, home)
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert len(fails) == 1 and "tile/0/000: replaced" in fails[0], out
    # the tile and its bundle swapped together: still one finding for the tile, not 256 edits
    ea, eb = led / entries_path(0), led / entries_path(1)
    dea = ea.read_bytes()
    ea.write_bytes(eb.read_bytes())
    code, out = _verify(runner, home)
    fails = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert code == 1 and "edited:" not in out, out
    assert len(fails) == 1 and "256 stored record(s)" in fails[0] and "tile/0/000" in fails[0]
    a.write_bytes(da)
    ea.write_bytes(dea)
    assert _verify(runner, home)[0] == 0
    # the current partial tile deleted: a finding (exit 1), not an error (exit 2)
    size = Log(home).size
    (led / tile_path(0, size // 256, size % 256)).unlink()
    code, out = _verify(runner, home)
    assert code == 1 and f"tile/0/002.p/{size % 256}: tile is missing" in out, out


def test_prove_size_receipt_uses_that_size(seed_store: Store, runner: CliRunner) -> None:
    home = seed_store.home
    w = open_witness(seed_store.home.parent / "w", "witness.example/w")
    cosign_log(Log(home), w)  # the witnessed checkpoint (633) is kept beside the key
    args = ["suppress", "--rule", "JJK-002", "--agent-id", "16009051", "--owner", "fraud-team"]
    args += ["--reason", "roster on paper", "--expires", "2999-12-31", "--home", str(home)]
    assert runner.invoke(app, args).exit_code == 0
    r = runner.invoke(
        app, ["ledger", "prove", "5", "--size", "633", "--receipt", "--home", str(home)]
    )
    assert r.exit_code == 0, r.output
    assert "\n633\n" in r.output and "\n634\n" not in r.output
    r = runner.invoke(app, ["ledger", "prove", "5", "--receipt", "--home", str(home)])
    assert "\n634\n" in r.output
    r = runner.invoke(
        app, ["ledger", "prove", "5", "--size", "100", "--receipt", "--home", str(home)]
    )
    assert (
        r.exit_code != 0
        and "no signed checkpoint of that size is kept (kept: 633, 634)" in r.output
    )


def test_monitor_command_follows_a_served_log(
    seed_store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    from jejak.ledger.serve import tiles_server

    home = seed_store.home
    srv = tiles_server(home / "ledger")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    args = ["ledger", "monitor", url_of(srv), "--vkey", str(home / "keys" / "ledger.vkey")]
    args += ["--state", str(tmp_path / "mon")]
    try:
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and r.output.startswith("first: jejak.example/operator size 633")
        sup = ["suppress", "--rule", "JJK-002", "--agent-id", "16009051", "--owner", "fraud-team"]
        sup += ["--reason", "roster on paper", "--expires", "2999-12-31", "--home", str(home)]
        assert runner.invoke(app, sup).exit_code == 0
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "grew 633 -> 634" in r.output, r.output
        # served tiles are only tlog-tiles paths
        import httpx

        assert httpx.get(url_of(srv) + "/appends.jsonl").status_code == 404
        assert httpx.get(url_of(srv) + "/appends.json").status_code == 404
        assert httpx.get(url_of(srv) + "/tile/0/000").status_code == 200
        _rebuild_edited(home, tmp_path)  # 634 leaves again, another tree
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and r.output.startswith("FORK: ") and r.output.count("\n") == 1
    finally:
        srv.shutdown()
        srv.server_close()
