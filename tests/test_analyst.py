"""The analyst's daily loop (issue 15): numbers as typed, one output convention, stored alerts
read and exported without re-running, partial runs that add, user IDs and alerts investigated,
an evaluation that refuses another operator's truth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from jejak import Home
from jejak.cli import app
from jejak.errors import UsageError
from jejak.numbers import msisdn
from jejak.options import output_format

SEED = "6281100000001"


@pytest.fixture(scope="module")
def _detected(tmp_path_factory: pytest.TempPathFactory, seed_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("analyst") / "home"
    h = Home(home)
    h.ingest([seed_dir])
    h.refresh_alerts()
    return home


@pytest.fixture
def home(_detected: Path, tmp_path: Path) -> Path:
    """A private copy of a detected seed home (tests may write to it)."""
    target = tmp_path / "home"
    shutil.copytree(_detected, target)
    return target


def jejak(runner: CliRunner, *args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.output


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    "typed",
    [
        "6281100000001",
        "+6281100000001",
        "081100000001",
        "+62 811-0000-0001",
        "0811 0000 0001",
        "(0811) 0000.0001",
        "0062 811 0000 0001",
    ],
)
def test_every_way_care_staff_type_a_number_is_the_same_subscriber(typed: str) -> None:
    assert msisdn(typed) == SEED


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("62811x", "not a phone number"),
        ("", "not a phone number"),
        ("+0811", "not an E.164"),
        ("1234", "not an E.164"),
        ("+62 8110000000123456", "not an E.164"),
    ],
)
def test_what_cannot_be_a_number_is_refused_in_one_line(typed: str, why: str) -> None:
    with pytest.raises(UsageError) as exc:
        msisdn(typed, where="--msisdn")
    assert why in str(exc.value) and "\n" not in str(exc.value)
    assert str(exc.value).startswith("--msisdn: ")


def test_investigate_finds_the_subscriber_by_a_national_number(
    runner: CliRunner, home: Path
) -> None:
    code, out = jejak(
        runner, "investigate", "--msisdn", "0811-0000-0001", "--format", "json", "--home", str(home)
    )
    assert code == 0, out
    assert json.loads(out)["msisdn"] == SEED
    assert Home(home).investigate("+62 811 0000 0001").msisdn == SEED
    code, out = jejak(runner, "investigate", "--msisdn", "08II", "--home", str(home))
    assert code == 2 and "--msisdn: '08II' is not a phone number" in out


# ------------------------------------------------------------------ output convention


def test_format_is_inferred_from_the_out_extension_and_must_agree() -> None:
    names = ("table", "json", "html")
    assert output_format(None, Path("r.html"), names) == "html"
    assert output_format(None, None, names) == "table"
    with pytest.raises(UsageError, match=r"r\.html names html but --format is json"):
        output_format("json", Path("r.html"), names)
    with pytest.raises(UsageError, match=r"cannot tell the format from .r\.xyz."):
        output_format(None, Path("r.xyz"), names)
    with pytest.raises(UsageError, match="unknown format 'csv'"):
        output_format("csv", None, names)


def test_an_html_out_gets_html_never_terminal_text(runner: CliRunner, home: Path) -> None:
    out = home.parent / "r.html"
    code, printed = jejak(
        runner, "investigate", "--msisdn", SEED, "--out", str(out), "--home", str(home)
    )
    assert code == 0, printed
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "┃" not in text and "━" not in text


def test_status_format_json(runner: CliRunner, home: Path) -> None:
    code, out = jejak(runner, "status", "--format", "json", "--home", str(home))
    assert code == 0, out
    assert json.loads(out)["rows"] == 633
    target = home.parent / "status.json"
    code, out = jejak(runner, "status", "--out", str(target), "--home", str(home))
    assert code == 0 and json.loads(target.read_text())["rows"] == 633


def test_version_short_help_completion_and_choices(runner: CliRunner) -> None:
    code, out = jejak(runner, "--version")
    assert code == 0 and out.startswith("jejak ")
    code, out = jejak(runner, "alerts", "-h")
    assert code == 0 and "--by" in out
    assert "table|json|jsonl|csv|parquet" in out.replace("\n", "").replace(" ", "").replace("│", "")
    code, out = jejak(runner, "--help")
    assert "--install-completion" in out


# ------------------------------------------------------------------ jejak alerts


def test_alerts_reads_the_stored_set_filtered_without_running(
    runner: CliRunner, home: Path
) -> None:
    code, out = jejak(runner, "alerts", "--format", "jsonl", "--home", str(home))
    everything = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(everything) == 22
    code, out = jejak(
        runner, "alerts", "--msisdn", "+62 811-0000-0001", "--format", "jsonl", "--home", str(home)
    )
    mine = [json.loads(line) for line in out.splitlines()]
    assert mine and {a["msisdn"] for a in mine} == {SEED}
    assert all(a["alert_id"].startswith("AL-") for a in mine)
    code, out = jejak(
        runner,
        "alerts",
        "--rule",
        "JJK-014",
        "--severity",
        "critical",
        "--format",
        "jsonl",
        "--home",
        str(home),
    )
    assert [json.loads(line)["rule"] for line in out.splitlines()] == ["JJK-014"]
    code, out = jejak(
        runner,
        "alerts",
        "--since",
        "2017-01-01",
        "--until",
        "2017-02-28",
        "--format",
        "jsonl",
        "--home",
        str(home),
    )
    assert {json.loads(line)["rule"] for line in out.splitlines()} == {"JJK-011"}
    code, out = jejak(
        runner,
        "alerts",
        "--agent",
        "16009045",
        "--outlet",
        "SRG",
        "--format",
        "jsonl",
        "--home",
        str(home),
    )
    assert out and all(json.loads(line)["agent_id"] == "16009045" for line in out.splitlines())


def test_alerts_grouped_with_counts(runner: CliRunner, home: Path) -> None:
    code, out = jejak(runner, "alerts", "--by", "rule", "--format", "json", "--home", str(home))
    assert code == 0, out
    groups = {g["rule"]: g for g in json.loads(out)}
    assert groups["JJK-001"]["alerts"] == 5 and groups["JJK-001"]["high"] == 5
    assert sum(g["alerts"] for g in groups.values()) == 22
    code, out = jejak(runner, "alerts", "--by", "agent_id", "--home", str(home))
    assert code == 0 and "16009045" in out and "19" in out


def test_alerts_export_csv_and_typed_parquet(runner: CliRunner, home: Path) -> None:
    csv_path, pq_path = home.parent / "a.csv", home.parent / "a.parquet"
    assert jejak(runner, "alerts", "--out", str(csv_path), "--home", str(home))[0] == 0
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("alert_id,rule,severity,at,") and len(lines) == 23
    assert jejak(runner, "alerts", "--out", str(pq_path), "--home", str(home))[0] == 0
    table = pq.read_table(pq_path)
    assert table.num_rows == 22
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    code, out = jejak(runner, "alerts", "--format", "parquet", "--home", str(home))
    assert code == 2 and "give --out FILE.parquet" in out


def test_a_pipe_does_not_cut_alert_ids(runner: CliRunner, home: Path) -> None:
    code, out = jejak(runner, "alerts", "--rule", "JJK-014", "--home", str(home))
    assert code == 0, out
    stored = Home(home).alerts(rules=["JJK-014"])[0]
    assert stored["alert_id"] in out and "…" not in out


# ------------------------------------------------------------------ detect --rule, suppress


def test_detect_rule_adds_to_the_stored_set(runner: CliRunner, home: Path) -> None:
    before = {a["alert_id"] for a in Home(home).alerts()}
    code, out = jejak(
        runner, "detect", "--rule", "JJK-001", "--format", "jsonl", "--home", str(home)
    )
    assert code == 0, out
    assert {json.loads(line)["rule"] for line in out.splitlines()} == {"JJK-001"}
    after = {a["alert_id"] for a in Home(home).alerts()}
    assert after == before
    assert Home(home).investigate(SEED).findings  # the report still sees every rule's alerts
    assert len({a["rule"] for a in Home(home).alerts(msisdn=SEED)}) > 1


def test_suppress_the_anomaly_rule_and_refuse_unknown_ids(runner: CliRunner, home: Path) -> None:
    code, out = jejak(
        runner,
        "suppress",
        "--rule",
        "JJK-900",
        "--owner",
        "fraud-team",
        "--reason",
        "pilot",
        "--expires",
        "2099-01-01",
        "--agent-id",
        "16009045",
        "--home",
        str(home),
    )
    assert code == 0 and out.startswith("SUP-"), out
    code, out = jejak(
        runner,
        "suppress",
        "--rule",
        "JJK-123",
        "--owner",
        "x",
        "--reason",
        "y",
        "--expires",
        "2099-01-01",
        "--msisdn",
        "0811 0000 0001",
        "--home",
        str(home),
    )
    assert code != 0
    assert "no rule 'JJK-123' (known: JJK-001" in out and "JJK-900" in out
    assert len(out.strip().splitlines()) == 1
    code, out = jejak(
        runner,
        "suppress",
        "--rule",
        "JJK-007",
        "--owner",
        "x",
        "--reason",
        "y",
        "--expires",
        "2099-01-01",
        "--msisdn",
        "0811 0000 0001",
        "--home",
        str(home),
    )
    assert code == 0 and SEED in out


# ------------------------------------------------------------------ investigate --agent / --alert


def test_investigate_agent_lists_whom_the_user_id_touched(runner: CliRunner, home: Path) -> None:
    code, out = jejak(
        runner, "investigate", "--agent", "16009045", "--format", "json", "--home", str(home)
    )
    assert code == 0, out
    d = json.loads(out)
    reached = {s["msisdn"]: s for s in d["subscribers"]}
    for victim in ("6281100000001", "6281100000052", "6281100000061"):
        assert reached[victim]["without_consent"] >= 1
    assert d["agent"]["person"] == "Sri Wahyuni"
    assert {a["agent_id"] for a in d["alerts"]} == {"16009045"}
    code, out = jejak(runner, "investigate", "--agent", "NOBODY", "--home", str(home))
    assert code == 1 and "user ID NOBODY: no record" in out


def test_investigate_alert_without_a_number(runner: CliRunner, home: Path) -> None:
    h = Home(home)
    no_number = next(a for a in h.alerts() if not a["msisdn"])
    code, out = jejak(
        runner,
        "investigate",
        "--alert",
        no_number["alert_id"],
        "--format",
        "json",
        "--home",
        str(home),
    )
    assert code == 0, out
    assert json.loads(out)["agent_id"] == no_number["agent_id"]
    with_number = h.alerts(msisdn=SEED)[0]
    code, out = jejak(
        runner,
        "investigate",
        "--alert",
        with_number["alert_id"],
        "--format",
        "json",
        "--home",
        str(home),
    )
    assert code == 0 and json.loads(out)["msisdn"] == SEED
    code, out = jejak(runner, "investigate", "--alert", "AL-0000", "--home", str(home))
    assert code == 1 and "not among the stored alerts" in out


# ------------------------------------------------------------------ evaluate


def test_evaluate_refuses_a_truth_that_is_not_the_stores(runner: CliRunner, home: Path) -> None:
    truth = home.parent / "truth.jsonl"
    truth.write_text(
        json.dumps(
            {
                "kind": "owner_no_consent",
                "hard_negative": False,
                "msisdns": ["6281299999999"],
                "agent_id": "1",
                "record_ids": {"provisioning": ["EV0000170", "EV9999999"]},
            }
        )
        + "\n"
    )
    code, out = jejak(runner, "evaluate", str(truth), "--home", str(home))
    assert code == 1
    assert "does not describe the store" in out and "2 of 2 planted record(s)" in out
    assert len(out.strip().splitlines()) == 1


# ------------------------------------------------------------------ check-receipt


def test_check_receipt_names_what_it_proves_and_where(runner: CliRunner, home: Path) -> None:
    code, proof = jejak(
        runner,
        "ledger",
        "prove",
        "--record",
        "provisioning:EV0000170",
        "--receipt",
        "--home",
        str(home),
    )
    assert code == 0, proof
    receipt = home.parent / "r.proof"
    receipt.write_text(proof)
    vkey = str(home / "keys" / "ledger.vkey")
    code, out = jejak(runner, "ledger", "check-receipt", str(receipt), "--vkey", vkey)
    assert code == 0, out
    assert "the receipt proves a provisioning record: leaf" in out
    assert "in the signed checkpoint of size" in out and "(root " in out
    code, out = jejak(
        runner, "ledger", "check-receipt", str(receipt), "--vkey", vkey, "--home", str(home)
    )
    assert "provisioning record EV0000170 of 2016-07-18 14:14:40" in out
