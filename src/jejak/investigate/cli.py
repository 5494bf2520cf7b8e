"""``jejak investigate``: a thin typer command over :func:`jejak.investigate.investigate`.

Registered on ``jejak`` by ``src/jejak/cli.py``::

    app.command("investigate")(handles_errors(investigate_cli.investigate))

It opens the store, makes the report and prints it: text (rich) by default,
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
from jejak.investigate import Report
from jejak.investigate import investigate as make_report
from jejak.investigate.i18n import check_lang
from jejak.investigate.render_text import render
from jejak.options import DEFAULT_HOME, Debug, Home
from jejak.store import Store

FORMATS = ("text", "json", "html")


def report_path(home: Path, report: Report, lang: str) -> Path:
    """Where ``--format html`` writes the page when no ``--out`` is given."""
    name = report.msisdn + (f"-{report.complaint_id}" if report.complaint_id else "")
    return home / "reports" / f"{name}.{lang}.html"


def write_html(report: Report, path: Path, lang: str) -> Path:
    """Write the report's HTML page to ``path`` (atomically: a half-written page is never left)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(report.render_html(lang), encoding="utf-8")
    tmp.replace(path)
    return path


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
            help="The moment the report is made for (ISO 8601 with offset, or a date); default: the subscriber's latest record.",
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
    home: Home = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """The evidence report for one subscriber or complaint: chronology, attribution, hypotheses, verdict, blast radius, remedy."""
    if fmt not in FORMATS:
        raise UsageError("--format", f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    check_lang(lang)
    if not msisdn and not complaint:
        raise UsageError("investigate", "give --msisdn N or --complaint ID")
    report = make_report(Store(home), msisdn, complaint_id=complaint, as_of=as_of, policy=policy)
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
        text = report.render_text(lang=lang)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        typer.echo(str(out_file))
    else:
        sys.stdout.write(text)
