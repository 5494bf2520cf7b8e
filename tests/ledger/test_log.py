"""The log writer: appends, proofs from tiles, crash recovery (kill -9), receipts and witnesses."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jejak.errors import LedgerError, VerificationError
from jejak.ledger import merkle as M
from jejak.ledger.log import Hashed, Log
from jejak.ledger.note import Signer
from jejak.ledger.publish import cosign_log
from jejak.ledger.receipt import make_receipt, verify_receipt
from jejak.ledger.verify import verify_log
from jejak.ledger.witness import ConflictError, Witness


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, start + n)]


def test_appends_in_uneven_batches_give_rfc6962_roots_and_proofs(fresh_log: Log) -> None:
    entries = _entries(70_000)
    tree = M.Tree([M.leaf_hash(e) for e in entries])
    sizes = []
    for lo, hi in ((0, 1), (1, 255), (255, 256), (256, 700), (700, 65_536), (65_536, 70_000)):
        assert fresh_log.append(entries[lo:hi]) == (lo, hi - lo)
        assert fresh_log.checkpoint().root == tree.root(hi)
        sizes.append(hi)
    for i in (0, 1, 255, 256, 65_535, 65_536, 69_999):
        M.verify_inclusion(tree.levels[0][i], i, 70_000, fresh_log.inclusion_proof(i), tree.root())
        assert fresh_log.entry(i) == entries[i]
    for old in sizes[:-1]:
        proof = fresh_log.consistency_proof(old)
        M.verify_consistency(old, 70_000, proof, tree.root(old), tree.root())
        assert fresh_log.inclusion_proof(old - 1, old) == M.inclusion_proof(
            old - 1, old, tree.range_hash
        )
    report, _ = verify_log(fresh_log)
    assert report.ok, report.problems
    assert (fresh_log.dir / "tile/2/000.p/1").exists()


def _files(log: Log) -> dict[str, bytes]:
    return {
        str(p.relative_to(log.dir)): p.read_bytes()
        for p in sorted((log.dir / "tile").rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("cuts", [(11,), (255, 256, 300), (66_000,), (256, 65_536, 65_537)])
def test_an_append_in_chunks_writes_the_same_log_as_one_append(
    tmp_path: Path, cuts: tuple[int, ...]
) -> None:
    """Ingest streams a big batch in chunks (memory bounded by a chunk): same tiles, one checkpoint."""
    entries = _entries(70_000)
    whole = Log(tmp_path / "whole", origin="example.com/test-log")
    whole.append(entries[:10])
    whole.append(entries[10:])
    chunked = Log(tmp_path / "chunked", origin="example.com/test-log")
    chunked.append(entries[:10])
    bounds = [10, *cuts, 70_000]
    with chunked.writer() as w:
        w.append_chunks((entries[a:b] for a, b in itertools.pairwise(bounds)), 69_990)
    assert chunked.checkpoint().root == whole.checkpoint().root
    assert _files(chunked) == _files(whole)
    report, _ = verify_log(chunked)
    assert report.ok, report.problems
    # the same with leaf hashes computed by the caller (as ingest does, in DuckDB)
    hashed = Log(tmp_path / "hashed", origin="example.com/test-log")
    hashed.append(entries[:10])
    with hashed.writer() as w:
        w.append_chunks(
            (
                Hashed(entries[a:b], b"".join(M.leaf_hash(e) for e in entries[a:b]))
                for a, b in itertools.pairwise(bounds)
            ),
            69_990,
        )
    assert _files(hashed) == _files(whole)


def test_leaf_hashes_that_do_not_match_the_entries_are_refused(fresh_log: Log) -> None:
    with pytest.raises(LedgerError, match="leaf hashes do not match"), fresh_log.writer() as w:
        w.append_chunks([Hashed(_entries(3), bytes(64))], 3)
    assert fresh_log.size == 0


def test_an_append_that_brings_fewer_entries_than_announced_commits_nothing(
    fresh_log: Log,
) -> None:
    fresh_log.append(_entries(300))
    with (
        pytest.raises(LedgerError, match="announced 1000 entries and brought 600"),
        fresh_log.writer() as w,
    ):
        w.append_chunks([_entries(600, 300)], 1000)
    assert fresh_log.size == 300
    fresh_log.append(_entries(5, 300))
    report, _ = verify_log(fresh_log)
    assert report.ok, report.problems


def test_keys_are_private_and_the_vkey_is_published(fresh_log: Log) -> None:
    fresh_log.append(_entries(3))
    key = fresh_log.home / "keys" / "ledger.key"
    assert key.stat().st_mode & 0o777 == 0o600
    vkey = (fresh_log.home / "keys" / "ledger.vkey").read_text().strip()
    assert vkey == str(fresh_log.signer.verifier()) and vkey.startswith("example.com/test-log+")
    with pytest.raises(LedgerError):
        Log(fresh_log.home, origin="other.example/log").signer  # noqa: B018


def test_a_crashed_append_is_rolled_back_and_overwritten(fresh_log: Log) -> None:
    fresh_log.append(_entries(300))
    # a crashed append: the pending marker and tiles beyond the checkpoint
    (fresh_log.dir / "pending").write_text("300 900\n")
    (fresh_log.dir / "tile/0/001").write_bytes(b"junk" * 2048)
    (fresh_log.dir / "tile/0/002.p").mkdir(parents=True)
    (fresh_log.dir / "tile/0/002.p/132").write_bytes(b"junk")
    (fresh_log.dir / "tile/0/001.p/200").write_bytes(b"junk")
    fresh_log.append(_entries(10, 300))
    assert not (fresh_log.dir / "pending").exists()
    assert not (fresh_log.dir / "tile/0/001").exists()
    assert not (fresh_log.dir / "tile/0/002.p/132").exists()
    assert not (fresh_log.dir / "tile/0/001.p/200").exists()
    assert (fresh_log.dir / "tile/0/001.p/44").exists()  # committed partial tiles stay
    tree = M.Tree([M.leaf_hash(e) for e in _entries(310)])
    assert fresh_log.checkpoint().root == tree.root()
    assert verify_log(fresh_log)[0].ok


def test_edge_tiles_that_disagree_with_the_checkpoint_stop_the_writer(fresh_log: Log) -> None:
    fresh_log.append(_entries(300))
    (fresh_log.dir / "tile/0/001.p/44").write_bytes(bytes(44 * 32))
    with pytest.raises(VerificationError, match="do not match the checkpoint"):
        fresh_log.append(_entries(1))


APPENDER = """
import sys
from jejak.ledger.log import Log
log = Log(sys.argv[1], origin="example.com/test-log")
n = int(sys.argv[2])
for b in range(1000):
    base = log.size
    log.append([b"crash %d" % i for i in range(base, base + n)])
    print(log.size, flush=True)
"""


@pytest.mark.timeout(180)
def test_kill_9_at_a_random_moment_leaves_a_log_that_verifies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rng = random.Random()
    crashed_mid_append = 0
    n = 60_000
    for attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(home), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # one batch is in: the process now spends its time appending
        time.sleep(rng.random() * 0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        log = Log(home, origin="example.com/test-log")
        crashed_mid_append += log.pending() is not None
        report, cp = verify_log(log)
        assert report.ok, (attempt, report.problems)
        size = cp.size if cp else 0
        # the journal holds one line per committed append, and only those
        ends = [0] + [a["first"] + a["count"] for a in log.appends()]
        assert [a["first"] for a in log.appends()] == ends[:-1] and ends[-1] == size
        leaves = [M.leaf_hash(b"crash %d" % i) for i in range(size + 1000)]
        assert log.root() == M.root_of(leaves[:size])
        first, count = log.append([b"crash %d" % i for i in range(size, size + 1000)])
        assert (first, count) == (size, 1000)
        assert log.pending() is None
        assert verify_log(log)[0].ok
        assert log.checkpoint().root == M.root_of(leaves)
    print(f"{crashed_mid_append} of 3 kills landed inside an append")


def test_one_writer_at_a_time(fresh_log: Log) -> None:
    import fcntl

    fresh_log.append(_entries(1))
    fd = os.open(fresh_log.dir / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    code = (
        "import sys; from jejak.ledger.log import Log; "
        "Log(sys.argv[1], origin='example.com/test-log').append([b'x']); print('done')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(fresh_log.home)], stdout=subprocess.PIPE
    )
    time.sleep(1.0)
    assert proc.poll() is None, "the second writer must wait for the lock"
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    assert proc.communicate(timeout=30)[0].strip() == b"done"
    assert fresh_log.size == 2


def test_a_receipt_verifies_offline_and_a_tampered_one_fails(fresh_log: Log) -> None:
    fresh_log.append(_entries(1000))
    receipt = make_receipt(fresh_log, 777).format()
    key = fresh_log.verifier
    r, cp = verify_receipt(receipt, key)
    assert r.extra == b"entry 777" and cp.size == 1000
    with pytest.raises(VerificationError):
        verify_receipt(receipt, key, entry=b"entry 778")
    lines = receipt.split("\n")
    lines[3] = lines[3][:-3] + ("A" if lines[3][-3] != "A" else "B") + lines[3][-2:]
    with pytest.raises(VerificationError):
        verify_receipt("\n".join(lines), key)
    with pytest.raises(VerificationError):
        verify_receipt(receipt, Signer.generate("example.com/test-log").verifier())


def test_a_witness_cosigns_only_consistent_growth(fresh_log: Log, tmp_path: Path) -> None:
    w = Witness(Signer.generate("witness.example"), tmp_path / "witness")
    fresh_log.append(_entries(10))
    first = cosign_log(fresh_log, w)  # from 0: empty proof accepted (tlog-witness)
    assert first.count("\u2014 ") == 2
    fresh_log.append(_entries(20, 10))
    cosigned = cosign_log(fresh_log, w)
    from jejak.ledger.checkpoint import open_checkpoint

    _, opened = open_checkpoint(
        cosigned, fresh_log.verifier, origin=fresh_log.origin, witnesses=[w.verifier()]
    )
    assert len(opened.verified) == 2
    assert fresh_log.signed_checkpoint() == cosigned  # published for mirrors
    fresh_log.append(_entries(1, 30))  # the writer still opens a cosigned checkpoint
    assert fresh_log.size == 31
    # a stale old size is a conflict; a forked log (same origin and key, other entries) is refused
    with pytest.raises(ConflictError):
        w.add_checkpoint(fresh_log.signed_checkpoint(), fresh_log.verifier, old_size=10, proof=[])
    cosign_log(fresh_log, w)
    fork = Log(tmp_path / "fork", origin=fresh_log.origin)
    (tmp_path / "fork" / "keys").mkdir(parents=True)
    for name in ("ledger.key", "ledger.vkey"):
        (tmp_path / "fork" / "keys" / name).write_bytes(
            (fresh_log.home / "keys" / name).read_bytes()
        )
    fork.append(_entries(10) + [b"forged"] * 25)
    with pytest.raises(VerificationError):
        w.add_checkpoint(
            fork.signed_checkpoint(), fork.verifier, old_size=31, proof=fork.consistency_proof(31)
        )
