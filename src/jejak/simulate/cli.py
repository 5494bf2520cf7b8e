"""``jejak simulate``: a thin command over :func:`jejak.simulate.simulate`.

Mounted on ``jejak`` by :mod:`jejak.cli`; the shared options come from :mod:`jejak.options`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from jejak.errors import UsageError
from jejak.options import commands, handles_errors, progress_bar

app = commands()


@app.command()
@handles_errors
def simulate(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the export and truth.jsonl to.")
    ],
    subscribers: Annotated[int, typer.Option(help="Number of background subscribers.")] = 2000,
    days: Annotated[int, typer.Option(help="Number of simulated days.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    scenarios: Annotated[
        list[str] | None,
        typer.Option(
            "--scenarios",
            help="Scenario kinds to plant (repeat or comma-separate; 'none' for a clean operator; default all).",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or jsonl.")] = "parquet",
    start: Annotated[
        str | None, typer.Option(help="First simulated day, YYYY-MM-DD (default 2016-07-01).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback on errors.")
    ] = False,
) -> None:
    """Write a simulated operator (all thirteen record kinds) with planted fraud cases and their truth."""
    import json

    from jejak.simulate import simulate as run

    console = Console()

    kinds: list[str] | None = None
    if scenarios is not None:
        kinds = [k.strip() for s in scenarios for k in s.split(",") if k.strip()]
        if kinds == ["none"]:
            kinds = []
    first: date | None = None
    if start is not None:
        try:
            first = date.fromisoformat(start)
        except ValueError:
            raise UsageError(f"--start must be a YYYY-MM-DD date, not {start!r}") from None
    with progress_bar() as report:
        result = run(
            out,
            subscribers=subscribers,
            days=days,
            seed=seed,
            scenarios=kinds,
            format=fmt,
            start=first,
            progress=report,
        )
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "out": str(result.out),
                    "counts": result.counts,
                    "records": result.records,
                    "cases": len(result.cases),
                    "seconds": round(result.seconds, 3),
                }
            )
        )
        return
    planted = sum(1 for c in result.cases if not c["hard_negative"])
    console.print(
        f"{result.records:,} records ({result.counts['provisioning']:,} provisioning events) written to {result.out} "
        f"in {result.seconds:.1f} s; {planted} planted case(s) and {len(result.cases) - planted} hard negative(s) "
        f"in {result.out / 'truth.jsonl'}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("seed-path")
@handles_errors
def seed_path() -> None:
    """Print the folder of the seed case (2016) that ships with jejak: `jejak ingest "$(jejak seed-path)"`."""
    from jejak.simulate.seed import SEED_DIR

    typer.echo(str(SEED_DIR))
