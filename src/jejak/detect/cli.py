"""Thin typer commands over :mod:`jejak.detect`, mounted on ``jejak`` by :mod:`jejak.cli`:
``detect``, ``alerts``, ``evaluate``, ``suppress`` and ``rules``.

Each opens the home, calls one library function and prints or writes the result in the
output convention of :mod:`jejak.options` (``--format``, ``--out``). Errors are jejak errors.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jejak import detect as D
from jejak.detect.pack import SEVERITIES
from jejak.errors import UsageError
from jejak.home import Home
from jejak.options import (
    DEFAULT_HOME,
    Debug,
    HomeDir,
    OutFile,
    commands,
    emit,
    escape_cell,
    format_choices,
    format_option,
    handles_errors,
    output_format,
    write_text,
)

app = commands()

Severity = StrEnum("Severity", {s: s for s in SEVERITIES})  # type: ignore[misc]
Group = StrEnum("Group", {g: g for g in D.GROUPS})  # type: ignore[misc]
Engine = StrEnum("Engine", {e: e for e in ("duckdb", "spark", "postgres")})  # type: ignore[misc]

ALERT_FORMATS = format_choices("table", "json", "jsonl", "csv", "parquet")
AlertFormat = format_option(ALERT_FORMATS)
#: the columns of an alert in CSV and in the table
ALERT_COLUMNS = (
    "alert_id",
    "rule",
    "severity",
    "at",
    "agent_id",
    "msisdn",
    "outlet_id",
    "record_ids",
    "explanation",
    "title",
    "version",
    "score",
    "suppressed_by",
)


def _console() -> Console:
    """The terminal's width on a terminal; in a pipe wide enough that no id is cut."""
    console = Console(soft_wrap=False)
    return console if console.is_terminal else Console(soft_wrap=False, width=240)


def _alert_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for col in ("alert", "rule", "severity", "at (UTC)", "user ID", "msisdn"):
        table.add_column(col, overflow="fold")
    table.add_column("explanation", overflow="fold", min_width=30)
    for a in rows:
        sev = a["severity"] + (" (suppressed)" if a.get("suppressed_by") else "")
        at = (a.get("at") or "")[:16].replace("T", " ")
        table.add_row(
            *(
                escape_cell(str(v or ""))
                for v in (
                    a["alert_id"],
                    a["rule"],
                    sev,
                    at,
                    a.get("agent_id"),
                    a.get("msisdn"),
                    a.get("explanation"),
                )
            )
        )
    return table


def _show_alerts(
    rows: list[dict[str, Any]],
    fmt: str,
    out: Path | None,
    title: str,
    arrow: Any = None,
    empty: str = "no alerts",
) -> None:
    if fmt == "table" and out is None:
        console = _console()
        if not rows:
            console.print(empty, markup=False)
            return
        console.print(_alert_table(rows, title))
        return
    emit(rows, fmt, out, columns=ALERT_COLUMNS, title=title, empty=empty, arrow=arrow)


@app.command()
@handles_errors
def detect(
    home: HomeDir = DEFAULT_HOME,
    engine: Annotated[Engine, typer.Option("--engine", help="The query engine.")] = Engine.duckdb,  # type: ignore[attr-defined]
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            help="Run only this rule (repeatable); the stored alerts of the other rules are kept.",
        ),
    ] = None,
    min_severity: Annotated[
        Severity, typer.Option("--min-severity", help="Print alerts of this severity and above.")
    ] = Severity.low,  # type: ignore[attr-defined]
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
    fmt: AlertFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Evaluate only what the batches ingested since the last run can change (same "
            "stored alerts as a full run); print the alerts it adds.",
        ),
    ] = False,
    debug: Debug = False,
) -> None:
    """Run the rule pack over everything ingested; store the alerts and print this run's."""
    chosen = output_format(fmt, out_file, ALERT_FORMATS)
    store = Home(home).store
    result = D.detect(
        store,
        engine=engine.value,
        rules=rule or None,
        master=master,
        pg_url=pg_url,
        incremental=incremental,
    )
    rank = D.severity_rank(min_severity.value)
    rows = [a.to_dict() for a in result.alerts if D.severity_rank(a.severity) >= rank]
    counts = ", ".join(f"{n} {s}" for s, n in reversed(list(result.counts().items())) if n)
    run = result.incremental
    if run is None:
        title = f"{len(rows)} alerts ({counts or 'none'}; {result.engine}, {result.seconds:.1f} s)"
        empty = "no alerts"
    else:
        detail = (
            f"incremental over {len(run.batches)} new batch{'es' if len(run.batches) != 1 else ''}"
            f": {run.removed} no longer found, {run.stored} stored; {result.seconds:.1f} s"
        )
        title = f"{len(rows)} new alerts ({counts or 'none'}; {detail})"
        empty = f"no new alerts ({detail})"
    _show_alerts(rows, chosen, out_file, title, empty=empty)


@app.command()
@handles_errors
def alerts(
    home: HomeDir = DEFAULT_HOME,
    severity: Annotated[
        list[Severity] | None, typer.Option("--severity", help="Only this severity (repeatable).")
    ] = None,
    min_severity: Annotated[
        Severity | None, typer.Option("--min-severity", help="This severity and above.")
    ] = None,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")
    ] = None,
    msisdn: Annotated[
        str | None, typer.Option("--msisdn", help="Only about this number (+62…, 0…, spaces).")
    ] = None,
    agent_id: Annotated[str | None, typer.Option("--agent", help="Only this user ID.")] = None,
    outlet_id: Annotated[str | None, typer.Option("--outlet", help="Only at this outlet.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="At or after (ISO 8601 with offset, or a date).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="At or before (ISO 8601 with offset, or a date).")
    ] = None,
    unsuppressed: Annotated[
        bool, typer.Option("--unsuppressed", help="Leave out suppressed alerts.")
    ] = False,
    by: Annotated[
        Group | None, typer.Option("--by", help="Count the alerts per value of this field.")
    ] = None,
    fmt: AlertFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    debug: Debug = False,
) -> None:
    """The stored alerts (no detection is run): filter, group with counts, export."""
    chosen = output_format(fmt, out_file, ALERT_FORMATS)
    store = Home(home).store
    table = D.stored_alerts_table(
        store,
        msisdn=msisdn,
        agent_id=agent_id,
        outlet_id=outlet_id,
        rules=rule or None,
        severities=[s.value for s in severity or []] or None,
        min_severity=min_severity.value if min_severity else None,
        since=since,
        until=until,
        include_suppressed=not unsuppressed,
    )
    rows = D.rows_of(table)
    if by is not None:
        groups = D.group_alerts(rows, by.value)
        cols = (by.value, "alerts", *reversed(SEVERITIES), "suppressed", "first", "last")
        emit(
            groups,
            chosen,
            out_file,
            columns=cols,
            title=f"{len(rows)} alerts by {by.value}",
            empty="no alerts",
        )
        return
    _show_alerts(rows, chosen, out_file, f"{len(rows)} stored alerts", arrow=lambda: table)


EVALUATE_FORMATS = format_choices("table", "json")
EvaluateFormat = format_option(EVALUATE_FORMATS)


@app.command()
@handles_errors
def evaluate(
    truth: Annotated[
        Path, typer.Argument(help="truth.jsonl of a simulated operator (or its folder).")
    ],
    home: HomeDir = DEFAULT_HOME,
    min_severity: Annotated[Severity, typer.Option("--min-severity")] = Severity.medium,  # type: ignore[attr-defined]
    engine: Annotated[Engine, typer.Option("--engine")] = Engine.duckdb,  # type: ignore[attr-defined]
    fmt: EvaluateFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    debug: Debug = False,
) -> None:
    """Score precision and recall per scenario kind against a simulator's truth.jsonl.

    Refused (exit 1) when the truth does not describe the store.
    """
    chosen = output_format(fmt, out_file, EVALUATE_FORMATS)
    report = D.evaluate(
        Home(home).store, truth, min_severity=min_severity.value, engine=engine.value
    )
    if chosen == "json":
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
        write_text(
            json.dumps({"recall": report.recall, "precision": report.precision, "kinds": rows})
            + "\n",
            out_file,
        )
    else:
        write_text(report.markdown() + "\n", out_file)


@app.command()
@handles_errors
def suppress(
    rule: Annotated[
        str,
        typer.Option(
            "--rule", help="Rule id (see `jejak rules`; JJK-900 is the anomaly model), or *."
        ),
    ],
    owner: Annotated[str, typer.Option("--owner", help="Who answers for this suppression.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the alerts are expected.")],
    expires: Annotated[str, typer.Option("--expires", help="Last day it applies (YYYY-MM-DD).")],
    agent_id: Annotated[
        str | None, typer.Option("--agent", help="Only alerts of this user ID.")
    ] = None,
    msisdn: Annotated[
        str | None, typer.Option("--msisdn", help="Only alerts about this number (+62…, 0…).")
    ] = None,
    outlet_id: Annotated[
        str | None, typer.Option("--outlet", help="Only alerts at this outlet.")
    ] = None,
    record_id: Annotated[
        str | None, typer.Option("--record-id", help="Only alerts citing this record.")
    ] = None,
    # the earlier spellings, kept working but hidden: every other command says --agent, --outlet
    agent_id_old: Annotated[str | None, typer.Option("--agent-id", hidden=True)] = None,
    outlet_id_old: Annotated[str | None, typer.Option("--outlet-id", hidden=True)] = None,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """Record a suppression (allow-list entry) with an owner, a reason and an expiry; it covers
    the rule's alerts that match every one of --agent, --msisdn, --outlet, --record-id given."""
    agent_id = _one("--agent", agent_id, agent_id_old)
    outlet_id = _one("--outlet", outlet_id, outlet_id_old)
    if not (agent_id or msisdn or outlet_id or record_id):
        raise UsageError("suppress", "give --agent, --msisdn, --outlet or --record-id (or several)")
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
    s = D.suppress(
        Home(home).store, rule=rule, match=match, owner=owner, reason=reason, expires=expires
    )
    typer.echo(f"{s.id}: {rule} {json.dumps(s.match)} until {s.expires}")


def _one(name: str, value: str | None, old: str | None) -> str | None:
    """An option given by its name or by its earlier spelling (not both, unless they agree)."""
    if value and old and value != old:
        raise UsageError(name, f"given twice ({value!r}, {old!r}); give it once")
    return value or old


RULE_FORMATS = format_choices("table", "json", "jsonl", "csv")
RuleFormat = format_option(RULE_FORMATS)


@app.command()
@handles_errors
def rules(
    fmt: RuleFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    debug: Debug = False,
) -> None:
    """List the rule pack: id, version, severity, title."""
    chosen = output_format(fmt, out_file, RULE_FORMATS)
    pack = D.load_pack()
    keys = (
        "id",
        "title",
        "severity",
        "meaning",
        "evidence",
        "false_positives",
        "references",
        "triage",
    )
    rows = []
    for r in pack.rules:
        d = {k: getattr(r, k) for k in keys}
        d["version"] = pack.version(r.id)
        rows.append(d)
    if chosen == "table" and out_file is None:
        table = Table(title=f"{len(pack.rules)} rules")
        for col in ("id", "version", "severity", "title"):
            table.add_column(col, overflow="fold")
        for d in rows:
            table.add_row(*(escape_cell(str(d[k])) for k in ("id", "version", "severity", "title")))
        _console().print(table)
        return
    emit(rows, chosen, out_file, columns=("id", "version", "severity", "title", *keys[3:]))
