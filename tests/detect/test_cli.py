"""The detection commands through typer's runner, as the lead registers them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jejak.detect import cli as detect_cli
from jejak.errors import JejakError
from jejak.store import Store

app = typer.Typer()
for name in ("detect", "evaluate", "suppress", "rules"):
    app.command(name)(getattr(detect_cli, name))


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        if isinstance(result.exception, JejakError):
            return result.exception.exit_code, str(result.exception)
        raise result.exception
    return result.exit_code, result.output


def test_detect_jsonl(runner: CliRunner, seed_store: Store) -> None:
    code, out = run(runner, "detect", "--home", str(seed_store.home), "--format", "jsonl")
    assert code == 0, out
    alerts = [json.loads(line) for line in out.splitlines()]
    assert alerts and {a["rule"] for a in alerts} >= {"JJK-007", "JJK-014"}
    for a in alerts:
        assert set(a) >= {
            "alert_id",
            "rule",
            "severity",
            "at",
            "agent_id",
            "msisdn",
            "outlet_id",
            "record_ids",
            "explanation",
        }


def test_detect_table_and_min_severity(runner: CliRunner, seed_store: Store) -> None:
    code, out = run(runner, "detect", "--home", str(seed_store.home), "--min-severity", "critical")
    assert code == 0, out
    assert "JJK-014" in out and "JJK-007" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "'xml' is not one of 'table'"),
        (["--min-severity", "huge"], "'huge' is not one of 'low'"),
        (["--rule", "JJK-404"], "no rule 'JJK-404' (known: JJK-001"),
    ],
)
def test_detect_usage_errors(
    runner: CliRunner, seed_store: Store, args: list[str], message: str
) -> None:
    code, out = run(runner, "detect", "--home", str(seed_store.home), *args)
    assert code != 0 and message in out, out


def test_suppress_then_detect(runner: CliRunner, seed_store: Store) -> None:
    code, out = run(
        runner,
        "suppress",
        "--home",
        str(seed_store.home),
        "--rule",
        "JJK-014",
        "--msisdn",
        "6281100000001",
        "--owner",
        "legal",
        "--reason",
        "bar lifted by hand",
        "--expires",
        "2999-01-01",
    )
    assert code == 0 and out.startswith("SUP-"), out
    code, out = run(runner, "detect", "--home", str(seed_store.home), "--min-severity", "critical")
    assert "suppressed" in out, out


def test_rules_lists_the_pack(runner: CliRunner) -> None:
    code, out = run(runner, "rules", "--format", "jsonl")
    assert code == 0, out
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert "JJK-001" in ids and len(ids) >= 15


def test_evaluate_markdown(runner: CliRunner, seed_store: Store, tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    truth.write_text(
        json.dumps(
            {
                "kind": "seed-2016",
                "hard_negative": False,
                "msisdns": [],
                "agent_id": None,
                "record_ids": {"line_actions": ["LA000001"]},
            }
        )
        + "\n"
    )
    code, out = run(runner, "evaluate", str(truth), "--home", str(seed_store.home))
    assert code == 0, out
    assert "| seed-2016 | 1 | 1 | 100.0% |" in out
