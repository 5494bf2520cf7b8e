"""``jejak investigate``: a thin typer command over :func:`jejak.investigate.investigate`.

Mounted on ``jejak`` by :mod:`jejak.cli`.

It opens the home (:class:`jejak.Home`), brings the stored alerts and the
lookup files up to date when they are not (the explicit writes), makes the
report (a read) and prints it: text (rich) by default,
the outputs.md JSON with ``--format json``, or a self-contained HTML page with
``--format html`` — written to ``--out FILE`` or, without it, to
``<home>/reports/<msisdn>[-<complaint>].<lang>.html``, whose path is printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from jejak.errors import UsageError
from jejak.home import Home
from jejak.investigate.i18n import check_lang
from jejak.investigate.render_html import report_path, write_html
from jejak.investigate.render_text import render, render_text
from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, handles_errors

FORMATS = ("text", "json", "html")
app = commands()


@app.command()
@handles_errors
def investigate(
    msisdn: Annotated[
        str | None, typer.Option("--msisdn", help="The subscriber's number (E.164 digits).")
    ] = None,
    complaint: Annotated[
        str | None,
        typer.Option("--complaint", help="The complaint's ticket (default: the latest one)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The moment the report is made for (ISO 8601 with offset, or a date); default: now.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or html.")] = "text",
    lang: Annotated[str, typer.Option("--lang", help="Language: en or id.")] = "en",
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
    if fmt not in FORMATS:
        raise UsageError("--format", f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    check_lang(lang)
    if not msisdn and not complaint:
        raise UsageError("investigate", "give --msisdn N or --complaint ID")
    where = Home(home)
    if where.store.exists:  # a command may write: bring the derived data up to date first
        if where.alerts_stale():
            where.refresh_alerts()
        where.refresh_lookups()
    report = where.investigate(msisdn, complaint_id=complaint, as_of=as_of, policy=policy)
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
