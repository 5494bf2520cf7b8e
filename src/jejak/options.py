"""What every ``jejak`` command shares: the ``--home`` and ``--debug`` options, one-line errors
with an exit status, and a progress bar on standard error.

Each part of jejak keeps its commands beside its library (``detect/cli.py``,
``ledger/cli.py`` ...) on an ``app = commands(...)`` of its own, and takes these
from here, so that they read and fail the same way; :mod:`jejak.cli` mounts every
part's ``app`` on the one ``jejak`` command, one way (``mount``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jejak.errors import JejakError
from jejak.settings import settings
from jejak.terminal import safe

err = Console(stderr=True)


def commands(help: str | None = None) -> typer.Typer:
    """The command group of one part of jejak (mounted by :mod:`jejak.cli`)."""
    return typer.Typer(
        help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
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
