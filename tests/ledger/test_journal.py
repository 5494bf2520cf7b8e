"""The append journal (ledger/appends.jsonl): one line per append, crash recovery, older homes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cli import app
from jejak.errors import LedgerError
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.state import load_state
from jejak.ledger.verify import verify_log
from jejak.store import Store

ORIGIN = "example.com/test-log"


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, start + n)]


def _journal(log: Log) -> Path:
    return log.dir / "appends.jsonl"


def _to_previous_release(log: Log) -> list[dict[str, object]]:
    """Rewrite the journal as the previous release kept it: one ``appends.json`` document."""
    records = [json.loads(x) for x in _journal(log).read_text().splitlines()]
    doc = {"format": 1, "appends": records}
    (log.dir / "appends.json").write_text(json.dumps(doc, indent=1, sort_keys=True))
    _journal(log).unlink()
    return records


def test_each_append_adds_one_line_and_rewrites_nothing(fresh_log: Log) -> None:
    fresh_log.append(_entries(3), {"source": "cases", "outbox": [[1, 3]]})
    before = _journal(fresh_log).read_bytes()
    assert fresh_log.append(_entries(2, 3), {"source": "triage"}) == (3, 2)
    after = _journal(fresh_log).read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2
    last = after[len(before) :]
    assert last.startswith(b'{"first":3,"count":2,"at":"') and last.endswith(
        b',"source":"triage"}\n'
    )
    got = fresh_log.appends()
    assert [(a["first"], a["count"], a.get("source")) for a in got] == [
        (0, 3, "cases"),
        (3, 2, "triage"),
    ]
    assert got[0]["outbox"] == [[1, 3]] and got[1]["at"].endswith("Z")


def test_a_record_may_not_set_what_the_log_sets(fresh_log: Log) -> None:
    with pytest.raises(LedgerError, match="may not set 'first'"):
        fresh_log.append(_entries(1), {"first": 7})
    assert fresh_log.size == 0 and fresh_log.appends() == []


def test_lines_beyond_the_checkpoint_are_ignored_then_cut_by_the_next_writer(
    fresh_log: Log,
) -> None:
    fresh_log.append(_entries(300), {"source": "a"})
    committed = _journal(fresh_log).read_bytes()
    # an append that crashed after its line and some tiles, then one torn line
    stale = b'{"first":300,"count":600,"at":"2026-12-04T00:00:00Z","source":"b"}\n'
    _journal(fresh_log).write_bytes(committed + stale + b'{"first":900,"cou')
    (fresh_log.dir / "tile/0/001").write_bytes(b"junk" * 2048)
    (fresh_log.dir / "tile/0/002.p").mkdir(parents=True)
    (fresh_log.dir / "tile/0/002.p/132").write_bytes(b"junk")
    assert [a["source"] for a in fresh_log.appends()] == ["a"]
    assert fresh_log.pending() == (300, -1)  # the torn line does not say how far it went
    fresh_log.append(_entries(10, 300), {"source": "c"})
    assert not (fresh_log.dir / "tile/0/001").exists()
    assert not (fresh_log.dir / "tile/0/002.p/132").exists()
    assert [a["source"] for a in fresh_log.appends()] == ["a", "c"]
    assert _journal(fresh_log).read_bytes().startswith(committed + b'{"first":300,"count":10,')
    assert fresh_log.pending() is None
    tree = M.Tree([M.leaf_hash(e) for e in _entries(310)])
    assert fresh_log.checkpoint().root == tree.root() and verify_log(fresh_log)[0].ok


def test_a_later_line_replaces_an_earlier_one_it_overlaps(fresh_log: Log) -> None:
    """A stale line the recovery never saw (lost marker): the later append wins, as before."""
    fresh_log.append(_entries(5), {"source": "a"})
    fresh_log.append(_entries(5, 5), {"source": "b"})
    lines = _journal(fresh_log).read_text().splitlines()
    stale = '{"first":5,"count":9,"at":"2026-12-04T00:00:00Z","source":"lost"}'
    _journal(fresh_log).write_text("\n".join([lines[0], stale, lines[1]]) + "\n")
    assert [a["source"] for a in Log(fresh_log.home, origin=ORIGIN).appends()] == ["a", "b"]


def test_an_edited_line_is_read_again_by_the_same_log(fresh_log: Log) -> None:
    fresh_log.append(_entries(2), {"source": "a"})
    fresh_log.append(_entries(2, 2), {"source": "b"})
    assert fresh_log.appends()[0]["source"] == "a"
    text = _journal(fresh_log).read_text()
    _journal(fresh_log).write_text(text.replace('"source":"a"', '"source":"x"'))
    assert [a["source"] for a in fresh_log.appends()] == ["x", "b"]
    _journal(fresh_log).write_text(text.replace('"source":"a"}', '"source":"a"'))
    with pytest.raises(LedgerError, match=r"appends.jsonl:1: cannot read"):
        fresh_log.appends()


def test_an_older_homes_appends_json_is_read_then_moved_into_the_journal(
    fresh_log: Log,
) -> None:
    fresh_log.append(_entries(3), {"source": "a", "batch": "b1"})
    fresh_log.append(_entries(4, 3), {"source": "b"})
    records = _to_previous_release(fresh_log)
    (fresh_log.dir / "pending").write_text("7 20\n")  # the previous release's crash marker
    (fresh_log.dir / "tile/0/000.p/15").write_bytes(b"junk")
    reader = Log(fresh_log.home, origin=ORIGIN)
    assert reader.appends() == records
    assert reader.pending() == (7, 20)
    reader.append(_entries(1, 7), {"source": "c"})
    assert not (fresh_log.dir / "appends.json").exists()
    assert not (fresh_log.dir / "pending").exists()
    assert not (fresh_log.dir / "tile/0/000.p/15").exists()
    got = Log(fresh_log.home, origin=ORIGIN).appends()
    assert got[:2] == records and got[2]["source"] == "c" and got[2]["first"] == 7
    assert verify_log(reader)[0].ok


def test_a_migration_cut_short_reads_as_one_journal(fresh_log: Log) -> None:
    fresh_log.append(_entries(3), {"source": "a"})
    fresh_log.append(_entries(4, 3), {"source": "b"})
    journal = _journal(fresh_log).read_bytes()
    _to_previous_release(fresh_log)
    _journal(fresh_log).write_bytes(journal)  # the journal was written, the old file not yet gone
    assert [a["source"] for a in fresh_log.appends()] == ["a", "b"]
    fresh_log.append(_entries(1, 7), {"source": "c"})
    assert not (fresh_log.dir / "appends.json").exists()
    assert [a["source"] for a in fresh_log.appends()] == ["a", "b", "c"]


APPENDER = """
import sys
from jejak.ledger.log import Log
log = Log(sys.argv[1], origin="example.com/test-log")
log.append([b"crash %d" % i for i in range(log.size, log.size + int(sys.argv[2]))], {"source": "t"})
"""


@pytest.mark.parametrize(
    ("point", "count"),
    [
        ("ledger-after-journal", 10),
        ("ledger-before-checkpoint", 10),
        ("ledger-before-checkpoint", 70_000),  # many files: one syncfs, worker processes
        ("ledger-after-checkpoint", 10),
    ],
)
def test_kill_9_at_each_step_leaves_a_log_and_journal_that_agree(
    tmp_path: Path, point: str, count: int
) -> None:
    home = tmp_path / "home"
    log = Log(home, origin=ORIGIN)
    log.append([b"crash %d" % i for i in range(300)], {"source": "t"})
    signed = load_state(home).signed
    done = subprocess.run(
        [sys.executable, "-c", APPENDER, str(home), str(count)],
        env={**os.environ, "JEJAK_CRASH_AT": point},
        timeout=120,
    )
    assert done.returncode == -9
    log = Log(home, origin=ORIGIN)
    committed = point == "ledger-after-checkpoint"
    size = 300 + count if committed else 300
    assert log.size == size and verify_log(log)[0].ok
    assert [(a["first"], a["count"]) for a in log.appends()] == [(0, 300)] + (
        [(300, count)] if committed else []
    )
    # the key's state may lag one append behind the checkpoint, never run ahead of it
    assert load_state(home).signed == signed
    assert (log.pending() is not None) == (not committed)
    log.append([b"crash %d" % i for i in range(size, size + 5)], {"source": "t"})
    leaves = [M.leaf_hash(b"crash %d" % i) for i in range(size + 5)]
    assert log.checkpoint().root == M.root_of(leaves) and verify_log(log)[0].ok
    assert sum(a["count"] for a in log.appends()) == size + 5
    assert load_state(home).signed == log.signed_checkpoint()


def test_a_home_of_the_previous_release_verifies_before_and_after_a_write(
    seed_store: Store, runner: CliRunner
) -> None:
    home = seed_store.home
    log = Log(home)
    records = _to_previous_release(log)
    r = runner.invoke(app, ["ledger", "verify", "--home", str(home)])
    assert r.exit_code == 0, r.output
    assert not (home / "ledger" / "appends.jsonl").exists()  # verify writes nothing
    sup = ["suppress", "--rule", "JJK-002", "--agent-id", "16009051", "--owner", "fraud-team"]
    sup += ["--reason", "roster on paper", "--expires", "2999-12-31", "--home", str(home)]
    r = runner.invoke(app, sup)  # a write: its append moves the old file into the journal
    assert r.exit_code == 0, r.output
    assert not (home / "ledger" / "appends.json").exists()
    appends = Log(home).appends()
    assert appends[:-1] == records and appends[-1]["source"] == "suppression"
    r = runner.invoke(app, ["ledger", "verify", "--home", str(home)])
    assert r.exit_code == 0, r.output
