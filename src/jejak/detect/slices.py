"""What a new batch can change: each rule's slice, and the key and time of every table.

A rule declares in its header through which key and time window new records can change its
findings (``-- slice:``), one of::

    -- slice: agent_id within 0
    -- slice: msisdn within 1 day
    -- slice: outlet_id within 0; whole: outlet_networks
    -- slice: msisdn within all time
    -- slice: whole

``<key> within <window>`` is a promise about the rule's SQL: *an alert whose* ``<key>`` *column
is k and whose* ``at`` *is t depends only on the rows whose key is k and whose time comes within
<window> of t*, in every table the rule reads that has that key (:data:`TABLES`), and on the
tables without it (or named after ``whole:``), which it reads whole. A row's time is an interval
(a session from log-in to log-out, a shift window from its early to its late edge, a record
without a time: all time), and a rule reads a row of an interval table only through whether an
alert's time lies inside it. ``whole`` says the findings depend on everything (peer statistics):
such a rule runs over the whole store every time.

From that promise, :mod:`jejak.detect.incremental` re-evaluates after an ingest only the alerts
of the keys the new records touch, at times within the window of theirs, from the rows within
twice the window, and keeps every other stored alert; a property test compares it with a full
run on random data, alert for alert.

Example::

    >>> s = parse_slice("msisdn within 1 day")
    >>> s.key, s.window
    ('msisdn', datetime.timedelta(days=1))
    >>> parse_slice("outlet_id within 0; whole: outlet_networks").whole
    ('outlet_networks',)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from jejak.errors import RuleError

#: the alert columns a rule can be sliced by
KEYS = ("agent_id", "msisdn", "outlet_id")


@dataclass(frozen=True)
class Table:
    """How the rows of one table (a record kind or a derived table) are keyed and timed.

    ``keys`` maps a slice key to the column holding it. ``lo`` and ``hi`` are SQL expressions
    of the start and end of a row's time (``None``: the row is timeless; a NULL start or end
    is open). For derived tables, ``identity`` names the columns that identify a row from one
    run to the next (a row whose other columns changed is the same row, changed), and
    ``lookup`` marks a table whose rows are a function of their key that appear only with the
    records that name the key: new rows cannot change what older records find in it.
    """

    name: str
    keys: dict[str, str]
    lo: str | None = None
    hi: str | None = None
    identity: tuple[str, ...] = ()
    lookup: bool = False

    @property
    def timed(self) -> bool:
        return self.lo is not None


def _span(a: str, b: str) -> tuple[str, str]:
    return f"least({a}, {b})", f"greatest({a}, {b})"


def _at(column: str = '"at"') -> tuple[str, str]:
    return column, column


#: every table a rule can read, with its keys and times
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        # record kinds
        Table("outlets", {"outlet_id": "outlet_id"}),
        Table("agents", {"agent_id": "agent_id"}),
        Table("subscribers", {"msisdn": "msisdn"}),
        Table("packages", {}),
        Table(
            "shifts",
            {"agent_id": "agent_id", "outlet_id": "outlet_id"},
            *_span("starts_at", "ends_at"),
        ),
        Table("sessions", {"agent_id": "agent_id"}, *_span("started_at", "ended_at")),
        Table(
            "provisioning",
            {"agent_id": "agent_id", "msisdn": "msisdn", "outlet_id": "outlet_id"},
            *_at(),
        ),
        Table("consents", {"msisdn": "msisdn"}, *_at()),
        Table("charges", {"msisdn": "msisdn"}, *_at()),
        Table("notifications", {"msisdn": "msisdn"}, *_at()),
        Table("line_actions", {"msisdn": "msisdn", "agent_id": "agent_id"}, *_at()),
        Table("complaints", {"msisdn": "msisdn"}, *_span("opened_at", "closed_at")),
        Table("locations", {"msisdn": "msisdn"}, *_at()),
        # derived tables (jejak.detect.derived)
        Table("outlet_networks", {"outlet_id": "outlet_id"}, identity=("outlet_id", "network")),
        Table("ip_addresses", {}, identity=("ip",), lookup=True),
        Table(
            "outlet_hours",
            {"outlet_id": "outlet_id"},
            *_span("early_from", "late_until"),
            identity=("outlet_id", "opens_at"),
        ),
        Table("scheduled_outlets", {"outlet_id": "outlet_id"}, identity=("outlet_id",)),
        Table(
            "shift_windows",
            {"agent_id": "agent_id", "outlet_id": "outlet_id"},
            *_span("early_from", "late_until"),
            identity=("shift_id",),
        ),
        # the row covers activity before covered_until
        Table(
            "last_rostered",
            {"agent_id": "agent_id"},
            "CAST(NULL AS TIMESTAMPTZ)",
            "covered_until",
            identity=("agent_id",),
        ),
        Table("rostered_agents", {"agent_id": "agent_id"}, identity=("agent_id",)),
        Table(
            "complaint_spans",
            {"msisdn": "msisdn"},
            "opened_at",
            "open_until",
            identity=("complaint_id",),
        ),
        Table(
            "complaint_charges",
            {"msisdn": "msisdn"},
            *_at("opened_at"),
            identity=("complaint_id", "charge_id"),
        ),
    )
}


@dataclass(frozen=True)
class Slice:
    """A rule's slice: its key and window (``None``: all time), the tables it reads whole; or
    ``whole`` for a rule that depends on everything."""

    key: str | None
    window: timedelta | None
    whole: tuple[str, ...] = ()
    everything: bool = False

    def keyed(self, table: str) -> bool:
        """Whether the rule reads ``table`` restricted to its slice (else whole)."""
        t = TABLES.get(table)
        return (
            not self.everything and t is not None and self.key in t.keys and table not in self.whole
        )

    def __str__(self) -> str:
        if self.everything:
            return "whole"
        window = "all time" if self.window is None else _duration_text(self.window)
        extra = f"; whole: {', '.join(self.whole)}" if self.whole else ""
        return f"{self.key} within {window}{extra}"


_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_SLICE = re.compile(
    r"^(?P<key>[a-z_]+) within (?P<window>[^;]+?)\s*(?:;\s*whole:\s*(?P<whole>.+))?$"
)
_DURATION = re.compile(r"^(?P<n>\d+)(?:\s+(?P<unit>minute|hour|day)s?)?$")


def _duration_text(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    if seconds == 0:
        return "0"
    for unit, size in reversed(_UNITS.items()):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds // 60} minutes"


def parse_slice(text: str, where: str = "slice") -> Slice:
    """Parse a ``slice:`` header value; :class:`RuleError` naming ``where`` on any defect."""
    text = " ".join(text.split())
    if text == "whole" or text.startswith("whole "):
        return Slice(key=None, window=None, everything=True)
    m = _SLICE.match(text)
    if not m:
        raise RuleError(
            where,
            f"slice {text!r} is not '<key> within <window>[; whole: <tables>]' or 'whole'",
        )
    key = m.group("key")
    if key not in KEYS:
        raise RuleError(where, f"slice key {key!r} is not one of {', '.join(KEYS)}")
    window_text = m.group("window").strip()
    window: timedelta | None
    if window_text == "all time":
        window = None
    else:
        d = _DURATION.match(window_text)
        if not d or (d.group("unit") is None and d.group("n") != "0"):
            raise RuleError(
                where, f"slice window {window_text!r} is not like '2 hours' or 'all time'"
            )
        window = timedelta(seconds=int(d.group("n")) * _UNITS.get(d.group("unit") or "minute", 0))
    whole = tuple(t.strip() for t in (m.group("whole") or "").split(",") if t.strip())
    unknown = [t for t in whole if t not in TABLES]
    if unknown:
        raise RuleError(where, f"slice names unknown table(s): {', '.join(unknown)}")
    return Slice(key=key, window=window, whole=whole)
