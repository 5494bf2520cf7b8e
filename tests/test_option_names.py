"""The output convention and the option names, where they were still different (issue 15): the
ledger's answers take ``--format table|json`` and ``--out`` like every other command (``--json``
still works, hidden), and ``jejak suppress`` says ``--agent``/``--outlet`` like ``jejak alerts``
(``--agent-id``/``--outlet-id`` still work, hidden)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cli import app
from jejak.detect.suppress import load_suppressions
from jejak.ledger.log import Log
from jejak.store import Store

PLAIN = re.compile(r"\x1b\[[0-9;]*m")


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == code, r.output
    return r.output


def help_of(runner: CliRunner, *command: str) -> str:
    return PLAIN.sub("", run(runner, *command, "--help"))


@pytest.mark.parametrize(
    "command",
    [
        ("ledger", "status"),
        ("ledger", "prove", "--record", "provisioning:EV0000170"),
        ("ledger", "verify", "--log-only"),
    ],
)
def test_ledger_answers_follow_the_output_convention(
    seed_store: Store, runner: CliRunner, tmp_path: Path, command: tuple[str, ...]
) -> None:
    home = ["--home", str(seed_store.home)]
    as_json = json.loads(run(runner, *command, *home, "--format", "json"))
    assert as_json == json.loads(run(runner, *command, *home, "--json"))  # the old spelling
    text = run(runner, *command, *home, "--format", "table")
    assert not text.lstrip().startswith("{")
    # --out: the format from the extension, the file written, its path printed
    out = tmp_path / "answer.json"
    assert run(runner, *command, *home, "--out", str(out)).strip() == str(out)
    assert json.loads(out.read_text()) == as_json
    txt = tmp_path / "answer.txt"
    run(runner, *command, *home, "--out", str(txt))
    assert txt.read_text() == text
    # help names the choices and hides the old spelling
    shown = help_of(runner, *command[:2])
    assert "table|json" in shown and "--json" not in shown
    bad = run(runner, *command, *home, "--format", "csv", code=2)
    assert "'csv' is not one of 'table', 'json'" in PLAIN.sub("", bad)


def test_the_ledger_status_says_its_size(seed_store: Store, runner: CliRunner) -> None:
    data = json.loads(
        run(runner, "ledger", "status", "--home", str(seed_store.home), "--format", "json")
    )
    assert data["size"] == Log(seed_store.home).size


def test_a_receipt_is_its_own_format(seed_store: Store, runner: CliRunner, tmp_path: Path) -> None:
    home = ["--home", str(seed_store.home)]
    out = tmp_path / "receipt.proof"
    assert run(runner, "ledger", "prove", "5", "--receipt", "--out", str(out), *home).strip() == (
        str(out)
    )
    assert out.read_text().startswith("c2sp.org/tlog-proof@v1\nextra ")
    error = run(runner, "ledger", "prove", "5", "--receipt", "--format", "json", *home, code=2)
    assert "--receipt: a receipt is a C2SP tlog-proof text" in error


SUPPRESS = ["suppress", "--rule", "JJK-002", "--owner", "fraud-team", "--reason", "pilot"]


def test_suppress_says_agent_and_outlet(seed_store: Store, runner: CliRunner) -> None:
    home = ["--home", str(seed_store.home), "--expires", "2099-01-01"]
    out = run(runner, *SUPPRESS, "--agent", "16009051", "--outlet", "SRG", *home)
    assert '"agent_id": "16009051"' in out and '"outlet_id": "SRG"' in out
    out = run(runner, *SUPPRESS, "--agent-id", "16009045", "--outlet-id", "SRG", *home)
    assert '"agent_id": "16009045"' in out  # the old spellings still work
    matches = [s.match for s in load_suppressions(seed_store)]
    assert matches == [
        {"agent_id": "16009051", "outlet_id": "SRG"},
        {"agent_id": "16009045", "outlet_id": "SRG"},
    ]
    shown = help_of(runner, "suppress")
    assert "--agent " in shown and "--outlet " in shown
    assert "--agent-id" not in shown and "--outlet-id" not in shown
    error = run(runner, *SUPPRESS, "--agent", "1", "--agent-id", "2", *home, code=2)
    assert "--agent: given twice ('1', '2'); give it once" in error
    error = run(runner, *SUPPRESS, *home, code=2)
    assert "give --agent, --msisdn, --outlet or --record-id" in error
