"""``jejak report qos``: the regulator's quarterly complaint figures (:mod:`jejak.cases.report.qos`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jejak.errors import UsageError
from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, handles_errors

app = commands("Reports for the regulator, computed from the cases and the store.")
out = Console(soft_wrap=True, highlight=False)


@app.command("qos")
@handles_errors
def qos_command(
    quarter: Annotated[str, typer.Option("--quarter", help="The quarter, e.g. 2017Q1.")],
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    home: HomeDir = DEFAULT_HOME,
    debug: Debug = False,
) -> None:
    """The quarter's complaint figures: settled within 15 working days (>= 90 %), billing
    complaints per bill (<= 5 %), insider incidents by kind and outlet, median and p95 days to
    decision; each with the cases it counts."""
    from jejak.cases.report.qos import qos, rows, to_csv
    from jejak.home import Home

    if fmt not in ("table", "json", "csv"):
        raise UsageError("--format", f"{fmt!r}: table, json or csv")
    h = Home(home)
    try:
        figures = qos(h.cases, quarter)
    finally:
        h.close()
    if fmt == "json":
        typer.echo(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        typer.echo(to_csv(figures), nl=False)
        return
    table = rows(figures)
    t = Table(title=f"Complaints, {figures['quarter']} ({figures['cases']} cases)")
    for col in ("figure", "value", "standard", "cases"):
        t.add_column(col, overflow="fold")
    for r in table:
        v = r["value"]
        shown = (
            "–"
            if v is None
            else (f"{v:.1%}" if "per bill" in r["figure"] or "settled" in r["figure"] else f"{v:g}")
        )
        t.add_row(r["figure"], shown, r["standard"], str(len(r["cases"].split())) + " case(s)")
    out.print(t)
