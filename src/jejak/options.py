"""What every ``jejak`` command shares: the ``--home`` and ``--debug`` options, one-line errors
with an exit status, and a progress bar on standard error.

Each part of jejak keeps its commands beside its library (``detect/cli.py``,
``ledger/cli.py`` ...) on an ``app = commands(...)`` of its own, and takes these
from here, so that they read and fail the same way; :mod:`jejak.cli` mounts every
part's ``app`` on the one ``jejak`` command, one way (``mount``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jejak import fsio
from jejak.errors import JejakError, UsageError
from jejak.settings import settings
from jejak.terminal import safe

err = Console(stderr=True)


#: ``-h`` as well as ``--help`` on every command
CONTEXT = {"help_option_names": ["-h", "--help"]}


def commands(help: str | None = None) -> typer.Typer:
    """The command group of one part of jejak (mounted by :mod:`jejak.cli`)."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings=CONTEXT,
    )


HomeDir = Annotated[
    Path,
    typer.Option(
        "--home",
        envvar="JEJAK_HOME",
        help="Folder holding one operator's data, cases and ledger.",
        show_default=True,
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
DEFAULT_HOME = Path("./jejak-data")

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    """Turn jejak errors into one line on stderr and an exit status (traceback with --debug)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug")) or settings().debug
        try:
            return fn(*args, **kwargs)
        except JejakError as exc:
            if debug:
                raise
            err.print(f"[bold red]error:[/] {safe(exc)}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing of the unfinished step was committed")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            if debug:
                raise
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            err.print(
                f"[bold red]internal error:[/] {exc.__class__.__name__}: {safe(first)} (run again with --debug for the traceback)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(3) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr for long work; the library reports (stage, done, total)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        yield report


# ------------------------------------------------------------------ output convention
# Every command that prints data takes ``--format`` with these names (the ones that make sense
# for it) and ``--out FILE``; without ``--format`` the format is read from ``--out``'s extension,
# so that ``--out r.html`` writes HTML and never terminal text.

#: every output format name a command may offer
FORMATS = ("table", "json", "jsonl", "csv", "parquet", "html")
#: a file extension and the format it means
SUFFIXES = {
    ".txt": "table",
    ".md": "table",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".html": "html",
    ".htm": "html",
}


def format_choices(*names: str) -> type[StrEnum]:
    """The ``--format`` choices of one command (shown in its help as ``[table|json|...]``)."""
    unknown = set(names) - set(FORMATS)
    if unknown:
        raise ValueError(f"not output formats: {sorted(unknown)}")
    return StrEnum("Format", {n: n for n in names})  # type: ignore[return-value]


def format_option(choices: type[StrEnum]) -> Any:
    """The ``--format`` option over ``choices`` (default: from ``--out``'s extension, else the
    first choice)."""
    names = ", ".join(c.value for c in choices)
    return Annotated[
        choices | None,
        typer.Option(
            "--format",
            help=f"Output format ({names}); default: from --out's extension, else {next(iter(choices)).value}.",
            show_default=False,
        ),
    ]


OutFile = Annotated[
    Path | None,
    typer.Option("--out", help="Write to this file (its extension picks the format)."),
]


def output_format(
    fmt: StrEnum | str | None, out: Path | None, choices: type[StrEnum] | Sequence[str]
) -> str:
    """The format to write: ``fmt`` if given, else the one ``out``'s extension names, else the
    first of ``choices``. One line naming the option when they disagree or it is not offered."""
    allowed = [c.value if isinstance(c, StrEnum) else str(c) for c in choices]
    implied = SUFFIXES.get(out.suffix.lower()) if out is not None else None
    if fmt is not None:
        chosen = fmt.value if isinstance(fmt, StrEnum) else str(fmt)
        if chosen not in allowed:
            raise UsageError(
                "--format", f"unknown format {chosen!r} (choose from: {', '.join(allowed)})"
            )
        if out is not None and implied is not None and implied != chosen:
            raise UsageError(
                "--out", f"{out.name} names {implied} but --format is {chosen}; make them agree"
            )
        return chosen
    if out is not None:
        if implied is None or implied not in allowed:
            raise UsageError(
                "--out",
                f"cannot tell the format from {out.name!r} (extensions: "
                + ", ".join(s for s, f in SUFFIXES.items() if f in allowed)
                + "); give --format",
            )
        return implied
    return allowed[0]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def rows_text(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str]) -> str:
    """``rows`` as JSON (a list), JSON lines or CSV (lists ``;``-joined) text."""
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=1, default=str) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
        return buf.getvalue()
    raise ValueError(fmt)


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    out: Path | None,
    *,
    columns: Sequence[str],
    title: str = "",
    empty: str = "nothing to show",
    arrow: Callable[[], Any] | None = None,
) -> None:
    """Print or write ``rows`` in ``fmt`` (table, json, jsonl, csv, parquet); a file is written
    atomically and its path printed. ``arrow`` makes the typed Arrow table for Parquet."""
    if fmt == "parquet":
        if out is None:
            raise UsageError("--format", "parquet is written to a file: give --out FILE.parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = arrow() if arrow else pa.Table.from_pylist(list(rows))
        buf = io.BytesIO()
        pq.write_table(table, buf)
        fsio.write_atomic(out, buf.getvalue(), mkdir=True)
        typer.echo(str(out))
        return
    if fmt == "table":
        console = Console(soft_wrap=False)
        if out is not None or not console.is_terminal:  # a file or a pipe: cut nothing
            console = Console(file=io.StringIO() if out else None, soft_wrap=False, width=240)
        if not rows:
            console.print(empty, highlight=False)
        else:
            table = Table(title=title or None)
            for c in columns:
                table.add_column(c, overflow="fold")
            for r in rows:
                table.add_row(*(escape_cell(_cell(r.get(c))) for c in columns))
            console.print(table)
        if out is not None:
            fsio.write_atomic(out, console.file.getvalue().encode(), mkdir=True)  # type: ignore[attr-defined]
            typer.echo(str(out))
        return
    text = rows_text(rows, fmt, columns)
    if out is not None:
        fsio.write_atomic(out, text.encode("utf-8"), mkdir=True)
        typer.echo(str(out))
    else:
        sys.stdout.write(text)


def write_text(text: str, out: Path | None) -> None:
    """``text`` to ``out`` (atomically, path printed) or to standard output."""
    if out is None:
        sys.stdout.write(text)
        return
    fsio.write_atomic(out, text.encode("utf-8"), mkdir=True)
    typer.echo(str(out))


def escape_cell(value: str) -> str:
    """A data value for a rich table cell: shown as text, never read as markup or control."""
    return safe(value)
