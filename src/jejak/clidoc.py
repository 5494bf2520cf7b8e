"""The CLI reference, generated from the commands' own ``--help``.

``python -m jejak.clidoc > docs/cli.md`` writes it; ``tests/test_docs.py``
fails when docs/cli.md differs from what this prints, so the reference
cannot drift from the code.
"""

from __future__ import annotations

import os
from typing import Any

import typer

from jejak.cli import app


def _commands(group: Any, prefix: list[str]) -> list[tuple[list[str], Any]]:
    ctx = group.context_class(group)
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        out.append(([*prefix, name], cmd))
        if hasattr(cmd, "list_commands"):
            out.extend(_commands(cmd, [*prefix, name]))
    return out


def render() -> str:
    """The whole reference as Markdown."""
    os.environ["COLUMNS"] = "100"
    os.environ["NO_COLOR"] = "1"
    os.environ["TERM"] = "dumb"
    root = typer.main.get_command(app)
    lines = [
        "# Command reference",
        "",
        "Generated from `--help` by `python -m jejak.clidoc > docs/cli.md`; a test keeps it current.",
        "",
    ]
    from typer.testing import CliRunner

    runner = CliRunner()
    for path, _cmd in [([], root), *_commands(root, [])]:
        name = " ".join(["jejak", *path])
        help_text = runner.invoke(
            app, [*path, "--help"], prog_name="jejak", terminal_width=100
        ).output
        body = [line.rstrip() for line in help_text.strip("\n").splitlines()]
        lines += [f"## `{name}`", "", "```", *body, "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
