"""The case commands through the CLI runner: what the user sees, with its exit status."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from jejak.cli import app
from jejak.store import Store


def test_the_seed_case_through_the_cli(seed_store: Store, runner: CliRunner, monkeypatch) -> None:
    monkeypatch.delenv("JEJAK_DATABASE_URL", raising=False)
    home = str(seed_store.home)
    r = runner.invoke(app, ["users", "add", "rina", "--role", "cs", "--token", "--home", home])
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    r = runner.invoke(app, ["users", "add", "rina", "--role", "cs", "--home", home])
    assert r.exit_code == 2 and "exists already" in r.output
    r = runner.invoke(
        app,
        [
            "case",
            "open",
            "--complaint",
            "TCK-2017-0206-0001",
            "--format",
            "json",
            "--home",
            home,
            "--at",
            "2017-02-06T10:30:00+07:00",
        ],
    )
    assert r.exit_code == 0, r.output
    case = json.loads(r.output)
    assert case["decision_due"] == "2017-02-28T23:59:59+07:00"

    r = runner.invoke(
        app,
        [
            "can-bar",
            "--msisdn",
            "6281100000001",
            "--amount",
            "500000",
            "--at",
            "2017-03-10T08:00:00+07:00",
            "--format",
            "json",
            "--home",
            home,
        ],
    )
    assert r.exit_code == 3, r.output
    assert json.loads(r.output)["case_ids"] == [case["case_id"]]
    r = runner.invoke(
        app,
        [
            "can-bar",
            "--msisdn",
            "6281100000099",
            "--amount",
            "500000",
            "--format",
            "json",
            "--home",
            home,
        ],
    )
    assert r.exit_code == 0, r.output

    r = runner.invoke(
        app,
        [
            "case",
            "act",
            case["case_id"],
            "note",
            "--as",
            "rina",
            "-f",
            "text=secret",
            "--version",
            str(case["version"]),
            "--at",
            "2017-02-07T09:00:00+07:00",
            "--home",
            home,
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "case",
            "act",
            case["case_id"],
            "comment",
            "--as",
            "rina",
            "-f",
            "text=x",
            "--version",
            str(case["version"]),
            "--home",
            home,
        ],
    )
    assert r.exit_code == 2 and "read it again" in r.output
    r = runner.invoke(
        app, ["case", "act", case["case_id"], "decide", "--as", "rina", "--home", home]
    )
    assert r.exit_code == 2 and "a cs may not decide" in r.output

    r = runner.invoke(
        app, ["case", "show", case["case_id"], "--customer", "--format", "json", "--home", home]
    )
    assert r.exit_code == 0, r.output
    note = next(e for e in json.loads(r.output) if e["action"] == "note")
    assert note["text"] is None and note["actor_role"] == "cs"

    r = runner.invoke(app, ["case", "list", "--overdue", "--format", "json", "--home", home])
    assert r.exit_code == 0 and json.loads(r.output)[0]["overdue"] == ["acknowledge", "decide"]

    r = runner.invoke(app, ["ledger", "verify", "--home", home])
    assert r.exit_code == 0, r.output
    assert f"{case['case_id']} #3 note" in r.output

    # the customer's messages went out with the commands that queued them (the file adapter)
    sent = (seed_store.home / "outbox" / "notifications.jsonl").read_text().splitlines()
    assert [json.loads(m)["payload"]["event"] for m in sent] == ["received"], sent

    r = runner.invoke(app, ["users", "disable", "rina", "--home", home])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        ["case", "act", case["case_id"], "comment", "--as", "rina", "-f", "text=x", "--home", home],
    )
    assert r.exit_code == 2 and "disabled" in r.output
