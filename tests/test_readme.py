"""The README's commands run as written, from a fresh copy of the repository (issue 15).

The copy holds only what git tracks (no ``../shared``); ``jejak`` is the copy's sources run by
the installed environment's Python, as after ``make demo`` and ``source .venv/bin/activate``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_commands(text: str) -> list[tuple[str, int]]:
    """The lines of the README's first shell block after "What it does", comments dropped, each
    with the exit status its comment promises (``(exit 3)``; 0 unless said)."""
    section = text[text.index("## What it does") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README has no shell block under 'What it does'"
    out = []
    for line in block.group(1).splitlines():
        cmd, _, comment = line.partition("  #")
        if cmd.strip():
            said = re.search(r"\(exit (\d+)\)", comment)
            out.append((cmd.strip(), int(said.group(1)) if said else 0))
    return out


def _fresh_copy(tmp: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    copy = tmp / "jejak-repo"
    for name in files:
        if not name:
            continue
        src = REPO / name.decode()
        if src.is_file():
            (copy / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name.decode())
    return copy


@pytest.mark.timeout(900)
def test_every_readme_command_runs_from_a_fresh_copy(tmp_path: Path) -> None:
    copy = _fresh_copy(tmp_path)
    commands = readme_commands((copy / "README.md").read_text(encoding="utf-8"))
    assert any(c.startswith("jejak ingest") for c, _ in commands)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "jejak"
    wrapper.write_text(
        f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c "
        "'from jejak.cli import main; main()' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JEJAK_") and k != "PYTHONPATH"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(copy / "src")
    work = tmp_path / "work"
    work.mkdir()
    for cmd, status in commands:
        r = subprocess.run(
            ["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
        assert r.returncode == status, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        assert "Traceback" not in r.stderr, cmd
    assert (
        str(copy / "src")
        in subprocess.run(
            ["bash", "-c", "jejak seed-path"], cwd=work, env=env, capture_output=True, text=True
        ).stdout
    )
    assert (work / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (work / "alerts.csv").read_text(encoding="utf-8").startswith("alert_id,")
