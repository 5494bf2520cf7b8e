"""Thin typer commands over :mod:`jejak.detect`; the lead registers them on ``jejak``::

    app.command("detect")(handles_errors(detect_cli.detect))
    app.command("evaluate")(handles_errors(detect_cli.evaluate))
    app.command("suppress")(handles_errors(detect_cli.suppress))
    app.command("rules")(handles_errors(detect_cli.rules))

Each opens the store, calls one library function and prints: a rich table by
default, JSON lines with ``--format jsonl``. Errors are jejak errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jejak import detect as D
from jejak.detect.pack import SEVERITIES, severity_rank
from jejak.errors import UsageError
from jejak.home import Home
from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, handles_errors
from jejak.store import Store
from jejak.terminal import safe

Format = Annotated[
    str, typer.Option("--format", help="table (readable) or jsonl (one alert per line).")
]


app = commands()


def _console() -> Console:
    return Console(soft_wrap=False)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "jsonl"):
        raise UsageError("--format", f"unknown format {fmt!r} (table or jsonl)")


@app.command()
@handles_errors
def detect(
    home: HomeDir = DEFAULT_HOME,
    engine: Annotated[str, typer.Option("--engine", help="duckdb, spark or postgres.")] = "duckdb",
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Run only this rule (repeatable).")
    ] = None,
    min_severity: Annotated[
        str, typer.Option("--min-severity", help="Print alerts of this severity and above.")
    ] = "low",
    master: Annotated[
        str | None,
        typer.Option(
            "--master", help="Spark master URL (default: the setting spark_master, local[*])."
        ),
    ] = None,
    pg_url: Annotated[
        str | None,
        typer.Option(
            "--pg-url", envvar="JEJAK_PG_URL", help="PostgreSQL URL for --engine postgres."
        ),
    ] = None,
    fmt: Format = "table",
    debug: Debug = False,
) -> None:
    """Run the rule pack over everything ingested; print the alerts (and store them)."""
    _check_format(fmt)
    if min_severity not in SEVERITIES:
        raise UsageError("--min-severity", f"unknown severity {min_severity!r}")
    result = D.detect(Store(home), engine=engine, rules=rule or None, master=master, pg_url=pg_url)
    shown = [a for a in result.alerts if severity_rank(a.severity) >= severity_rank(min_severity)]
    if fmt == "jsonl":
        for a in shown:
            sys.stdout.write(json.dumps(a.to_dict(), ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(shown)} alerts ({result.engine}, {result.seconds:.1f} s)")
    for col in ("alert", "rule", "severity", "at (UTC)", "user ID", "msisdn"):
        table.add_column(col, no_wrap=True)
    table.add_column("explanation", overflow="fold", min_width=30)
    for a in shown:
        sev = a.severity + (" (suppressed)" if a.suppressed_by else "")
        table.add_row(
            *(
                safe(v)
                for v in (
                    a.alert_id,
                    a.rule,
                    sev,
                    a.at.strftime("%Y-%m-%d %H:%M") if a.at else "",
                    a.agent_id or "",
                    a.msisdn or "",
                    a.explanation,
                )
            )
        )
    _console().print(table)


@app.command()
@handles_errors
def evaluate(
    truth: Annotated[
        Path, typer.Argument(help="truth.jsonl of a simulated operator (or its folder).")
    ],
    home: HomeDir = DEFAULT_HOME,
    min_severity: Annotated[str, typer.Option("--min-severity")] = "medium",
    engine: Annotated[str, typer.Option("--engine")] = "duckdb",
    fmt: Annotated[str, typer.Option("--format", help="markdown or json.")] = "markdown",
    debug: Debug = False,
) -> None:
    """Score precision and recall per scenario kind against a simulator's truth.jsonl."""
    report = D.evaluate(Store(home), truth, min_severity=min_severity, engine=engine)
    if fmt == "json":
        rows = [
            {
                "kind": r.kind,
                "hard_negative": r.hard_negative,
                "cases": r.cases,
                "caught": r.caught,
                "alerts": r.alerts,
                "recall": r.recall,
                "precision": r.precision,
            }
            for r in report.rows
        ]
        sys.stdout.write(
            json.dumps({"recall": report.recall, "precision": report.precision, "kinds": rows})
            + "\n"
        )
    else:
        sys.stdout.write(report.markdown() + "\n")


@app.command()
@handles_errors
def suppress(
    rule: Annotated[str, typer.Option("--rule", help="Rule id, or * for every rule.")],
    owner: Annotated[str, typer.Option("--owner", help="Who answers for this suppression.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the alerts are expected.")],
    expires: Annotated[str, typer.Option("--expires", help="Last day it applies (YYYY-MM-DD).")],
    agent_id: Annotated[str | None, typer.Option("--agent-id")] = None,
    msisdn: Annotated[str | None, typer.Option("--msisdn")] = None,
    outlet_id: Annotated[str | None, typer.Option("--outlet-id")] = None,
    record_id: Annotated[str | None, typer.Option("--record-id")] = None,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Record a suppression (allow-list entry) with an owner, a reason and an expiry."""
    match = {
        k: v
        for k, v in (
            ("agent_id", agent_id),
            ("msisdn", msisdn),
            ("outlet_id", outlet_id),
            ("record_id", record_id),
        )
        if v
    }
    if rule != "*":
        D.load_pack().get(rule)
    s = D.suppress(
        Home(home).store, rule=rule, match=match, owner=owner, reason=reason, expires=expires
    )
    sys.stdout.write(f"{s.id}: {rule} {json.dumps(match)} until {s.expires}\n")


@app.command()
@handles_errors
def rules(fmt: Format = "table", debug: Debug = False) -> None:
    """List the rule pack: id, version, severity, title."""
    _check_format(fmt)
    pack = D.load_pack()
    if fmt == "jsonl":
        for r in pack.rules:
            d = {
                k: getattr(r, k)
                for k in (
                    "id",
                    "title",
                    "severity",
                    "meaning",
                    "evidence",
                    "false_positives",
                    "references",
                    "triage",
                )
            }
            d["version"] = pack.version(r.id)
            sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(pack.rules)} rules")
    for col in ("id", "version", "severity", "title"):
        table.add_column(col, overflow="fold")
    for r in pack.rules:
        table.add_row(*(safe(v) for v in (r.id, pack.version(r.id), r.severity, r.title)))
    _console().print(table)
