"""Ingest commits every record; `jejak ledger verify` finds edited and deleted records and broken tiles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from jejak.audit.records import locate
from jejak.cli import app
from jejak.detect import load_alerts
from jejak.errors import ForkError
from jejak.home import Home
from jejak.ledger import merkle as M
from jejak.ledger.log import Log
from jejak.ledger.tiles import tile_path
from jejak.store import Store


def _q(p: Path) -> str:
    return "'" + str(p) + "'"


def _rewrite(path: Path, select: str) -> None:
    """Rewrite a stored Parquet file in place, keeping row order (an insider editing the store)."""
    tmp = path.with_name("tampered.parquet")
    src = f"read_parquet({_q(path)}, file_row_number=true)"
    duckdb.sql(
        f"COPY (SELECT * EXCLUDE (file_row_number) FROM ({select.format(src=src)}) ORDER BY file_row_number) "
        f"TO {_q(tmp)} (FORMAT parquet)"
    )
    os.replace(tmp, path)


def test_ingest_commits_every_record(seed_store: Store) -> None:
    log = Log(seed_store.home)
    rows = sum(sum(b["rows"].values()) for b in seed_store.manifest()["batches"])
    assert log.size == rows
    (append,) = log.appends()
    assert append["batch"] == "000001" and sum(f["count"] for f in append["files"]) == rows
    report = Home(seed_store.home).verify()
    assert report.ok, report.problems
    assert report.records == rows
    idx = Home(seed_store.home).leaf_of("provisioning", "EV0000170")
    where = locate(Log(seed_store.home), idx)
    assert where is not None and where["kind"] == "provisioning"
    M.verify_inclusion(
        log.leaf_hash(idx), idx, log.size, log.inclusion_proof(idx), log.checkpoint().root
    )


def test_verify_names_an_edited_record_a_deleted_one_and_a_truncated_tile(
    seed_store: Store, runner: CliRunner
) -> None:
    home = seed_store.home
    log = Log(home)
    old_checkpoint = home / "old-checkpoint"
    old_checkpoint.write_text(log.signed_checkpoint())
    log.append([b"case-action 1", b"case-action 2"], {"source": "cases"})

    edited_leaf = Home(seed_store.home).leaf_of("provisioning", "EV0000170")
    prov = home / "store" / locate(Log(home), edited_leaf)["file"]  # type: ignore[index]
    _rewrite(
        prov,
        "SELECT * REPLACE (CASE WHEN event_id = 'EV0000170' THEN price + 1 ELSE price END AS price) FROM {src}",
    )
    charges = next(f for f in seed_store.files("charges"))
    victim, _row = duckdb.sql(
        f"SELECT charge_id, file_row_number FROM read_parquet({_q(charges)}, file_row_number=true) "
        "ORDER BY file_row_number LIMIT 1 OFFSET 3"
    ).fetchall()[0]
    deleted_leaf = Home(seed_store.home).leaf_of("charges", victim)
    _rewrite(charges, f"SELECT * FROM {{src}} WHERE charge_id <> '{victim}'")
    size = log.size
    tile = (
        home / "ledger" / tile_path(0, size // 256, size % 256)
    )  # on the consistency proof's path
    tile.write_bytes(tile.read_bytes()[:100])

    result = runner.invoke(
        app, ["ledger", "verify", "--home", str(home), "--against", str(old_checkpoint)]
    )
    assert result.exit_code == 1, result.output
    text = result.output
    assert (
        f"edited: {prov}: provisioning record EV0000170" in text and f"leaf {edited_leaf}" in text
    )
    assert f"deleted: {charges}" in text and f"(leaf {deleted_leaf})" in text
    assert f"tile: {tile}: is 100 bytes, not {size % 256 * 32}" in text
    assert f"consistency: {old_checkpoint}" in text
    assert "FAILED" in text


def test_a_rewritten_log_is_not_consistent_with_an_older_checkpoint(
    seed_store: Store, runner: CliRunner
) -> None:
    """An insider with the signing key rebuilds the log with one entry changed: the old checkpoint catches it."""
    home = seed_store.home
    log = Log(home)
    old_checkpoint = home / "old-checkpoint"
    old_checkpoint.write_text(log.signed_checkpoint())
    entries = [log.entry(i) for i in range(log.size)]
    entries[5] = entries[5][:-1] + bytes([entries[5][-1] ^ 1])
    import shutil

    shutil.rmtree(home / "ledger")
    with pytest.raises(ForkError, match="signed the log at size 633 but the log's tiles are gone"):
        Log(home).append(entries)  # the key remembers what it signed: it will not start again
    (home / "keys" / "ledger.state").unlink()  # the insider deletes that memory too
    rebuilt = Log(home)
    rebuilt.append(entries)
    rebuilt.append([b"case-action 1"], {"source": "cases"})
    result = runner.invoke(
        app,
        ["ledger", "verify", "--log-only", "--home", str(home), "--against", str(old_checkpoint)],
    )
    assert result.exit_code == 1, result.output
    assert "consistency:" in result.output and "does not lead to the old root" in result.output


def test_erasing_a_subscriber_keeps_every_proof_valid(seed_store: Store) -> None:
    home = seed_store.home
    msisdn = "6281100000001"
    log = Log(home)
    root = log.checkpoint().root
    erasure = Home(home).erase(msisdn, by="dpo@example.test", basis="UU PDP art. 8")
    assert erasure.records > 0 and len(erasure.leaves) == erasure.records
    assert erasure.entries == [633]  # the signed erasure entry, appended before the deletion
    report = Home(seed_store.home).verify()
    assert report.ok, report.problems
    assert report.erased == erasure.records
    # the erased leaves still prove inclusion against the root they were committed under
    for idx in erasure.leaves:
        M.verify_inclusion(
            M.leaf_hash(log.entry(idx, 633)), idx, 633, log.inclusion_proof(idx, 633), root
        )
    # nothing in the ledger names the number, and its secret is gone from the store
    for path in (home / "ledger").rglob("*"):
        if path.is_file():
            assert msisdn.encode() not in path.read_bytes(), path
    assert Store(home).subscriber(msisdn)["provisioning"] == []
    # the lookup index of every rewritten file was rebuilt without the number, and still serves
    assert Store(home).indexed_files("provisioning", "msisdn")[0]
    for path in (home / "store" / "index").rglob("*.arrow"):
        assert msisdn.encode() not in path.read_bytes(), path
    for path in (home / "store" / "index").rglob("*.dir.npz"):
        with np.load(path) as d:
            assert msisdn not in set(d["low"]) | set(d["high"]), path
    assert Store(home).subscriber("6281100000052")["provisioning"]
    for f in seed_store.files("subjects"):
        assert not duckdb.sql(
            f"SELECT * FROM read_parquet({_q(f)}) WHERE msisdn = '{msisdn}'"
        ).fetchall()


def test_killed_between_the_manifest_and_the_log_the_log_catches_up(
    tmp_path: Path, seed_dir: Path
) -> None:
    home = tmp_path / "home"
    code = "import sys; from jejak import Home; Home(sys.argv[1]).ingest([sys.argv[2]])"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(home), str(seed_dir)],
        env={**os.environ, "JEJAK_CRASH_AT": "before-ledger"},
        capture_output=True,
    )
    assert proc.returncode == -9
    store = Home(home).store
    with store.writer():  # the next writer to open the store appends what is missing
        pass
    report = Home(store.home).verify()
    assert report.ok, report.problems
    assert report.records == Log(home).size > 0


def test_a_deleted_log_does_not_verify(seed_store: Store, runner: CliRunner) -> None:
    import shutil

    shutil.rmtree(seed_store.home / "ledger")
    result = runner.invoke(app, ["ledger", "verify", "--home", str(seed_store.home)])
    assert result.exit_code == 1, result.output
    assert "checkpoint:" in result.output and "missing" in result.output


def test_erase_from_the_command_line_forgets_the_subscriber_everywhere(
    seed_store: Store, runner: CliRunner
) -> None:
    home = str(seed_store.home)
    msisdn = "6281100000001"
    before = seed_store.status(integrity=False).kinds["provisioning"].rows
    own = len(seed_store.subscriber(msisdn)["provisioning"])
    assert own > 0
    assert runner.invoke(app, ["investigate", "--msisdn", msisdn, "--home", home]).exit_code == 0
    who = ["--by", "dpo@example.test", "--basis", "UU PDP art. 8"]
    refused = runner.invoke(app, ["ledger", "erase", "--msisdn", msisdn, *who, "--home", home])
    assert refused.exit_code == 2, refused.output
    unnamed = runner.invoke(app, ["ledger", "erase", "--msisdn", msisdn, "--yes", "--home", home])
    assert unnamed.exit_code == 2, unnamed.output
    args = ["ledger", "erase", "--msisdn", msisdn, *who, "--yes", "--home", home]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "erased" in result.output
    store = Store(seed_store.home)
    assert store.status(integrity=False).kinds["provisioning"].rows == before - own
    assert store.subscriber(msisdn)["provisioning"] == []
    for path in (store.home / "investigate").rglob("*"):
        if path.is_file():
            assert msisdn.encode() not in path.read_bytes(), path
    assert all(a["msisdn"] != msisdn for a in load_alerts(store))
    verified = runner.invoke(app, ["ledger", "verify", "--home", home])
    assert verified.exit_code == 0, verified.output
    gone = runner.invoke(app, ["investigate", "--msisdn", msisdn, "--home", home])
    assert gone.exit_code == 1, gone.output


def test_a_suppression_is_committed_and_an_edited_one_is_named(
    seed_store: Store, runner: CliRunner
) -> None:
    home = str(seed_store.home)
    size = Log(seed_store.home).size
    args = ["suppress", "--rule", "JJK-002", "--agent-id", "16009051", "--owner", "fraud-team"]
    args += ["--reason", "on-call roster kept on paper", "--expires", "2999-12-31", "--home", home]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert Log(seed_store.home).size == size + 1
    assert runner.invoke(app, ["ledger", "verify", "--home", home]).exit_code == 0
    path = seed_store.home / "alerts" / "suppressions.jsonl"
    path.write_text(path.read_text().replace("on paper", "nowhere"))
    edited = runner.invoke(app, ["ledger", "verify", "--home", home])
    assert edited.exit_code == 1, edited.output
    assert "suppressions.jsonl: line 1 does not match leaf" in edited.output
    path.write_text("")
    deleted = runner.invoke(app, ["ledger", "verify", "--home", home])
    assert deleted.exit_code == 1, deleted.output
    assert "logged line 1 is gone" in deleted.output
