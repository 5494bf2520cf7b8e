"""``jejak notify drain``: deliver queued customer messages and billing rows now."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from jejak.options import DEFAULT_HOME, Debug, HomeDir, commands, handles_errors

app = commands(
    "Deliver what the cases queue: messages to customers, approved adjustments to billing."
)
out = Console(soft_wrap=True, highlight=False)


@app.command("drain")
@handles_errors
def drain(
    home: HomeDir = DEFAULT_HOME,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    debug: Debug = False,
) -> None:
    """Deliver every queued message that is due; exit 1 when one failed for good."""
    from jejak.cases.db import Database
    from jejak.notify.service import drain as run

    done = run(Database.open(home), home)
    if as_json:
        typer.echo(json.dumps(done.to_dict()))
    else:
        out.print(f"sent {done.sent}, to retry {done.retrying}, failed {done.failed}")
        for reason in done.reasons:
            out.print(reason)
    raise typer.Exit(1 if done.failed else 0)
