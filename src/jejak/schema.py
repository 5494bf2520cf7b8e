"""The operator export format, version 1.1, as data.

Every record kind in ``shared/spec/operator-export.md`` is one :class:`Kind`
here: its fields in the spec's order, each with a type, and the field (or
pair of fields) that identifies a record. Ingest validates against these,
the store writes Parquet with :meth:`Kind.arrow_schema`, the simulator writes
files that these accept, and detection rules query the columns by these names.

Example::

    >>> from jejak.schema import KINDS
    >>> KINDS["provisioning"].key
    ('event_id',)
    >>> KINDS["locations"].key
    ('msisdn', 'at')
    >>> KINDS["outlets"].field("kind").values
    ('service_center', 'dealer', 'call_center', 'online', 'system')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

#: The logical types of the spec. Each maps to one DuckDB and one Arrow type.
FieldType = Literal[
    "str",  # free text or identifier
    "enum",  # one of Field.values
    "timestamp",  # ISO 8601 with a UTC offset; stored as an instant (UTC)
    "date",  # YYYY-MM-DD
    "time",  # HH:MM local time of day
    "cycle",  # YYYY-MM bill cycle
    "money",  # whole IDR, integer (may be negative for credits)
    "int",  # integer
    "bool",  # true / false
    "ip",  # an IPv4 or IPv6 address
    "cidrs",  # a ';'-separated list of CIDR networks
    "list",  # a ';'-separated list of strings
    "timezone",  # an IANA time zone name
    "days",  # opening days such as 'Mon-Sat' or 'Mon-Fri;Sun'
]

DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "enum": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "time": "VARCHAR",
    "cycle": "VARCHAR",
    "money": "BIGINT",
    "int": "BIGINT",
    "bool": "BOOLEAN",
    "ip": "VARCHAR",
    "cidrs": "VARCHAR[]",
    "list": "VARCHAR[]",
    "timezone": "VARCHAR",
    "days": "VARCHAR",
}

ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "enum": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "time": pa.string(),
    "cycle": pa.string(),
    "money": pa.int64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "ip": pa.string(),
    "cidrs": pa.list_(pa.string()),
    "list": pa.list_(pa.string()),
    "timezone": pa.string(),
    "days": pa.string(),
}


@dataclass(frozen=True)
class Field:
    """One field of a record kind."""

    name: str
    type: FieldType
    meaning: str = ""
    values: tuple[str, ...] = ()
    required: bool = False
    #: the format version that added the field; a file of an earlier version may lack its column
    since: str = "1.0"

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class Kind:
    """One record kind: a file of the export holds records of exactly one kind."""

    name: str
    meaning: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    #: the order rows are stored in, so the common lookups read few row groups
    sort: tuple[str, ...]
    #: fields that name a record of another kind: (field, kind, that kind's key field)
    references: tuple[tuple[str, str, str], ...] = field(default=())
    #: the field that places the record in time (for status and time spans)
    time_field: str | None = None
    #: (field, value, other field): when field has value, other field must be given
    requires: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def optional_columns(self) -> frozenset[str]:
        """Fields added after version 1.0: a file may lack their columns (read as empty)."""
        return frozenset(f.name for f in self.fields if f.since != "1.0")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.arrow_type) for f in self.fields])


def _f(
    name: str,
    type_: FieldType,
    meaning: str = "",
    *values: str,
    required: bool = False,
    since: str = "1.0",
) -> Field:
    return Field(name, type_, meaning, tuple(values), required, since)


CHANNELS = ("outlet", "dealer", "call_center", "app", "ussd", "web", "system")

_KINDS: tuple[Kind, ...] = (
    Kind(
        "outlets",
        "every place or channel that can act on a subscriber's line",
        (
            _f("outlet_id", "str", "identifier", required=True),
            _f("name", "str", "e.g. GraPARI Sragen"),
            _f(
                "kind",
                "enum",
                "kind of outlet",
                "service_center",
                "dealer",
                "call_center",
                "online",
                "system",
            ),
            _f("region", "str", "operator region"),
            _f("city", "str"),
            _f("timezone", "timezone", "IANA name"),
            _f("opens", "time", "opening time, local"),
            _f("closes", "time", "closing time, local"),
            _f("open_days", "days", "e.g. Mon-Sat; empty = every day"),
            _f("networks", "cidrs", "address ranges of the outlet's terminals"),
        ),
        key=("outlet_id",),
        sort=("outlet_id",),
    ),
    Kind(
        "agents",
        "every staff, dealer or system user ID",
        (
            _f("agent_id", "str", "the user ID", required=True),
            _f("person", "str", "the person the ID is issued to"),
            _f("role", "enum", "", "cs", "supervisor", "dealer", "backoffice", "system"),
            _f("outlet_id", "str", "home outlet"),
            _f("status", "enum", "", "active", "on_leave", "suspended", "terminated"),
            _f("valid_from", "date", "first day the ID may be used"),
            _f("valid_to", "date", "last day the ID may be used; empty = no end"),
        ),
        key=("agent_id",),
        sort=("agent_id",),
        references=(("outlet_id", "outlets", "outlet_id"),),
    ),
    Kind(
        "shifts",
        "the roster, including out-of-hours duty",
        (
            _f("shift_id", "str", required=True),
            _f("agent_id", "str"),
            _f("outlet_id", "str", "where the shift is worked"),
            _f("starts_at", "timestamp"),
            _f("ends_at", "timestamp"),
            _f("duty", "enum", "", "regular", "on_call"),
        ),
        key=("shift_id",),
        sort=("outlet_id", "starts_at"),
        references=(("agent_id", "agents", "agent_id"), ("outlet_id", "outlets", "outlet_id")),
        time_field="starts_at",
    ),
    Kind(
        "sessions",
        "staff log-ins to the provisioning / CRM front end",
        (
            _f("session_id", "str", required=True),
            _f("agent_id", "str", "the user ID that logged in"),
            _f("started_at", "timestamp"),
            _f("ended_at", "timestamp", "empty = unknown / still open"),
            _f("source_ip", "ip"),
            _f("device_id", "str", "terminal or device identifier"),
            _f("auth", "enum", "", "password", "password_otp", "sso", "certificate"),
        ),
        key=("session_id",),
        sort=("agent_id", "started_at"),
        references=(("agent_id", "agents", "agent_id"),),
        time_field="started_at",
    ),
    Kind(
        "subscribers",
        "subscribers",
        (
            _f("msisdn", "str", required=True),
            _f("plan", "enum", "", "prepaid", "postpaid"),
            _f("home_region", "str"),
            _f("since", "date"),
            _f("status", "enum", "", "active", "barred", "terminated"),
        ),
        key=("msisdn",),
        sort=("msisdn",),
    ),
    Kind(
        "packages",
        "the package catalogue",
        (
            _f("package_id", "str", required=True),
            _f("name", "str"),
            _f("price", "money", "price per period"),
            _f("period_days", "int"),
            _f("data_mb", "int"),
            _f("auto_renew", "bool"),
        ),
        key=("package_id",),
        sort=("package_id",),
    ),
    Kind(
        "provisioning",
        "every change to a subscriber's packages",
        (
            _f("event_id", "str", required=True),
            _f("at", "timestamp"),
            _f("msisdn", "str"),
            _f("action", "enum", "", "activate", "renew", "modify", "deactivate", "expire"),
            _f("package_id", "str"),
            _f("channel", "enum", "", *CHANNELS),
            _f("agent_id", "str", "user ID that did it; empty for self-service and system"),
            _f("session_id", "str", "the agent's session; empty when unknown"),
            _f("outlet_id", "str"),
            _f("source_ip", "ip"),
            _f("device_id", "str"),
            _f("consent_id", "str", "the subscriber's consent; empty = none recorded"),
            _f("price", "money", "what this action costs per period (0 during a free promo)"),
            _f("promo_ends", "date", "when a promotional price ends; empty = no promo"),
        ),
        key=("event_id",),
        sort=("msisdn", "at"),
        references=(
            ("msisdn", "subscribers", "msisdn"),
            ("package_id", "packages", "package_id"),
            ("agent_id", "agents", "agent_id"),
            ("session_id", "sessions", "session_id"),
            ("outlet_id", "outlets", "outlet_id"),
            ("consent_id", "consents", "consent_id"),
        ),
        time_field="at",
    ),
    Kind(
        "consents",
        "the subscriber's proof of agreement",
        (
            _f("consent_id", "str", required=True),
            _f("msisdn", "str"),
            _f("at", "timestamp"),
            _f(
                "method",
                "enum",
                "",
                "sms_otp",
                "ussd_confirm",
                "app_pin",
                "signed_form",
                "voice_recording",
            ),
            _f("verified", "bool", "the operator's system verified it"),
            _f("evidence", "str", "URI or document reference"),
        ),
        key=("consent_id",),
        sort=("msisdn", "at"),
        references=(("msisdn", "subscribers", "msisdn"),),
        time_field="at",
    ),
    Kind(
        "charges",
        "what was billed",
        (
            _f("charge_id", "str", required=True),
            _f("msisdn", "str"),
            _f("cycle", "cycle", "bill cycle YYYY-MM"),
            _f("at", "timestamp", "when posted"),
            _f("package_id", "str", "empty for usage and fees"),
            _f("amount", "money", "positive = debit, negative = credit"),
            _f("kind", "enum", "", "package", "usage", "fee", "adjustment"),
            _f("description", "str"),
        ),
        key=("charge_id",),
        sort=("msisdn", "at"),
        references=(("msisdn", "subscribers", "msisdn"), ("package_id", "packages", "package_id")),
        time_field="at",
    ),
    Kind(
        "notifications",
        "what the subscriber was told",
        (
            _f("notification_id", "str", required=True),
            _f("msisdn", "str"),
            _f("at", "timestamp"),
            _f("channel", "enum", "", "sms", "email", "app"),
            _f(
                "type",
                "enum",
                "",
                "package_activated",
                "package_deactivated",
                "package_expiring",
                "bill_issued",
                "payment_due",
                "line_barred",
                "complaint_update",
            ),
            _f("package_id", "str", "optional"),
            _f("text", "str"),
        ),
        key=("notification_id",),
        sort=("msisdn", "at"),
        references=(("msisdn", "subscribers", "msisdn"), ("package_id", "packages", "package_id")),
        time_field="at",
    ),
    Kind(
        "line_actions",
        "barring and unbarring",
        (
            _f("action_id", "str", required=True),
            _f("msisdn", "str"),
            _f("at", "timestamp"),
            _f("action", "enum", "", "bar_outgoing", "bar_all", "unbar"),
            _f("reason", "enum", "", "non_payment", "fraud", "customer_request", "regulatory"),
            _f("amount_due", "money", "for non_payment"),
            _f("agent_id", "str", "optional"),
        ),
        key=("action_id",),
        sort=("msisdn", "at"),
        references=(("msisdn", "subscribers", "msisdn"), ("agent_id", "agents", "agent_id")),
        time_field="at",
    ),
    Kind(
        "complaints",
        "the subscriber's complaints",
        (
            _f("complaint_id", "str", "the ticket number given to the subscriber", required=True),
            _f("msisdn", "str"),
            _f("opened_at", "timestamp"),
            _f(
                "channel",
                "enum",
                "",
                "call_center",
                "outlet",
                "app",
                "web",
                "email",
                "social_media",
            ),
            _f("category", "enum", "", "unauthorized_activation", "billing", "service", "other"),
            _f("summary", "str"),
            _f("disputed_charge_ids", "list"),
            _f("disputed_amount", "money"),
            _f("status", "enum", "optional (1.1); empty = open", "open", "closed", since="1.1"),
            _f(
                "closed_at",
                "timestamp",
                "optional (1.1): when the operator's CRM closed it; required when status is closed",
                since="1.1",
            ),
            _f(
                "resolution",
                "enum",
                "optional (1.1)",
                "upheld",
                "rejected",
                "withdrawn",
                "partial",
                since="1.1",
            ),
        ),
        key=("complaint_id",),
        sort=("msisdn", "opened_at"),
        references=(("msisdn", "subscribers", "msisdn"),),
        time_field="opened_at",
        requires=(("status", "closed", "closed_at"),),
    ),
    Kind(
        "locations",
        "where the subscriber's handset was, from network records",
        (
            _f("msisdn", "str", required=True),
            _f("at", "timestamp", required=True),
            _f("region", "str"),
            _f("city", "str"),
            _f("cell_id", "str"),
        ),
        key=("msisdn", "at"),
        sort=("msisdn", "at"),
        references=(("msisdn", "subscribers", "msisdn"),),
        time_field="at",
    ),
)

#: Every record kind, by name, in the spec's order.
KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}

#: Which provisioning-like references are integrity findings when dangling (the spec's list:
#: "an outlet, agent, package, session or consent that jejak does not know").
DANGLING_TARGETS = ("outlets", "agents", "packages", "sessions", "consents")

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def kind_of_path(name: str) -> str | None:
    """The record kind a file or folder name stands for, or None.

    The kind is the name's stem up to the first ``-`` or ``.``::

        >>> kind_of_path("provisioning-2016-07.jsonl.gz")
        'provisioning'
        >>> kind_of_path("part-0001.parquet") is None
        True
    """
    stem = name.split(".", 1)[0].split("-", 1)[0]
    return stem if stem in KINDS else None


def parse_open_days(text: str | None) -> frozenset[int]:
    """The weekdays (0 = Monday) an ``open_days`` value names; empty means every day.

    >>> sorted(parse_open_days("Mon-Fri;Sun"))
    [0, 1, 2, 3, 4, 6]
    >>> sorted(parse_open_days("Fri-Mon"))
    [0, 4, 5, 6]
    """
    if text is None or not text.strip():
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(";"):
        part = part.strip()
        if "-" in part:
            a, b = (p.strip() for p in part.split("-", 1))
            if a not in WEEKDAYS or b not in WEEKDAYS:
                raise ValueError(f"unknown weekday in {part!r}")
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            while True:
                days.add(i)
                if i == j:
                    break
                i = (i + 1) % 7
        elif part in WEEKDAYS:
            days.add(WEEKDAYS.index(part))
        else:
            raise ValueError(f"unknown weekday {part!r}")
    return frozenset(days)
