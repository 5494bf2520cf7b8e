"""Issue 17, points 10-13: verify reads one snapshot, quotes in a home, two detects, a full disk."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from jejak import Home
from jejak.store import Store
from tests.hostile.conftest import lines, write_lines


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **extra}


def _one_new_row(export: Path, folder: Path) -> Path:
    rows = lines(export / "provisioning.csv")
    cells = rows[1].split(",")
    cells[0] = "EV9000001"
    folder.mkdir()
    return write_lines(folder / "provisioning.csv", [rows[0], ",".join(cells)])


def test_10_verify_says_append_pending_when_the_log_is_behind_the_store(
    seed_store: Store, export: Path, tmp_path: Path, jejak: Callable[..., Result]
) -> None:
    new = _one_new_row(export, tmp_path / "new")
    code = "import sys; from jejak import Home; Home(sys.argv[1]).ingest([sys.argv[2]])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(seed_store.home), str(new)],
        env=_env(JEJAK_CRASH_AT="before-ledger"),
        timeout=120,
    )
    assert done.returncode == -9  # killed after the manifest commit, before the log append
    shown = jejak("ledger", "verify", "--home", seed_store.home)
    assert shown.exit_code == 0, shown.output
    assert "append pending" in shown.output and "000002" in shown.output
    assert "FAIL" not in shown.output
    # the next write makes the append; then nothing is pending any more
    Home(seed_store.home).store.ingest([new])
    shown = jejak("ledger", "verify", "--home", seed_store.home)
    assert shown.exit_code == 0 and "pending" not in shown.output, shown.output


def test_10_a_file_missing_from_the_log_before_a_logged_batch_is_still_a_failure(
    seed_store: Store, export: Path, tmp_path: Path
) -> None:
    from jejak import fsio

    Home(seed_store.home).store.ingest([_one_new_row(export, tmp_path / "new")])
    manifest = seed_store.manifest()
    first = manifest["batches"][0]
    rel = first["files"]["provisioning"][0]
    extra = rel.replace("-0000.parquet", "-0001.parquet")
    shutil.copy(seed_store.root / rel, seed_store.root / extra)
    first["files"]["provisioning"].append(extra)
    fsio.write_json_atomic(seed_store.manifest_path, manifest)  # a stored file nobody logged
    report = Home(seed_store.home).verify()
    assert report.pending == [] and [p.what for p in report.problems] == ["unlogged"]


def test_11_a_home_with_a_quote_works_end_to_end(
    seed_dir: Path, tmp_path: Path, jejak: Callable[..., Result]
) -> None:
    home = tmp_path / "operator's home"
    done = jejak("ingest", seed_dir, "--home", home)
    assert done.exit_code == 0, done.output
    done = jejak("ledger", "verify", "--home", home)
    assert done.exit_code == 0, done.output
    assert jejak("detect", "--home", home).exit_code == 0


def test_12_two_detects_writing_alerts_at_once_do_not_share_a_temporary_file(
    seed_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detect B saves its alerts while detect A is between writing and renaming its own."""
    from jejak.detect import alerts as A

    real = A.pq.write_table
    nested: list[bool] = []

    def write_then_let_the_other_run_finish(table, where, *args, **kwargs):  # type: ignore[no-untyped-def]
        real(table, where, *args, **kwargs)
        if not nested:
            nested.append(True)
            A.save_alerts(seed_store, [], {"run": "B"})

    monkeypatch.setattr(A.pq, "write_table", write_then_let_the_other_run_finish)
    A.save_alerts(seed_store, [], {"run": "A"})
    assert (A.alerts_dir(seed_store) / A.ALERTS_FILE).exists()
    assert not list(A.alerts_dir(seed_store).glob("*.tmp"))


def test_13_a_full_disk_is_named_and_nothing_is_committed(
    seed_dir: Path, tmp_path: Path, jejak: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC injected where the batch is flushed to disk (see the tmpfs test for a real one)."""
    from jejak import fsio

    home = tmp_path / "home"

    def full(root: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root))

    monkeypatch.setattr(fsio, "fsync_tree", full)
    done = jejak("ingest", seed_dir, "--home", home)
    assert done.exit_code == 1, done.output
    assert "disk full at" in done.output and "nothing was committed" in done.output
    assert "internal error" not in done.output
    assert not Home(home).store.exists
    monkeypatch.undo()
    assert jejak("ingest", seed_dir, "--home", home).exit_code == 0


def test_13_a_full_disk_inside_duckdb_is_named(
    seed_dir: Path, tmp_path: Path, jejak: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from jejak import ingest as I

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise duckdb.IOException(
            'IO Error: Could not write file "x.parquet": No space left on device'
        )

    monkeypatch.setattr(I.Ingest, "_write_subjects", full)
    done = jejak("ingest", seed_dir, "--home", tmp_path / "home")
    assert done.exit_code == 1 and "disk full at" in done.output, done.output
    assert "nothing was committed" in done.output


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 600 KiB tmpfs (needs the right to mount: skipped without it)."""
    where = tmp_path / "small"
    where.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_13_a_real_full_disk_is_named_and_the_home_stays_usable(
    small_disk: Path, export: Path, jejak: Callable[..., Result]
) -> None:
    rows = lines(export / "provisioning.csv")
    big = [rows[0]] + [
        ",".join([f"EVX{i:07d}", *r.split(",")[1:]]) for i in range(40) for r in rows[1:]
    ]
    write_lines(export / "provisioning.csv", big)  # ~7,000 rows: more than the disk holds
    home = small_disk / "home"
    done = jejak("ingest", export, "--home", home)
    assert done.exit_code == 1, done.output
    assert "disk full at" in done.output and "internal error" not in done.output, done.output
    store = Home(home).store
    if "nothing was committed" in done.output:
        assert not store.exists or not store.manifest()["batches"]
    else:  # full only in the log's append: the batch is there, its append pending
        assert "append is pending" in done.output
    assert jejak("ledger", "verify", "--home", home).exit_code == 0
