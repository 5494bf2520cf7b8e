"""The whole job through the ``jejak`` command, as an analyst runs it on a simulated operator:

simulate -> ingest -> detect -> evaluate -> investigate -> ledger verify.

Each step's exit status is asserted with the output as the message, so a
failure shows what the user saw.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jejak.cli import app


def run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_from_a_simulated_export_to_a_verified_verdict(runner: CliRunner, tmp_path: Path) -> None:
    export, home = tmp_path / "export", str(tmp_path / "home")
    run(runner, "simulate", "--out", str(export), "--subscribers", "300", "--days", "14")
    truth = [json.loads(line) for line in (export / "truth.jsonl").read_text().splitlines()]
    seed = next(c for c in truth if c["kind"] == "seed-2016")

    run(runner, "ingest", str(export), "--home", home)
    alerts = [
        json.loads(line)
        for line in run(runner, "detect", "--home", home, "--format", "jsonl").splitlines()
    ]
    seed_events = set(seed["record_ids"]["provisioning"])
    assert seed_events <= {i for a in alerts for i in a["record_ids"]}

    report = run(runner, "evaluate", str(export / "truth.jsonl"), "--home", home)
    assert "| **all** | | | **100.0%**" in report, report

    victim = seed["msisdns"][0]
    out = json.loads(
        run(runner, "investigate", "--msisdn", victim, "--home", home, "--format", "json")
    )
    assert out["verdict"]["hypothesis"] == seed["verdict"]["hypothesis"] == "credential_misuse"
    assert out["verdict"]["operator_liable"] is True
    assert out["remedy"]["unbar"] is True

    run(runner, "ledger", "verify", "--home", home)
