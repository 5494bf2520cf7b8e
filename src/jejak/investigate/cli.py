"""``jejak investigate``: a thin typer command over :func:`jejak.investigate.investigate`.

Mounted on ``jejak`` by :mod:`jejak.cli`.

It opens the home (:class:`jejak.Home`), brings the stored alerts up to date
and indexes the batches of a home made before the lookup index, when needed
(the explicit writes), makes the
report (a read) and prints it: text (rich) by default,
the outputs.md JSON with ``--format json`` (``table`` is the terminal text), or a self-contained HTML page with
``--format html`` — written to ``--out FILE`` or, without it, to
``<home>/reports/<msisdn>[-<complaint>][.customer].<lang>.html``, whose path is printed.

``--audience customer`` makes the report to hand to the subscriber (text, JSON and HTML alike):
no other subscriber, no alert, no address or terminal, staff names only where the home's case
policy shows them (``show_staff_names``), and a plain-language summary first.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jejak.errors import UsageError
from jejak.home import Home
from jejak.investigate.i18n import check_lang
from jejak.investigate.render_html import report_path, write_html
from jejak.investigate.render_text import render, render_text
from jejak.options import (
    DEFAULT_HOME,
    Debug,
    HomeDir,
    commands,
    escape_cell,
    format_choices,
    format_option,
    handles_errors,
    output_format,
    write_text,
)

FORMATS = format_choices("table", "json", "html")
ReportFormat = format_option(FORMATS)


class Audiences(StrEnum):
    """``--audience``: the names of :data:`jejak.investigate.audience.AUDIENCES` (a test keeps
    them equal)."""

    staff = "staff"
    customer = "customer"


app = commands()


@app.command()
@handles_errors
def investigate(
    msisdn: Annotated[
        str | None,
        typer.Option("--msisdn", help="The subscriber's number (+62…, 0…, 62…; spaces, dashes)."),
    ] = None,
    complaint: Annotated[
        str | None,
        typer.Option("--complaint", help="The complaint's ticket (default: the latest one)."),
    ] = None,
    alert: Annotated[
        str | None,
        typer.Option(
            "--alert",
            help="A stored alert's id: its subscriber's report, or its user ID's activity when it names no subscriber.",
        ),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="A user ID: everything it did and whom it touched."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The moment the report is made for (ISO 8601 with offset, or a date); default: now.",
        ),
    ] = None,
    fmt: ReportFormat = None,  # type: ignore[valid-type]
    lang: Annotated[str, typer.Option("--lang", help="Language: en or id.")] = "en",
    audience: Annotated[
        Audiences,
        typer.Option(
            "--audience",
            help="staff: the whole evidence; customer: the report to hand to the subscriber (own records only, a plain summary first).",
        ),
    ] = Audiences.staff,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the report to this file.")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Remedy policy (JSON or TOML); see docs/verdicts.md."),
    ] = None,
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """The evidence report for one subscriber or complaint: chronology, attribution, hypotheses, verdict, blast radius, remedy."""
    fmt = output_format(fmt, out_file, FORMATS)
    check_lang(lang)
    given = [
        o
        for o, v in (
            ("--msisdn", msisdn),
            ("--complaint", complaint),
            ("--alert", alert),
            ("--agent", agent),
        )
        if v
    ]
    if not given:
        raise UsageError("investigate", "give --msisdn N, --complaint ID, --alert ID or --agent ID")
    if len(given) > 1 and not (set(given) <= {"--msisdn", "--complaint"}):
        raise UsageError("investigate", f"give one of {' or '.join(given)}, not both")
    where = Home(home)
    if alert:
        found = where.alert(alert)
        msisdn, agent = found["msisdn"], None if found["msisdn"] else found["agent_id"]
        if not msisdn and not agent:
            raise UsageError("--alert", f"{alert} names neither a subscriber nor a user ID")
    reader = Audiences(audience).value
    if agent:
        if reader != "staff":
            raise UsageError("--audience", "a user ID's activity is for staff only")
        _agent(where, agent, fmt, out_file)
        return
    if where.store.exists:  # a command may write: bring the derived data up to date first
        if where.alerts_stale():
            where.refresh_alerts()
        where.refresh_lookups()
    report = where.investigate(
        msisdn, complaint_id=complaint, as_of=as_of, policy=policy, audience=reader
    )
    if fmt == "html":
        path = write_html(report, out_file or report_path(home, report, lang), lang)
        typer.echo(str(path))
        return
    if fmt == "json":
        text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        if out_file is None:
            render(report, Console(soft_wrap=False), lang)
            return
        text = render_text(report, lang=lang)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        typer.echo(str(out_file))
    else:
        sys.stdout.write(text)


def _agent(where: Home, agent_id: str, fmt: str, out_file: Path | None) -> None:
    """``--agent``: the user ID's activity as JSON, or a short text (tables) on the terminal."""
    activity = where.agent(agent_id)
    if fmt == "html":
        raise UsageError("--format", "a user ID's activity is printed as table or json")
    if fmt == "json":
        write_text(
            json.dumps(activity.to_dict(), indent=1, ensure_ascii=False, default=str) + "\n",
            out_file,
        )
        return
    a = activity.agent or {}
    head = (
        f"user ID {agent_id}: {a.get('person') or 'no agent record'}"
        + (f", {a.get('role')} at {a.get('outlet_id')} ({a.get('status')})" if a else "")
        + f"; {len(activity.sessions)} session(s), {len(activity.actions)} action(s) on "
        f"{len(activity.subscribers)} subscriber(s), {len(activity.alerts)} alert(s)"
    )
    console = Console(soft_wrap=False, record=out_file is not None)
    console.print(escape_cell(head), highlight=False)
    for title, rows, cols in (
        (
            "subscribers reached",
            activity.subscribers,
            ("msisdn", "actions", "without_consent", "packages", "first", "last"),
        ),
        ("alerts", activity.alerts, ("alert_id", "rule", "severity", "at", "msisdn")),
    ):
        if not rows:
            continue
        table = Table(title=f"{len(rows)} {title}")
        for c in cols:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(
                *(escape_cell(str(r.get(c) if r.get(c) is not None else "")) for c in cols)
            )
        console.print(table)
    if out_file is not None:
        write_text(console.export_text(), out_file)
