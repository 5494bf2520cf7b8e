"""Field validation: the contract of the export format, as SQL and Python checks.

Each field of a kind (``jejak.schema``) becomes a pair of DuckDB expressions:
the typed value, and an error text that is NULL when the cell is good. Types
that SQL checks well (timestamps, dates, integers, enums, booleans) are checked
in SQL, row by row, at DuckDB's speed. Types that need a real parser (IP
addresses, CIDR networks, time zones, opening days) are checked once per
*distinct* value in Python, with the standard library's ``ipaddress`` and
``zoneinfo``, and joined back — there are few distinct addresses in a month of
activations.

Example::

    >>> check_ip("10.20.30.017")[1]
    "malformed IP address '10.20.30.017'"
    >>> check_ip("2001:DB8::1")
    ('2001:db8::1', None)
"""

from __future__ import annotations

import ipaddress
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from jejak.schema import Field, Kind, parse_open_days
from jejak.sqlq import literal

TS_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$"
TS_OFFSET_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)$"
#: UTC offsets run from -14:00 to +14:00 (ISO 8601 allows any; no zone on Earth goes further)
OFFSET_OK_RE = r"(Z|z|[+-](0\d|1[0-3])(:?[0-5]\d)?|[+-]14(:?00)?)$"
#: E.164: a country code that does not start with 0, at most 15 digits, no "+" (the spec's form)
MSISDN_RE = r"^[1-9]\d{6,14}$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
TIME_RE = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"
CYCLE_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
INT_RE = r"^-?\d{1,18}$"
BOOL_TRUE = ("true", "1", "t", "yes", "y")
BOOL_FALSE = ("false", "0", "f", "no", "n")

_ZONES: set[str] | None = None


def _shown(col: str) -> str:
    """SQL for the offending value, quoted and cut short, for an error text."""
    return f"'''' || left({col}::VARCHAR, 40) || ''''"


# ----------------------------------------------------------- python checks


def check_ip(value: str) -> tuple[str | None, str | None]:
    try:
        return str(ipaddress.ip_address(value.strip())), None
    except ValueError:
        return None, f"malformed IP address {value[:40]!r}"


def check_cidrs(value: str) -> tuple[list[str] | None, str | None]:
    nets: list[str] = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(str(ipaddress.ip_network(part, strict=True)))
        except ValueError as exc:
            why = "host bits set" if "host bits" in str(exc) else "malformed"
            return None, f"{why} CIDR network {part[:40]!r}"
    return nets, None


def check_timezone(value: str) -> tuple[str | None, str | None]:
    global _ZONES
    if _ZONES is None:
        _ZONES = set(zoneinfo.available_timezones())
    v = value.strip()
    if v in _ZONES or v == "UTC":
        return v, None
    return None, f"unknown IANA time zone {value[:40]!r}"


def check_days(value: str) -> tuple[str | None, str | None]:
    try:
        parse_open_days(value)
    except ValueError as exc:
        return None, f"bad opening days {value[:40]!r} ({exc})"
    return value.strip(), None


PY_CHECKS: dict[str, tuple[Callable[[str], tuple[object, str | None]], pa.DataType]] = {
    "ip": (check_ip, pa.string()),
    "cidrs": (check_cidrs, pa.list_(pa.string())),
    "timezone": (check_timezone, pa.string()),
    "days": (check_days, pa.string()),
}


def lookup_table(f: Field, values: list[str]) -> pa.Table:
    """The (value, typed, error) table for the distinct values of a Python-checked field."""
    check, typ = PY_CHECKS[f.type]
    typed, errors = [], []
    for v in values:
        t, e = check(v)
        typed.append(t)
        errors.append(f"{f.name}: {e}" if e else None)
    return pa.table(
        {
            "v": pa.array(values, pa.string()),
            "t": pa.array(typed, typ),
            "e": pa.array(errors, pa.string()),
        }
    )


# -------------------------------------------------------------- sql checks


@dataclass
class Column:
    """How one field is read from a source: its SQL expression and whether it is text."""

    expr: str
    text: bool = True
    #: for non-text Parquet columns: the arrow type, to decide how to convert
    arrow: pa.DataType | None = None


def field_sql(f: Field, col: Column, lookup_alias: str | None) -> tuple[str, str]:
    """(typed value, error) SQL expressions for field ``f`` read as ``col``."""
    name = f.name
    if lookup_alias is not None:
        src = f"nullif({col.expr}, '')"
        value = f"{lookup_alias}.t"
        err = f"{lookup_alias}.e"
        return value, _required(f, src, err)
    if not col.text:
        return _typed_sql(f, col)
    s = f"nullif({col.expr}, '')"
    t = f.type
    if t in ("str",) and name == "msisdn":
        err = (
            f"CASE WHEN NOT regexp_matches({s}, {literal(MSISDN_RE)}) "
            f"THEN '{name}: not an E.164 number (7 to 15 digits, no +) ' || {_shown(s)} END"
        )
        return s, _required(f, s, err)
    if t in ("str",):
        return s, _required(f, s, None)
    if t == "enum":
        allowed = ", ".join(literal(v) for v in f.values)
        err = f"CASE WHEN {s} NOT IN ({allowed}) THEN '{name}: unknown value ' || {_shown(s)} END"
        return s, _required(f, s, err)
    if t == "timestamp":
        value = (
            f"CASE WHEN regexp_matches({s}, {literal(TS_OFFSET_RE)}) AND regexp_matches({s}, "
            f"{literal(OFFSET_OK_RE)}) THEN try_cast({s} AS TIMESTAMPTZ) END"
        )
        err = (
            f"CASE WHEN {s} IS NULL THEN NULL "
            f"WHEN regexp_matches({s}, {literal(TS_RE)}) THEN '{name}: timestamp without UTC offset ' || {_shown(s)} "
            f"WHEN NOT regexp_matches({s}, {literal(TS_OFFSET_RE)}) OR try_cast({s} AS TIMESTAMPTZ) IS NULL "
            f"THEN '{name}: not an ISO 8601 timestamp ' || {_shown(s)} "
            f"WHEN NOT regexp_matches({s}, {literal(OFFSET_OK_RE)}) "
            f"THEN '{name}: UTC offset beyond ±14:00 ' || {_shown(s)} END"
        )
        return value, _required(f, s, err)
    if t == "date":
        value = f"CASE WHEN regexp_matches({s}, {literal(DATE_RE)}) THEN try_cast({s} AS DATE) END"
        err = (
            f"CASE WHEN {s} IS NOT NULL AND (NOT regexp_matches({s}, {literal(DATE_RE)}) "
            f"OR try_cast({s} AS DATE) IS NULL) THEN '{name}: not a YYYY-MM-DD date ' || {_shown(s)} END"
        )
        return value, _required(f, s, err)
    if t in ("time", "cycle"):
        rx, what = (TIME_RE, "an HH:MM time") if t == "time" else (CYCLE_RE, "a YYYY-MM cycle")
        err = f"CASE WHEN NOT regexp_matches({s}, {literal(rx)}) THEN '{name}: not {what} ' || {_shown(s)} END"
        return s, _required(f, s, err)
    if t in ("money", "int"):
        what = "whole rupiah" if t == "money" else "an integer"
        value = f"CASE WHEN regexp_matches({s}, {literal(INT_RE)}) THEN CAST({s} AS BIGINT) END"
        err = f"CASE WHEN NOT regexp_matches({s}, {literal(INT_RE)}) THEN '{name}: not {what} ' || {_shown(s)} END"
        return value, _required(f, s, err)
    if t == "bool":
        trues = ", ".join(literal(v) for v in BOOL_TRUE)
        falses = ", ".join(literal(v) for v in BOOL_FALSE)
        value = f"CASE WHEN lower({s}) IN ({trues}) THEN true WHEN lower({s}) IN ({falses}) THEN false END"
        err = f"CASE WHEN lower({s}) NOT IN ({trues}, {falses}) THEN '{name}: not true or false ' || {_shown(s)} END"
        return value, _required(f, s, err)
    if t == "list":
        return _clean_list(f"string_split({s}, ';')"), _required(f, s, None)
    raise ValueError(f"no SQL check for type {t}")  # pragma: no cover - schema and checks agree


def _typed_sql(f: Field, col: Column) -> tuple[str, str]:
    """A Parquet column that already has a type: convert, and catch what the type cannot."""
    e = col.expr
    arrow = col.arrow
    t = f.type
    if t == "timestamp":
        if arrow is not None and pa.types.is_timestamp(arrow) and arrow.tz is None:
            err = f"CASE WHEN {e} IS NOT NULL THEN '{f.name}: timestamp without UTC offset' END"
            return f"CAST({e} AS TIMESTAMPTZ)", _required(f, e, err)
        if arrow is not None and pa.types.is_timestamp(arrow):
            return f"CAST({e} AS TIMESTAMPTZ)", _required(f, e, None)
    if t == "date" and arrow is not None and pa.types.is_date(arrow):
        return f"CAST({e} AS DATE)", _required(f, e, None)
    if t in ("money", "int") and arrow is not None and pa.types.is_integer(arrow):
        return f"CAST({e} AS BIGINT)", _required(f, e, None)
    if t in ("money", "int") and arrow is not None and pa.types.is_floating(arrow):
        what = "whole rupiah" if t == "money" else "an integer"
        err = (
            f"CASE WHEN {e} IS NOT NULL AND ({e} <> floor({e}) OR abs({e}) > 1e18) "
            f"THEN '{f.name}: not {what} ' || {_shown(e)} END"
        )
        return (
            f"CASE WHEN {e} = floor({e}) AND abs({e}) <= 1e18 THEN CAST({e} AS BIGINT) END",
            _required(f, e, err),
        )
    if t == "bool" and arrow is not None and pa.types.is_boolean(arrow):
        return e, _required(f, e, None)
    if (
        t == "list"
        and arrow is not None
        and (pa.types.is_list(arrow) or pa.types.is_large_list(arrow))
    ):
        return _clean_list(f"CAST({e} AS VARCHAR[])"), _required(f, e, None)
    # anything else: read it as text and check it as text
    return field_sql(f, Column(f"CAST({e} AS VARCHAR)"), None)


def _clean_list(items: str) -> str:
    """Items trimmed, empty ones dropped; an empty list is NULL ("none recorded"), whatever the
    format: an empty CSV cell, an empty JSON array and an empty Parquet list are the same record."""
    kept = f"list_filter(list_transform({items}, lambda x: trim(x)), lambda x: x <> '')"
    return f"CASE WHEN len({kept}) > 0 THEN {kept} END"


def _required(f: Field, s: str, err: str | None) -> str:
    if f.required:
        missing = f"CASE WHEN {s} IS NULL THEN '{f.name}: missing identifier' END"
        return f"coalesce({missing}, {err})" if err else missing
    return err or "NULL"


def select_sql(
    kind: Kind,
    columns: dict[str, Column],
    source: str,
    lookups: dict[str, str],
    carry: tuple[str, ...] = (),
) -> str:
    """SELECT the typed fields of ``kind`` from ``source`` with ``_error`` (NULL = good) and ``_line``.

    ``lookups`` maps a Python-checked field to the temp table of its distinct values;
    ``carry`` names more columns of ``source`` to pass through as they are.
    """
    values, errors, joins = [], [], []
    typed: dict[str, str] = {}
    for i, f in enumerate(kind.fields):
        alias = None
        if f.name in lookups:
            alias = f"_lk{i}"
            joins.append(
                f"LEFT JOIN {lookups[f.name]} {alias} ON nullif({columns[f.name].expr}, '') = {alias}.v"
            )
        value, err = field_sql(f, columns[f.name], alias)
        values.append(f'{value} AS "{f.name}"')
        errors.append(err)
        typed[f.name] = value
    for name, when, needed in kind.requires:
        errors.append(
            f"CASE WHEN {typed[name]} = {literal(when)} AND {typed[needed]} IS NULL "
            f"THEN '{needed}: required when {name} is {when}' END"
        )
    error = "nullif(concat_ws('; ', " + ", ".join(errors) + "), '')"
    return (
        f"SELECT {', '.join(values)}, {error} AS _error, src._line AS _line"
        f"{''.join(f', src.{c} AS {c}' for c in carry)} FROM {source} src " + " ".join(joins)
    )


def canonical_sql(kind: Kind, alias: str = "") -> str:
    """SQL for a record's canonical text: every field in spec order, in a fixed, engine-free form.

    Two rows are the same record when their canonical texts are equal; the
    content hash and the ledger's commitment are taken over this text, so it
    must be injective. Fields are joined by 0x1F and a missing value is a lone
    0x00. A value that holds 0x1F or 0x00 itself (or a list item that holds the
    list separator ``;``) is written as 0x00, a tag and the hex of its UTF-8
    bytes, which no plain value and no missing value can be. Every other value
    is written as it is, so the canonical text of such records, and with it
    every commitment already in a log, is unchanged by this rule. Fields added
    after version 1.0 are appended only when one of them is given, so that a record
    without them has the same text (and commitment) as under version 1.0.
    """
    p = f"{alias}." if alias else ""
    parts: list[str] = []
    later: list[str] = []
    for f in kind.fields:
        c = f'{p}"{f.name}"'
        if f.type == "timestamp":
            r = f"CAST(epoch_us({c}) AS VARCHAR)"
        elif f.type in ("list", "cidrs"):
            joined = f"array_to_string({c}, ';')"
            odd = f"list_bool_or(list_transform({c}, lambda x: {_odd('x', ';')}))"
            r = f"CASE WHEN {odd} THEN chr(0) || 'L' || hex(CAST(to_json({c}) AS VARCHAR)) ELSE {joined} END"
        elif f.type in ("money", "int", "date", "bool"):
            r = f"CAST({c} AS VARCHAR)"
        else:
            r = f"CASE WHEN {_odd(c)} THEN chr(0) || 'X' || hex({c}) ELSE {c} END"
        (parts if f.since == "1.0" else later).append(f"coalesce({r}, chr(0))")
    if later:
        given = " OR ".join(f'{p}"{f.name}" IS NOT NULL' for f in kind.fields if f.since != "1.0")
        parts.append(f"CASE WHEN {given} THEN concat_ws(chr(31), {', '.join(later)}) END")
    return f"concat_ws(chr(31), {literal(kind.name)}, " + ", ".join(parts) + ")"


def _odd(c: str, also: str = "") -> str:
    """SQL: whether text ``c`` holds a character the canonical text uses as a separator."""
    extra = f" OR contains({c}, {literal(also)})" if also else ""
    return f"(contains({c}, chr(0)) OR contains({c}, chr(31)){extra})"


def hash_sql(kind: Kind, alias: str = "") -> str:
    """SQL for a 64-bit content hash (upper half of MD5 over the canonical text)."""
    return f"md5_number_upper({canonical_sql(kind, alias)})"


def key_sql(kind: Kind, alias: str = "") -> str:
    """SQL for a record's identifier as one text (pairs joined with a unit separator)."""
    p = f"{alias}." if alias else ""
    parts = []
    for k in kind.key:
        f = kind.field(k)
        c = f'{p}"{k}"'
        parts.append(f"CAST(epoch_us({c}) AS VARCHAR)" if f.type == "timestamp" else c)
    if len(parts) == 1:
        return parts[0]
    return "concat_ws(chr(31), " + ", ".join(parts) + ")"


def is_text(arrow: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(arrow) or pa.types.is_large_string(arrow) or pa.types.is_null(arrow)
    )


__all__ = [
    "Column",
    "canonical_sql",
    "check_cidrs",
    "check_days",
    "check_ip",
    "check_timezone",
    "field_sql",
    "hash_sql",
    "is_text",
    "key_sql",
    "lookup_table",
    "select_sql",
]
