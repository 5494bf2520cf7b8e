"""The ``jejak`` command: a thin layer over the library.

Each command opens the store (or ledger, or case database), calls one library
method and prints the result. Errors from :mod:`jejak.errors` become one line
on standard error and the error's exit status; ``--debug`` shows the
traceback instead. Exit status: 0 success, 1 bad input found (quarantined
rows, unreadable files, a proof that fails), 2 usage errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from jejak.options import (
    CONTEXT,
    DEFAULT_HOME,
    Debug,
    HomeDir,
    OutFile,
    commands,
    emit,
    err,
    format_choices,
    format_option,
    handles_errors,
    output_format,
    progress_bar,
    write_text,
)
from jejak.terminal import safe

app = typer.Typer(
    name="jejak",
    help="Trace every package activation to the person behind it, catch insider fraud, settle disputes on evidence.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
)

out = Console()


def _version(value: bool) -> None:
    if value:
        from jejak import __version__

        typer.echo(f"jejak {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print jejak's version and exit."
        ),
    ] = False,
) -> None:
    """Trace every package activation to the person behind it, catch insider fraud, settle disputes on evidence."""


SUMMARY_FORMATS = format_choices("table", "json")
SummaryFormat = format_option(SUMMARY_FORMATS)
ROW_FORMATS = format_choices("table", "json", "jsonl", "csv")
RowFormat = format_option(ROW_FORMATS)


def _store(home: Path) -> Any:
    from jejak.home import Home

    return Home(home).store


# ------------------------------------------------------------------ ingest


@app.command()
@handles_errors
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Export files or folders (CSV, JSONL, Parquet, .gz).")
    ],
    home: HomeDir = DEFAULT_HOME,
    fmt: SummaryFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: Annotated[bool, typer.Option("--json", hidden=True)] = False,
    debug: Debug = False,
) -> None:
    """Load files or folders in the operator export format into the store, as one batch."""
    chosen = "json" if as_json else output_format(fmt, out_file, SUMMARY_FORMATS)
    store = _store(home)
    with progress_bar() as report:
        result = store.ingest(paths, progress=report)
    if chosen == "json":
        write_text(json.dumps(result.to_dict(), default=str, indent=1) + "\n", out_file)
        raise typer.Exit(result.exit_code)
    out.print(f"ingest into {safe(home)}", highlight=False, soft_wrap=True)
    table = Table()
    for col in ("kind", "read", "loaded", "duplicate", "conflicting", "quarantined"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for name, c in sorted(result.kinds.items()):
        table.add_row(
            name,
            f"{c.read:,}",
            f"{c.loaded:,}",
            f"{c.duplicate:,}",
            f"{c.conflicting:,}",
            f"{c.quarantined:,}",
        )
    table.add_row(
        "[bold]total",
        f"{result.read:,}",
        f"{result.loaded:,}",
        f"{result.duplicate:,}",
        f"{result.conflicting:,}",
        f"{result.quarantined:,}",
    )
    out.print(table)
    for f in result.files:  # every row accounted for, file by file
        if not f.error:
            out.print(safe(f.summary()), highlight=False, soft_wrap=True)
    for f in result.unreadable:
        err.print(f"[red]not loaded:[/] {safe(f.path)}: {safe(f.error)}", highlight=False)
    for path, why in result.ignored:
        out.print(f"[dim]ignored {safe(path)}: {safe(why)}[/]", highlight=False)
    for d in result.dangling:
        out.print(
            f"[yellow]integrity:[/] {d.count:,} {d.kind} record(s) name a {d.field} that no {d.target} record holds "
            f"(e.g. {safe(', '.join(d.examples))})",
            highlight=False,
        )
    if result.conflicting:
        out.print(
            f"[yellow]{result.conflicting:,} conflicting record(s) kept for review:[/] jejak conflicts --home {safe(home)}"
        )
    if result.quarantined:
        err.print(
            f"[red]{result.quarantined:,} row(s) quarantined:[/] read them with: jejak quarantine --home {safe(home)}"
        )
    if result.batch is None and not result.unreadable:
        out.print("nothing new: the store is unchanged")
    else:
        out.print(
            f"{result.loaded:,} record(s) loaded in {result.seconds:.2f} s"
            + (f" (batch {result.batch})" if result.batch else "")
        )
    raise typer.Exit(result.exit_code)


# ------------------------------------------------------------------ status


@app.command()
@handles_errors
def status(
    home: HomeDir = DEFAULT_HOME,
    fmt: SummaryFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: Annotated[bool, typer.Option("--json", hidden=True)] = False,
    debug: Debug = False,
) -> None:
    """What is in the store: records and time span per kind, quarantine, conflicts, integrity findings."""
    chosen = "json" if as_json else output_format(fmt, out_file, SUMMARY_FORMATS)
    store = _store(home)
    if not store.exists:
        err.print(
            f"error: {safe(home)}: no jejak store here yet (run: jejak ingest PATH --home {safe(home)})",
            highlight=False,
        )
        raise typer.Exit(1)
    st = store.status()
    if chosen == "json":
        write_text(json.dumps(st.to_dict(), default=str, indent=1) + "\n", out_file)
        return
    out.print(
        f"{safe(home)}: {st.rows:,} records in {st.batches} batch(es)",
        highlight=False,
        soft_wrap=True,
    )
    table = Table()
    for col in ("kind", "records", "first", "last"):
        table.add_column(col, justify="right" if col == "records" else "left")
    for name, k in st.kinds.items():
        table.add_row(
            name,
            f"{k.rows:,}",
            k.first.strftime("%Y-%m-%d %H:%M UTC") if k.first else "",
            k.last.strftime("%Y-%m-%d %H:%M UTC") if k.last else "",
        )
    out.print(table)
    out.print(
        f"quarantined rows: {st.quarantined:,}"
        + (f"  (jejak quarantine --home {safe(home)})" if st.quarantined else "")
    )
    out.print(
        f"conflicting records: {st.conflicts:,}"
        + (f"  (jejak conflicts --home {safe(home)})" if st.conflicts else "")
    )
    if st.dangling:
        for d in st.dangling:
            out.print(
                f"integrity: {d.count:,} {d.kind} record(s) name a {d.field} that no {d.target} record holds "
                f"(e.g. {safe(', '.join(d.examples))})",
                highlight=False,
            )
    else:
        out.print("integrity: every reference resolves")


@app.command()
@handles_errors
def quarantine(
    home: HomeDir = DEFAULT_HOME,
    limit: Annotated[int, typer.Option(help="Show at most this many rows (0 = all).")] = 50,
    fmt: RowFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: Annotated[bool, typer.Option("--json", hidden=True)] = False,
    debug: Debug = False,
) -> None:
    """The rows that broke the export contract: file, line, reason and the row as read."""
    chosen = "jsonl" if as_json else output_format(fmt, out_file, ROW_FORMATS)
    rows = _store(home).quarantine(limit or None)
    emit(
        rows,
        chosen,
        out_file,
        columns=("file", "line", "kind", "reason", "record"),
        empty="nothing is quarantined",
    )


@app.command()
@handles_errors
def conflicts(
    home: HomeDir = DEFAULT_HOME,
    limit: Annotated[int, typer.Option(help="Show at most this many rows (0 = all).")] = 50,
    fmt: RowFormat = None,  # type: ignore[valid-type]
    out_file: OutFile = None,
    as_json: Annotated[bool, typer.Option("--json", hidden=True)] = False,
    debug: Debug = False,
) -> None:
    """Records that arrived with a known identifier but other content, kept for review."""
    chosen = "jsonl" if as_json else output_format(fmt, out_file, ROW_FORMATS)
    rows = _store(home).conflicts(limit or None)
    emit(
        rows,
        chosen,
        out_file,
        columns=("kind", "key", "file", "line", "reason", "record"),
        empty="no conflicts",
    )


# ------------------------------------------------------------------ demo


@app.command()
@handles_errors
def demo(
    home: Annotated[
        Path,
        typer.Option("--home", envvar="JEJAK_HOME", help="Folder the demo builds its operator in."),
    ] = Path("./jejak-data"),
    subscribers: Annotated[
        int, typer.Option("--subscribers", help="Size of the simulated operator.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the simulation.")] = 1,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the printed report: en or id.")
    ] = "en",
    full: Annotated[
        bool, typer.Option("--full", help="Print the whole report instead of its summary.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback on errors.")
    ] = False,
) -> None:
    """Simulate an operator with the seed case in it, ingest, detect, and sum up the seed complaint's report."""
    from jejak.demo import demo_accounts, run_demo
    from jejak.investigate.i18n import check_lang
    from jejak.investigate.render_text import render

    check_lang(lang)
    with progress_bar() as report_progress:
        result = run_demo(home, subscribers=subscribers, seed=seed, progress=report_progress)
    console = Console(soft_wrap=False)
    s = result.seconds
    console.print(
        f"[bold]jejak demo[/] in {safe(home)}: "
        + ("reused the operator built before; " if result.reused else "")
        + f"{subscribers:,} subscribers, {result.cases} planted cases, {result.records:,} records; "
        f"{result.alerts:,} alerts. Simulate {s['simulate']:.1f} s, ingest {s['ingest']:.1f} s, "
        f"detect {s['detect']:.1f} s, report {s['investigate']:.2f} s.",
        highlight=False,
        soft_wrap=True,
    )
    report = result.report
    if full:
        render(report, console, lang)
    else:
        v, r = report.verdict, report.remedy
        console.print(
            f"\n[bold]Complaint {report.complaint_id} ({report.msisdn})[/]\n"
            f"[bold]verdict:[/] {v.hypothesis} (operator liable: {'yes' if v.operator_liable else 'no'})",
            highlight=False,
        )
        console.print(f"  {v.reason(lang)}", highlight=False)
        console.print(
            f"[bold]remedy:[/] refund IDR {r.refund:,}"
            + (f" ({', '.join(r.charge_ids)})" if r.charge_ids else "")
            + f", compensation IDR {r.compensation:,}"
            + (", unbar the line" if r.unbar else ""),
            highlight=False,
        )
        console.print(f"  {r.reason(lang)}", highlight=False)
        who = (
            f" --complaint {report.complaint_id}"
            if report.complaint_id
            else f" --msisdn {report.msisdn}"
        )
        console.print(
            f"\nfull report:  jejak investigate{who} --home {home}\n"
            f"alerts:       jejak alerts --by rule --home {home}",
            highlight=False,
            soft_wrap=True,
        )
    for lg, path in result.html.items():
        console.print(f"HTML report ({lg}): {safe(path)}", highlight=False, soft_wrap=True)
    made = demo_accounts(home, result.report.complaint_id)
    console.print(
        f"Staff workbench on this data: [bold]make serve[/] (or jejak serve --home {home}), then "
        "http://127.0.0.1:8000/signin",
        highlight=False,
        soft_wrap=True,
    )
    if made:
        console.print(
            "Demo accounts (shown this once; add each TOTP secret to an authenticator app):",
            highlight=False,
        )
        for name, role, password, secret in made:
            console.print(
                f"  {name:18} {role:13} password {password}  TOTP secret {secret}",
                highlight=False,
                soft_wrap=True,
            )
    else:
        console.print(
            "Demo accounts were made by an earlier run (their passwords were shown then)."
        )


# ------------------------------------------------------------------ store upkeep

store_app = commands("Upkeep of the event store: converting a home made by an earlier version.")


@store_app.command("migrate")
@handles_errors
def store_migrate(home: HomeDir = DEFAULT_HOME, debug: Debug = False) -> None:
    """Convert a home made by an earlier version of jejak to this version's store format.

    Gives every batch its lookup index (built by every ingest since) and deletes the lookup
    files that reports used to build; the data files and the transparency log are not
    touched, so `jejak ledger verify` passes as before. Running it again changes nothing.
    """
    done = _store(home).migrate()
    out.print(
        f"{safe(home)}: store format {done['from']} -> {done['to']}; "
        f"{done['indexed_files']:,} data file(s) indexed",
        highlight=False,
        soft_wrap=True,
    )


# ------------------------------------------------------------------ the other parts
# Each part of jejak keeps its commands beside its library, on an ``app`` of its own
# (:func:`jejak.options.commands`); they are mounted here, one way.


def mount(part: typer.Typer, group: str | None = None) -> None:
    """Put a part's commands on ``jejak``: under ``group`` (``jejak ledger verify``) or, without
    one, at the top (``jejak detect``)."""
    if group is not None:
        app.add_typer(part, name=group)
    else:
        app.registered_commands.extend(part.registered_commands)


from jejak.cases import cli as cases_cli  # noqa: E402
from jejak.cases.report import cli as report_cli  # noqa: E402
from jejak.detect import cli as detect_cli  # noqa: E402
from jejak.investigate import cli as investigate_cli  # noqa: E402
from jejak.ledger import cli as ledger_cli  # noqa: E402
from jejak.simulate import cli as simulate_cli  # noqa: E402

mount(store_app, "store")
mount(detect_cli.app)
mount(ledger_cli.app, "ledger")
mount(investigate_cli.app)
mount(simulate_cli.app)
mount(cases_cli.case_app, "case")
mount(cases_cli.users_app, "users")
mount(cases_cli.app)
mount(report_cli.app, "report")

from jejak.auth import cli as auth_cli  # noqa: E402
from jejak.notify import cli as notify_cli  # noqa: E402
from jejak.web import cli as web_cli  # noqa: E402

mount(auth_cli.app, "auth")
mount(notify_cli.app, "notify")
mount(web_cli.app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
