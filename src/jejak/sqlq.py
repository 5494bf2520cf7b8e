"""SQL quoting: the one place jejak turns a value or a name into SQL text.

DuckDB cannot take a file name or a list of files as a bound parameter in ``read_parquet``,
and a ``COPY ... TO`` target cannot be one either, so those are written into the statement;
every such value goes through :func:`literal` (single quotes doubled, as SQL-92 says) and every
name through :func:`ident` (double quotes doubled). Values a user gives are still bound as
parameters (``?``) wherever the engine allows it.

Example::

    >>> literal("O'Brien")
    "'O''Brien'"
    >>> ident('a"b')
    '"a""b"'
    >>> path_list(["/a/1.parquet", "/a/2.parquet"])
    "['/a/1.parquet', '/a/2.parquet']"
    >>> read_parquet(["/a/1.parquet"], union_by_name=True)
    "read_parquet(['/a/1.parquet'], hive_partitioning=false, union_by_name=true)"
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def literal(value: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def path_list(paths: Iterable[str | Path]) -> str:
    """A SQL list of file names, as ``read_parquet`` takes it."""
    return "[" + ", ".join(literal(p) for p in paths) + "]"


def read_parquet(paths: Iterable[str | Path], **options: bool) -> str:
    """DuckDB's ``read_parquet`` over ``paths``; the folders' names never become columns
    (``hive_partitioning=false``); ``options`` are DuckDB's (``union_by_name=True`` ...)."""
    opts = {"hive_partitioning": False, **options}
    return (
        f"read_parquet({path_list(paths)}, "
        + ", ".join(f"{k}={'true' if v else 'false'}" for k, v in opts.items())
        + ")"
    )


__all__ = ["ident", "literal", "path_list", "read_parquet"]
