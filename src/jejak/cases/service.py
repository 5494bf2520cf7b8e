"""The dispute workflow: open a case, act on it, ask whether billing may bar a line.

Every call is one database transaction: an action's timeline entry, the change of the case,
its ledger outbox row, the customer's message and, for money, the billing outbox row land
together or not at all; :func:`jejak.cases.audit.drain` then puts the entry into the
transparency log (see that module for why a crash cannot split the two).

Example::

    >>> cases = Cases.open("./jejak-data")                                   # doctest: +SKIP
    >>> case, created = cases.open_case("TCK-2017-0206-0001")                # doctest: +SKIP
    >>> case["ack_due"], case["investigation"]["hypothesis"]                 # doctest: +SKIP
    ('2017-02-07T23:59:59+07:00', 'credential_misuse')
    >>> cases.act(case["case_id"], "rina", "acknowledge", {}, case["version"])   # doctest: +SKIP
    >>> cases.can_bar("6281100000001", 500000)                               # doctest: +SKIP
    {'allowed': False, 'reason': '...', 'case_ids': ['CASE-TCK-2017-0206-0001']}
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from jejak.cases import audit, messages, permissions
from jejak.cases.db import Database, Prepared
from jejak.cases.models import (
    AccessLog,
    Adjustment,
    Approval,
    BillingOutbox,
    Case,
    Finding,
    Hold,
    LedgerOutbox,
    Notification,
    Report,
    TimelineEntry,
    User,
)
from jejak.cases.policy import Policy
from jejak.cases.users import SYSTEM
from jejak.cases.workdays import deadline
from jejak.errors import (
    ForbiddenError,
    InvalidFieldError,
    NotFoundError,
    StaleVersionError,
    StateConflictError,
)
from jejak.settings import settings

SYSTEM_ROLE = "system"
#: a case whose hold may still be active (nothing decided and accepted yet)
OPEN_STATES = permissions.OPEN
BARS = ("bar_outgoing", "bar_all")


#: the hot path's statements, compiled once and run on the driver's cursor
#: (:class:`jejak.cases.db.Prepared`: the execution machinery of a Core statement costs more
#: than the database's own work on it)
_ENTRY_INSERT = Prepared(insert(TimelineEntry).returning(TimelineEntry.id))
_ACTOR_SELECT = select(User.name, User.role, User.disabled).where(User.name == bindparam("name"))
_CASES = cast(Table, Case.__table__)
_USERS = cast(Table, User.__table__)
_OUTBOX = cast(Table, LedgerOutbox.__table__)
#: the case and the acting account in one statement (the account's columns None when it has none)
_CASE_SELECT = Prepared(
    select(
        _CASES,
        _USERS.c.name.label("_account_name"),
        _USERS.c.role.label("_account_role"),
        _USERS.c.disabled.label("_account_disabled"),
    )
    .select_from(_CASES.outerjoin(_USERS, _USERS.c.name == bindparam("_actor")))
    .where(_CASES.c.case_id == bindparam("_case_id"))
)
#: the columns given are the ones set (one compiled form per set)
_CASE_UPDATE = Prepared(
    update(_CASES).where(
        _CASES.c.case_id == bindparam("_case_id"), _CASES.c.version == bindparam("_version")
    )
)
_ENTRIES = cast(Table, TimelineEntry.__table__)
_ENTRY_COLUMNS = tuple(c.key for c in _ENTRIES.c if c.key not in ("id", "ledger_index"))
#: PostgreSQL: the case's update, its last timeline entry and that entry's ledger outbox row as
#: one statement (a data-modifying WITH: one round trip instead of three), per set of columns
_CASE_WRITES: dict[tuple[str, ...], Prepared] = {}


def _case_write(keys: tuple[str, ...]) -> Prepared:
    """``WITH u AS (UPDATE cases SET <keys> WHERE case_id = … AND version = … RETURNING …),
    e AS (INSERT INTO timeline_entries … SELECT … FROM u RETURNING id, at) INSERT INTO
    ledger_outbox … SELECT 'case', id, at FROM e RETURNING id``: when the case changed since the
    version read, nothing is written and no row comes back."""
    got = _CASE_WRITES.get(keys)
    if got is None:
        u = (
            update(_CASES)
            .where(
                _CASES.c.case_id == bindparam("_case_id"),
                _CASES.c.version == bindparam("_version"),
            )
            .values({k: bindparam(f"c_{k}", type_=_CASES.c[k].type) for k in keys})
            .returning(_CASES.c.case_id)
            .cte("u")
        )
        entry = select(
            *(bindparam(f"e_{k}", type_=_ENTRIES.c[k].type) for k in _ENTRY_COLUMNS)
        ).select_from(u)
        e = (
            insert(_ENTRIES)
            .from_select(list(_ENTRY_COLUMNS), entry)
            .returning(_ENTRIES.c.id, _ENTRIES.c.at)
            .cte("e")
        )
        outbox = select(literal(audit.CASE, type_=_OUTBOX.c.source.type), e.c.id, e.c.at)
        got = _CASE_WRITES[keys] = Prepared(
            insert(_OUTBOX)
            .from_select(["source", "ref", "created_at"], outbox)
            .returning(_OUTBOX.c.id)
        )
    return got


_ACCOUNT_KEYS = ("_account_name", "_account_role", "_account_disabled")


@dataclass(frozen=True, slots=True)
class _Account:
    name: str
    role: str
    disabled: bool


def _load_case(
    s: Session, case_id: str, actor: str | None
) -> tuple[Case, dict[str, Any], Any] | None:
    """The case as a plain object outside the session's unit of work, its columns as read, and
    the account named ``actor`` (``name``, ``role``, ``disabled``; None when there is none).

    An action changes one row of ``cases``; loading and flushing it through the ORM's identity
    map and unit of work costs several times the database's own work, so the action path reads
    the row with one statement and writes back what changed with another
    (:func:`_save_case`). Everything else an action writes still goes through the session."""
    values = _CASE_SELECT.one(s, {"_case_id": case_id, "_actor": actor})
    if values is None:
        return None
    name, role, disabled = (values.pop(k) for k in _ACCOUNT_KEYS)
    account = None if name is None else _Account(name, role, disabled)
    # the columns as a plain object, read and written like a Case (an ORM instance would be
    # instrumented on every attribute, for an object the session never sees)
    # the action's timeline entries wait in ``_entries`` until the case is written (_save_case)
    case = cast(Case, SimpleNamespace(**values, _entries=[]))
    return case, values, account


def _actor_name(actor: str | User | Actor) -> str | None:
    """The account to look up for ``actor`` (None for a case's customer: no account)."""
    if isinstance(actor, Actor) and actor.role == permissions.CUSTOMER:
        return None
    return actor.name if isinstance(actor, User | Actor) else actor


def _actor_of(actor: str | User | Actor, account: Any) -> Actor:
    """Who acts: the case's customer as given, or the named account if it exists and is enabled."""
    if isinstance(actor, Actor) and actor.role == permissions.CUSTOMER:
        return actor  # the case's customer (act_as_customer); act checks it is this case's
    if account is None:
        raise ForbiddenError(str(_actor_name(actor)), "no such account")
    if account.disabled:
        raise ForbiddenError(str(account.name), "the account is disabled")
    return Actor(account.name, account.role)


def _save_case(s: Session, case: Case, read: dict[str, Any]) -> None:
    """Write the timeline entries the action made (``case._entries``, each with its ledger
    outbox row) and the columns of ``case`` that differ from ``read``, on the condition that
    the row still has the version read (optimistic locking, as the mapper's ``version_id_col``
    does): StaleDataError when someone else changed it meanwhile, and nothing written.

    On PostgreSQL the update, the last entry and its outbox row are one statement
    (:func:`_case_write`); elsewhere, and for the entries before the last, one each."""
    params = {k: v for k, old in read.items() if (v := getattr(case, k)) != old}
    entries: list[dict[str, Any]] = case._entries  # type: ignore[attr-defined]
    if not params:
        return
    keys = tuple(params)
    if entries and cast(Any, s.bind).dialect.name == "postgresql":
        for values in entries[:-1]:
            _insert_entry(s, values)
        last = entries[-1]
        args = {f"c_{k}": v for k, v in params.items()}
        args.update({f"e_{k}": last[k] for k in _ENTRY_COLUMNS})
        args["_case_id"] = read["case_id"]
        args["_version"] = read["version"]
        oid = _case_write(keys).first(s, args)
        if oid is None:
            raise _stale(read)
        audit.queued_as(s, oid)
        return
    for values in entries:
        _insert_entry(s, values)
    params["_case_id"] = read["case_id"]
    params["_version"] = read["version"]
    if _CASE_UPDATE.run(s, params, keys) != 1:
        raise _stale(read)


def _stale(read: dict[str, Any]) -> StaleDataError:
    return StaleDataError(f"case {read['case_id']} changed since version {read['version']}")


def _insert_entry(s: Session, values: dict[str, Any]) -> None:
    """A timeline entry and its ledger outbox row."""
    eid = _ENTRY_INSERT.insert(s, values)
    audit.enqueue(s, audit.CASE, eid, values["at"])


def now() -> datetime:
    return datetime.now(UTC)


def case_id_for(complaint_id: str) -> str:
    """The one case id of a complaint: ``CASE-<complaint id>`` (hashed when it has odd characters)."""
    if re.fullmatch(r"[A-Za-z0-9._-]{1,70}", complaint_id):
        return f"CASE-{complaint_id}"
    return "CASE-" + hashlib.sha256(complaint_id.encode()).hexdigest()[:16]


def _aware(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidFieldError(where, f"{value!r} is not an ISO 8601 timestamp") from None
    if t.tzinfo is None:
        raise InvalidFieldError(where, f"{value!r} has no UTC offset")
    return t.astimezone(UTC)


@dataclass
class Actor:
    """Who acts: a staff account, or jejak itself."""

    name: str
    role: str


@dataclass
class SyncResult:
    opened: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    provisional_credits: list[str] = field(default_factory=list)
    deemed_accepted: list[str] = field(default_factory=list)
    #: complaints the operator's CRM closed (export 1.1 ``status``): not opened unless asked
    closed_in_crm: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "opened": self.opened,
            "closed_in_crm": self.closed_in_crm,
            "findings": self.findings,
            "provisional_credits": self.provisional_credits,
            "deemed_accepted": self.deemed_accepted,
        }


def record_access(
    db: Database,
    user: str,
    role: str,
    msisdn: str,
    what: str,
    *,
    reason: str | None = None,
    case_id: str | None = None,
    via: str = "api",
    at: datetime | None = None,
) -> tuple[int, builtins.list[int]]:
    """Record that ``user`` opened ``msisdn``'s records (``what``, and why) in the access log and,
    in the same transaction, in the transparency log's outbox (the log entry commits to the
    reason too). Returns the access record's id and the outbox ids to wait for."""
    with db.write() as s:
        row = AccessLog(
            at=at or now(),
            user_name=user,
            role=role,
            msisdn=msisdn,
            case_id=case_id,
            what=what,
            via=via,
            reason=reason,
        )
        s.add(row)
        s.flush()
        audit.enqueue(s, audit.ACCESS, row.id, row.at)
        return row.id, audit.queued(s)


class Cases:
    """The cases of one jejak home: its case database, its store and its log."""

    def __init__(
        self,
        home: str | Path,
        db: Database,
        *,
        policy: Policy | None = None,
        store: Any = None,
        log: Any = None,
        auto_drain: bool = True,
    ) -> None:
        from jejak.ledger.log import Log

        self.home = Path(home)
        self.db = db
        self.log = log if log is not None else Log(self.home, origin=settings().ledger_origin)
        self.policy = policy or Policy.for_home(self.home)
        self._store = store
        self.auto_drain = auto_drain
        self.tz = ZoneInfo(self.policy.timezone)
        self._drainer = audit.Drainer(self.db, self.log)

    @classmethod
    def open(
        cls,
        home: str | Path,
        *,
        url: str | None = None,
        schema: str | None = None,
        policy: Policy | None = None,
        store: Any = None,
        log: Any = None,
        auto_drain: bool = True,
    ) -> Cases:
        """Open (and migrate) the home's case database, and finish any interrupted log commit.

        ``store`` and ``log`` are the home's (:class:`jejak.Home` passes its own); by default
        they are opened on ``home``.
        """
        cases = cls(
            home,
            Database.open(home, url, schema=schema),
            policy=policy,
            store=store,
            log=log,
            auto_drain=auto_drain,
        )
        cases.drain()
        return cases

    @property
    def store(self) -> Any:
        if self._store is None:
            from jejak.store import Store

            self._store = Store(self.home)
        return self._store

    def close(self) -> None:
        self._drainer.close()
        self.db.dispose()

    def verify(self, reader: Any, report: Any) -> None:
        """Re-hash every logged case action and access against the log (``jejak ledger verify``)."""
        report.named.extend(audit.verify_cases(self.db, self.log, reader, report))

    def drain(self) -> int:
        """Put every action not yet in the transparency log into it; return how many."""
        return audit.drain(self.db, self.log)

    def drain_soon(self) -> None:
        """Have this process's drain thread put what is pending into the log, without waiting
        (:class:`jejak.cases.audit.Drainer`); with ``auto_drain`` off, nothing is drained."""
        if self.auto_drain:
            self._drainer.soon()

    def _after_write(self, queued: builtins.list[int]) -> None:
        """With ``auto_drain``, return once the write's own log entries are in the log (group
        commit: :func:`jejak.cases.audit.drain`)."""
        if self.auto_drain:
            audit.drain(self.db, self.log, through=queued)

    # ------------------------------------------------------------------ opening

    def open_case(
        self, complaint_id: str, *, at: datetime | str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The case of an ingested complaint, opened now if it has none: (case, created)."""
        cid = case_id_for(complaint_id)
        with self.db.read() as s:
            if s.get(Case, cid) is not None:
                return self._view(s, cid), False
        complaint = self.store.record("complaints", complaint_id)
        report = self._report(complaint_id=complaint_id)
        return self._create(complaint, "ingested", report, at)

    def create(
        self, complaint: dict[str, Any], *, at: datetime | str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The case of a complaint the CRM sends (``complaint_id``, ``msisdn``, ``opened_at``,
        ``disputed_charge_ids``, ``disputed_amount``; optional ``summary``, ``language``)."""
        for name in ("complaint_id", "msisdn", "opened_at"):
            if not complaint.get(name):
                raise InvalidFieldError(name, "missing")
        cid = case_id_for(str(complaint["complaint_id"]))
        with self.db.read() as s:
            if s.get(Case, cid) is not None:
                return self._view(s, cid), False
        try:
            report = self._report(msisdn=str(complaint["msisdn"]))
        except NotFoundError:
            report = None  # a subscriber jejak holds no records of: no evidence to attach
        return self._create(complaint, "crm", report, at)

    def _report(self, **what: str) -> tuple[str, dict[str, Any]]:
        from jejak.investigate import investigate

        rep = investigate(self.store, what.get("msisdn"), complaint_id=what.get("complaint_id"))
        doc = rep.to_dict()
        body = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
        return body, doc

    def _create(
        self,
        complaint: dict[str, Any],
        source: str,
        report: tuple[str, dict[str, Any]] | None,
        at: datetime | str | None,
    ) -> tuple[dict[str, Any], bool]:
        complaint_id = str(complaint["complaint_id"])
        cid = case_id_for(complaint_id)
        opened_at = _aware(complaint["opened_at"], "opened_at")
        when = _aware(at, "at") if at is not None else now()
        when = max(when, opened_at)
        charges = complaint.get("disputed_charge_ids") or []
        if isinstance(charges, str):
            charges = [c for c in charges.split(";") if c]
        try:
            amount = int(complaint.get("disputed_amount") or 0)
        except (TypeError, ValueError):
            raise InvalidFieldError("disputed_amount", "not a whole number of rupiah") from None
        if amount < 0:
            raise InvalidFieldError("disputed_amount", "negative")
        p = self.policy
        case = Case(
            case_id=cid,
            complaint_id=complaint_id,
            msisdn=str(complaint["msisdn"]),
            source=source,
            state="received",
            language=str(complaint.get("language") or p.default_language),
            opened_at=opened_at,
            ack_due=deadline(opened_at, p.ack_working_days, p.timezone, p.end_of_day),
            decision_due=deadline(opened_at, p.decide_working_days, p.timezone, p.end_of_day),
            disputed_charge_ids=[str(c) for c in charges],
            disputed_amount=amount,
            summary=complaint.get("summary"),
            last_seq=0,
            version=1,
        )
        sys = Actor(SYSTEM, SYSTEM_ROLE)
        try:
            with self.db.write() as s:
                s.add(case)
                s.add(Hold(case_id=cid, msisdn=case.msisdn, amount=amount, active_from=opened_at))
                s.flush()
                self._entry(
                    s,
                    case,
                    when,
                    "open",
                    sys,
                    True,
                    f"complaint {complaint_id} received {self._local(opened_at)}; "
                    f"a hold covers the disputed {amount:,} IDR",
                    {
                        "complaint_id": complaint_id,
                        "source": source,
                        "disputed_charge_ids": case.disputed_charge_ids,
                        "disputed_amount": amount,
                        "ack_due": self._local(case.ack_due),
                        "decision_due": self._local(case.decision_due),
                    },
                )
                if report is not None:
                    body, doc = report
                    sha = hashlib.sha256(body.encode()).hexdigest()
                    verdict = doc.get("verdict") or {}
                    case.report_sha256 = sha
                    case.suggestion = {
                        "hypothesis": verdict.get("hypothesis"),
                        "operator_liable": verdict.get("operator_liable"),
                        "reason": verdict.get("reason"),
                        "remedy": doc.get("remedy"),
                    }
                    s.add(Report(case_id=cid, sha256=sha, made_at=when, body=body))
                    self._entry(
                        s,
                        case,
                        when,
                        "report_attached",
                        sys,
                        True,
                        f"evidence report attached (SHA-256 {sha}): it finds "
                        f"{verdict.get('hypothesis')}, operator liable: {verdict.get('operator_liable')}",
                        {
                            "report_sha256": sha,
                            "hypothesis": verdict.get("hypothesis"),
                            "operator_liable": verdict.get("operator_liable"),
                            "remedy": doc.get("remedy"),
                        },
                    )
                self._notify(s, case, "received", when)
                self._tick(s, case, when, None)
                queued = audit.queued(s)
        except IntegrityError:
            # opened by someone else in the meantime: the same complaint gives the same case
            with self.db.read() as s:
                return self._view(s, cid), False
        self._after_write(queued)
        with self.db.read() as s:
            return self._view(s, cid), True

    # ------------------------------------------------------------------ acting

    def act(
        self,
        case_id: str,
        actor: str | User | Actor,
        action: str,
        fields: dict[str, Any] | None = None,
        expected_version: int | None = None,
        *,
        at: datetime | str | None = None,
        view: bool = True,
    ) -> dict[str, Any]:
        """One action by one person; the case afterwards (``view=False``: only its ``case_id``,
        ``state`` and ``version``, for callers that do not show it).

        Raises ForbiddenError (403) when that person or role may not, StateConflictError (409)
        when the case's state does not allow it, StaleVersionError (409) when the case changed
        since ``expected_version``, InvalidFieldError (422) for a missing or wrong field.
        """
        fields = dict(fields or {})
        given = _aware(at, "at") if at is not None else None

        def work(s: Session) -> tuple[str, int, builtins.list[int]]:
            when = given or now()  # now: when its turn comes (entries never go back in time)
            mark = len(audit.queued(s))  # the session may be shared with other actions
            loaded = _load_case(s, case_id, _actor_name(actor))
            if loaded is None:
                self._actor(s, actor)  # an account's error first, as for an existing case
                raise NotFoundError(case_id, "no such case")
            case, before_values, account = loaded
            who = _actor_of(actor, account)
            if who.role == permissions.CUSTOMER and who.name != case.msisdn:
                raise ForbiddenError(case_id, "a customer acts on their own case only")
            if expected_version is not None and case.version != expected_version:
                raise StaleVersionError(
                    case_id,
                    f"changed since version {expected_version} (now {case.version}): read it again",
                )
            case.version += 1
            last = self._last_at(s, case)
            if last is not None and when < last:
                raise InvalidFieldError("at", f"{when.isoformat()} is before the case's last entry")
            self._tick(s, case, when, None)
            rule = permissions.check(action, who.role, case.state)
            before = case.state
            handler: Callable[..., None] = getattr(self, f"_do_{action}")
            handler(s, case, who, fields, when)
            if rule.to is not None:
                case.state = rule.to
            if case.state != before:
                self._notify(s, case, case.state, when)
            _save_case(s, case, before_values)
            return case.state, case.version, audit.queued(s)[mark:]

        try:
            # in one transaction with the actions other threads take meanwhile (group commit:
            # Database.together): one refused before it wrote is refused alone; one refused
            # after (the deadline writes of _tick) has each action of it run again alone
            state, version, queued = self.db.together(work)
        except (StaleDataError, IntegrityError) as exc:
            raise StaleVersionError(
                case_id, "changed by someone else at the same time: read it again"
            ) from exc
        self._after_write(queued)
        if not view:
            return {"case_id": case_id, "state": state, "version": version}
        with self.db.read() as s:
            return self._view(s, case_id)

    def act_as_customer(
        self,
        case_id: str,
        action: str,
        fields: dict[str, Any] | None = None,
        expected_version: int | None = None,
        *,
        at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """One action by the case's own customer (role ``customer``, actor: the case's number),
        e.g. ``accept`` or ``escalate`` from the customer's pages; the table of
        :mod:`jejak.cases.permissions` says which. Otherwise as :meth:`act`."""
        with self.db.read() as s:
            msisdn = s.scalar(select(Case.msisdn).where(Case.case_id == case_id))
        if msisdn is None:
            raise NotFoundError(case_id, "no such case")
        who = Actor(msisdn, permissions.CUSTOMER)
        return self.act(case_id, who, action, fields, expected_version, at=at)

    def _actor(self, s: Session, actor: str | User | Actor) -> Actor:
        name = _actor_name(actor)
        account = (
            None if name is None else s.connection().execute(_ACTOR_SELECT, {"name": name}).first()
        )
        return _actor_of(actor, account)

    # each handler validates its fields, changes the case and writes its entry

    def _do_acknowledge(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        case.acknowledged_at = at
        self._entry(s, case, at, "acknowledge", who, True, "complaint acknowledged", {})

    def _do_assign(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        to = _text(f, "to")
        user = s.scalar(select(User).where(User.name == to))
        if user is None or user.disabled or user.role not in permissions.STAFF:
            raise InvalidFieldError(
                "to", f"{to!r} is not an enabled cs, investigator or supervisor"
            )
        case.assignee = to
        if case.state == "acknowledged":
            case.state = "investigating"
        self._entry(
            s,
            case,
            at,
            "assign",
            who,
            True,
            f"assigned to a {user.role}",
            {"to": to, "to_role": user.role},
        )

    def _do_note(self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime) -> None:
        self._entry(s, case, at, "note", who, False, _text(f, "text"), {})

    def _do_comment(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        self._entry(s, case, at, "comment", who, True, _text(f, "text"), {})

    def _do_propose_adjustment(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        amount = _amount(f, "amount")
        if amount <= 0:
            raise InvalidFieldError("amount", "must be more than 0")
        charge_ids = f.get("charge_ids", [])
        if not isinstance(charge_ids, list) or not all(isinstance(c, str) for c in charge_ids):
            raise InvalidFieldError("charge_ids", "must be a list of charge ids")
        reason = _text(f, "reason")
        kind = f.get("kind", "refund")
        if kind not in ("refund", "credit", "compensation"):
            raise InvalidFieldError("kind", "refund, credit or compensation")
        self._propose(s, case, who, kind, amount, charge_ids, reason, at)

    def _propose(
        self,
        s: Session,
        case: Case,
        who: Actor,
        kind: str,
        amount: int,
        charge_ids: list[str],
        reason: str,
        at: datetime,
    ) -> Adjustment:
        n = (
            s.scalar(
                select(func.count())
                .select_from(Adjustment)
                .where(Adjustment.case_id == case.case_id)
            )
            or 0
        )
        adj = Adjustment(
            adjustment_id=f"{case.case_id}-ADJ{n + 1}",
            case_id=case.case_id,
            kind=kind,
            amount=amount,
            charge_ids=charge_ids,
            reason=reason,
            state="proposed",
            proposed_by=who.name,
            proposed_at=at,
            approvers_needed=2 if amount > self.policy.two_approver_amount else 1,
        )
        s.add(adj)
        self._entry(
            s,
            case,
            at,
            "propose_adjustment",
            who,
            True,
            f"{kind} of {amount:,} IDR proposed: {reason}",
            {
                "adjustment_id": adj.adjustment_id,
                "kind": kind,
                "amount": amount,
                "charge_ids": charge_ids,
                "approvers_needed": adj.approvers_needed,
            },
        )
        return adj

    def _adjustment(self, s: Session, case: Case, f: dict[str, Any]) -> Adjustment:
        aid = _text(f, "adjustment_id")
        adj = s.get(Adjustment, aid)
        if adj is None or adj.case_id != case.case_id:
            raise InvalidFieldError("adjustment_id", f"no adjustment {aid!r} on this case")
        if adj.state != "proposed":
            raise StateConflictError(aid, f"is {adj.state} already")
        return adj

    def _do_approve_adjustment(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        adj = self._adjustment(s, case, f)
        if adj.proposed_by == who.name:
            raise ForbiddenError(adj.adjustment_id, "nobody approves an adjustment they proposed")
        done = list(s.scalars(select(Approval).where(Approval.adjustment_id == adj.adjustment_id)))
        if any(a.approver == who.name for a in done):
            raise StateConflictError(adj.adjustment_id, f"{who.name} has approved it already")
        s.add(
            Approval(
                adjustment_id=adj.adjustment_id,
                approver=who.name,
                approved=True,
                reason=f.get("reason"),
                at=at,
            )
        )
        count = 1 + sum(1 for a in done if a.approved)
        self._entry(
            s,
            case,
            at,
            "approve_adjustment",
            who,
            True,
            f"{adj.kind} of {adj.amount:,} IDR approved ({count} of {adj.approvers_needed})",
            {
                "adjustment_id": adj.adjustment_id,
                "approvals": count,
                "needed": adj.approvers_needed,
            },
        )
        if count >= adj.approvers_needed:
            self._approved(s, case, adj, at)

    def _approved(self, s: Session, case: Case, adj: Adjustment, at: datetime) -> None:
        adj.state = "approved"
        approvers = [
            a.approver
            for a in s.scalars(
                select(Approval)
                .where(Approval.adjustment_id == adj.adjustment_id, Approval.approved.is_(True))
                .order_by(Approval.id)
            )
        ]
        key = "jejak-" + hashlib.sha256(adj.adjustment_id.encode()).hexdigest()[:32]
        payload = {
            "adjustment_id": adj.adjustment_id,
            "case_id": case.case_id,
            "complaint_id": case.complaint_id,
            "msisdn": case.msisdn,
            "kind": adj.kind,
            "amount": adj.amount,
            "currency": "IDR",
            "charge_ids": adj.charge_ids,
            "reason": adj.reason,
            "proposed_by": adj.proposed_by,
            "approved_by": approvers,
            "approved_at": at.isoformat(),
            "idempotency_key": key,
        }
        if case.provisional_credit_id and adj.adjustment_id != case.provisional_credit_id:
            payload["settles_provisional"] = case.provisional_credit_id
        s.add(
            BillingOutbox(
                adjustment_id=adj.adjustment_id,
                idempotency_key=key,
                payload=payload,
                created_at=at,
                state="queued",
                attempts=0,
            )
        )
        self._entry(
            s,
            case,
            at,
            "adjustment_approved",
            Actor(SYSTEM, SYSTEM_ROLE),
            True,
            f"{adj.kind} of {adj.amount:,} IDR goes to billing",
            {"adjustment_id": adj.adjustment_id, "idempotency_key": key, "approved_by": approvers},
        )

    def _do_reject_adjustment(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        adj = self._adjustment(s, case, f)
        reason = _text(f, "reason")
        if adj.proposed_by == who.name:
            raise ForbiddenError(adj.adjustment_id, "nobody decides on an adjustment they proposed")
        s.add(
            Approval(
                adjustment_id=adj.adjustment_id,
                approver=who.name,
                approved=False,
                reason=reason,
                at=at,
            )
        )
        adj.state = "rejected"
        self._entry(
            s,
            case,
            at,
            "reject_adjustment",
            who,
            True,
            f"{adj.kind} of {adj.amount:,} IDR rejected: {reason}",
            {"adjustment_id": adj.adjustment_id},
        )

    def _do_decide(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        from jejak.investigate.report import HYPOTHESES, INSUFFICIENT

        hyp = _text(f, "hypothesis")
        if hyp not in (*HYPOTHESES, INSUFFICIENT):
            raise InvalidFieldError(
                "hypothesis", f"one of {', '.join((*HYPOTHESES, INSUFFICIENT))}"
            )
        liable = f.get("operator_liable")
        if not isinstance(liable, bool):
            raise InvalidFieldError("operator_liable", "true or false")
        reason = _text(f, "reason")
        sug = case.suggestion or {}
        departs = bool(sug) and (
            hyp != sug.get("hypothesis") or liable != sug.get("operator_liable")
        )
        justification = f.get("justification")
        if departs and not (isinstance(justification, str) and justification.strip()):
            raise InvalidFieldError(
                "justification",
                f"the decision departs from the evidence report ({sug.get('hypothesis')}, operator liable: "
                f"{sug.get('operator_liable')}): write why",
            )
        remedy = sug.get("remedy") or {}
        findings = list(s.scalars(select(Finding).where(Finding.case_id == case.case_id)))
        decision = {
            "hypothesis": hyp,
            "operator_liable": liable,
            "refund": _amount(f, "refund")
            if "refund" in f
            else (int(remedy.get("refund") or 0) if liable else 0),
            "compensation": _amount(f, "compensation")
            if "compensation" in f
            else (
                sum(x.compensation or 0 for x in findings) or int(remedy.get("compensation") or 0)
                if liable
                else 0
            ),
            "unbar": bool(f["unbar"])
            if "unbar" in f
            else (bool(remedy.get("unbar")) or any(x.lifted_at is None for x in findings)),
            "reason": reason,
            "departs_from_evidence": departs,
            "justification": justification if departs else None,
            "decided_by": who.name,
            "countersigned_by": None,
        }
        case.decision = decision
        case.decided_at = at
        text = (
            reason
            if not departs
            else f"{reason} — departs from the evidence report: {justification}"
        )
        self._entry(
            s,
            case,
            at,
            "decide",
            who,
            True,
            text,
            {k: v for k, v in decision.items() if k != "decided_by"},
        )
        if departs:
            case.state = "decision_proposed"
        else:
            case.state = "resolved"
            case.resolved_at = at

    def _do_countersign(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        d = dict(case.decision or {})
        if d.get("decided_by") == who.name:
            raise ForbiddenError(
                case.case_id, "a countersignature comes from another supervisor than the decider"
            )
        d["countersigned_by"] = who.name
        case.decision = d
        case.resolved_at = at
        self._entry(
            s,
            case,
            at,
            "countersign",
            who,
            True,
            "decision countersigned (it departs from the evidence report)",
            {},
        )

    def _do_accept(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        if case.accepted_at is not None:
            raise StateConflictError(case.case_id, "the decision is accepted already")
        case.accepted_at = at
        self._release(s, case, at)
        self._entry(s, case, at, "accept", who, True, "the customer accepts the decision", {})

    def _do_lift_bar(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        aid = _text(f, "action_id")
        finding = s.scalar(
            select(Finding).where(Finding.case_id == case.case_id, Finding.action_id == aid)
        )
        if finding is None:
            raise InvalidFieldError("action_id", f"no finding about bar {aid!r} on this case")
        if finding.lifted_at is not None:
            raise StateConflictError(aid, "lifted already")
        from jejak.investigate.remedy import barred_days

        days = barred_days(finding.barred_at, at)
        comp = days * self.policy.compensation_per_day_barred
        finding.lifted_at, finding.lifted_by, finding.compensation = at, who.name, comp
        self._entry(
            s,
            case,
            at,
            "lift_bar",
            who,
            True,
            f"bar {aid} lifted after {days} day(s); compensation {comp:,} IDR proposed",
            {"action_id": aid, "days_barred": days, "compensation": comp},
        )
        if comp:
            self._propose(
                s,
                case,
                who,
                "compensation",
                comp,
                [],
                f"{days} day(s) barred during the case (bar {aid})",
                at,
            )

    def _do_escalate(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        reason = _text(f, "reason")
        if case.state == "resolved" and case.accepted_at is not None:
            raise StateConflictError(
                case.case_id, "the decision was accepted: reopen the case instead"
            )
        self._entry(s, case, at, "escalate", who, True, reason, {})

    def _do_close(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        if case.state == "resolved" and case.accepted_at is None:
            raise StateConflictError(
                case.case_id,
                "the customer has not accepted the decision yet (nor has the period passed)",
            )
        case.closed_at = at
        self._release(s, case, at)
        self._entry(s, case, at, "close", who, True, "case closed", {})

    def _do_reopen(
        self, s: Session, case: Case, who: Actor, f: dict[str, Any], at: datetime
    ) -> None:
        reason = _text(f, "reason")
        case.accepted_at = case.resolved_at = case.closed_at = case.decided_at = None
        case.decision = None
        if (
            s.scalar(select(Hold).where(Hold.case_id == case.case_id, Hold.released_at.is_(None)))
            is None
        ):
            s.add(
                Hold(
                    case_id=case.case_id,
                    msisdn=case.msisdn,
                    amount=case.disputed_amount,
                    active_from=at,
                )
            )
        self._entry(s, case, at, "reopen", who, True, reason, {})

    # ------------------------------------------------------------------ time passing

    def _tick(self, s: Session, case: Case, at: datetime, result: SyncResult | None) -> None:
        """What the passing of time does to a case by ``at``: the provisional credit when the
        decision deadline passed undecided; deemed acceptance after the policy's period."""
        p = self.policy
        sys = Actor(SYSTEM, SYSTEM_ROLE)
        if (
            p.provisional_credit
            and case.state in OPEN_STATES
            and case.decided_at is None
            and case.provisional_credit_id is None
            and case.disputed_amount > 0
            and at > case.decision_due
        ):
            adj = self._propose(
                s,
                case,
                sys,
                "provisional_credit",
                case.disputed_amount,
                list(case.disputed_charge_ids),
                f"no decision by {self._local(case.decision_due)}: the disputed amount is credited provisionally",
                at,
            )
            adj.approvers_needed = 0
            case.provisional_credit_id = adj.adjustment_id
            self._entry(
                s,
                case,
                at,
                "provisional_credit",
                sys,
                True,
                f"decision deadline {self._local(case.decision_due)} passed undecided: "
                f"{case.disputed_amount:,} IDR credited provisionally",
                {"adjustment_id": adj.adjustment_id, "amount": case.disputed_amount},
            )
            s.flush()
            self._approved(s, case, adj, at)
            self._notify(s, case, "provisional_credit", at)
            if result is not None:
                result.provisional_credits.append(case.case_id)
        if (
            case.state == "resolved"
            and case.accepted_at is None
            and case.resolved_at is not None
            and at > case.resolved_at + timedelta(days=p.deemed_accepted_days)
        ):
            case.accepted_at = at
            self._release(s, case, at)
            self._entry(
                s,
                case,
                at,
                "deemed_accepted",
                sys,
                True,
                f"no escalation within {p.deemed_accepted_days} days: the decision is deemed accepted",
                {},
            )
            self._notify(s, case, "deemed_accepted", at)
            if result is not None:
                result.deemed_accepted.append(case.case_id)

    def tick(self, at: datetime | str | None = None) -> SyncResult:
        """Apply the deadlines to every case, as of ``at`` (default now)."""
        when = _aware(at, "at") if at is not None else now()
        result = SyncResult()
        with self.db.read() as s:
            ids = list(
                s.scalars(
                    select(Case.case_id).where(
                        or_(
                            Case.state.in_(OPEN_STATES),
                            (Case.state == "resolved") & Case.accepted_at.is_(None),
                        )
                    )
                )
            )
        queued: builtins.list[int] = []
        for cid in ids:
            with self.db.write() as s:
                case = s.get(Case, cid)
                assert case is not None
                last = self._last_at(s, case)
                seq = case.last_seq
                if last is None or when >= last:
                    self._tick(s, case, when, result)
                if case.last_seq != seq:
                    case.version += 1
                queued += audit.queued(s)
        self._after_write(queued)
        return result

    def tick_case(self, case_id: str, at: datetime | str | None = None) -> SyncResult:
        """Apply the deadlines to one case as of ``at`` (default now), as :meth:`tick` does for
        every case: before a customer's answer, so that it meets the case as time left it."""
        when = _aware(at, "at") if at is not None else now()
        result = SyncResult()
        with self.db.write() as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFoundError(case_id, "no such case")
            last, seq = self._last_at(s, case), case.last_seq
            if last is None or when >= last:
                self._tick(s, case, when, result)
            if case.last_seq != seq:
                case.version += 1
            queued = audit.queued(s)
        self._after_write(queued)
        return result

    def sync(self, at: datetime | str | None = None, *, include_closed: bool = False) -> SyncResult:
        """Open a case for every ingested complaint without one; turn ingested bars over open
        cases into findings; apply the deadlines.

        A complaint the operator's CRM already closed (``status`` ``closed``, export 1.1) is not
        opened: its case would put a hold on the line and run deadlines, and a provisional
        credit, for a matter the operator considers settled. It is listed in
        ``closed_in_crm``; ``include_closed`` (or ``open_case`` of that one complaint) opens
        it, to examine a closure the customer disputes.
        """
        when = _aware(at, "at") if at is not None else now()
        result = SyncResult()
        store = self.store
        if store.files("complaints"):
            rows = store.sql(
                "SELECT complaint_id, status FROM complaints ORDER BY opened_at, complaint_id"
            )
            with self.db.read() as s:
                have = set(s.scalars(select(Case.complaint_id)))
            for row in rows:
                cid = row["complaint_id"]
                if cid in have:
                    continue
                if row["status"] == "closed" and not include_closed:
                    result.closed_in_crm.append(cid)
                    continue
                if cid not in have:
                    _, created = self.open_case(cid, at=when)
                    if created:
                        result.opened.append(case_id_for(cid))
        result.findings = self._bars(when)
        ticked = self.tick(when)
        result.provisional_credits += ticked.provisional_credits
        result.deemed_accepted += ticked.deemed_accepted
        return result

    def _bars(self, at: datetime) -> list[str]:
        """Bars for non-payment, in the store, while a hold covered the line: findings."""
        if not self.store.files("line_actions"):
            return []
        with self.db.read() as s:
            holds = list(s.scalars(select(Hold)))
            known = {(f.case_id, f.action_id) for f in s.scalars(select(Finding))}
        if not holds:
            return []
        msisdns = sorted({h.msisdn for h in holds})
        marks = ", ".join("?" for _ in msisdns)
        bars = self.store.sql(
            f'SELECT action_id, msisdn, "at", "action", reason, amount_due FROM line_actions '
            f"WHERE msisdn IN ({marks}) AND reason = 'non_payment' AND action IN ('bar_outgoing', 'bar_all') "
            f'ORDER BY "at", action_id',
            msisdns,
        )
        found: list[str] = []
        queued: builtins.list[int] = []
        for bar in bars:
            bar_at = _aware(bar["at"], "line_actions.at")
            for h in holds:
                covers = (
                    h.msisdn == bar["msisdn"]
                    and h.active_from <= bar_at
                    and (h.released_at is None or bar_at < h.released_at)
                )
                if not covers or (h.case_id, bar["action_id"]) in known:
                    continue
                known.add((h.case_id, bar["action_id"]))
                with self.db.write() as s:
                    case = s.get(Case, h.case_id)
                    assert case is not None
                    case.version += 1
                    when = max(at, self._last_at(s, case) or at)
                    required = {
                        "lift_bar": True,
                        "compensation_per_day": self.policy.compensation_per_day_barred,
                    }
                    s.add(
                        Finding(
                            case_id=h.case_id,
                            action_id=bar["action_id"],
                            kind="bar_during_dispute",
                            barred_at=bar_at,
                            amount_due=bar.get("amount_due"),
                            required=required,
                            found_at=when,
                        )
                    )
                    self._entry(
                        s,
                        case,
                        when,
                        "finding",
                        Actor(SYSTEM, SYSTEM_ROLE),
                        True,
                        f"line barred ({bar['action']}, non-payment of {int(bar.get('amount_due') or 0):,} IDR) "
                        f"{self._local(bar_at)} while the case disputed {h.amount:,} IDR: lift the bar and "
                        f"compensate {self.policy.compensation_per_day_barred:,} IDR per day barred",
                        {
                            "action_id": bar["action_id"],
                            "barred_at": self._local(bar_at),
                            "required": required,
                        },
                    )
                    self._notify(s, case, "finding", when)
                    queued += audit.queued(s)
                found.append(f"{h.case_id}:{bar['action_id']}")
        if found:
            self._after_write(queued)
        return found

    # ------------------------------------------------------------------ the collections check

    def can_bar(self, msisdn: str, amount: int, at: datetime | str | None = None) -> dict[str, Any]:
        """May billing bar ``msisdn`` for non-payment of ``amount`` IDR at ``at`` (default now)?

        ``{allowed, reason, case_ids}``: refused while open cases dispute part of it, unless
        the undisputed arrears alone reach the policy's threshold.
        """
        when = _aware(at, "at") if at is not None else now()
        if amount < 0:
            raise InvalidFieldError("amount", "negative")
        with self.db.read() as s:
            holds = list(
                s.scalars(
                    select(Hold)
                    .where(
                        Hold.msisdn == msisdn,
                        Hold.active_from <= when,
                        or_(Hold.released_at.is_(None), Hold.released_at > when),
                    )
                    .order_by(Hold.case_id)
                )
            )
        holds = [h for h in holds if h.amount > 0]
        disputed = sum(h.amount for h in holds)
        case_ids = sorted({h.case_id for h in holds})
        if not holds:
            return {
                "allowed": True,
                "reason": "no open case disputes an amount on this line",
                "case_ids": [],
            }
        undisputed = max(amount - disputed, 0)
        threshold = self.policy.bar_threshold
        if undisputed >= threshold:
            return {
                "allowed": True,
                "reason": f"undisputed arrears {undisputed:,} IDR reach the threshold of {threshold:,} IDR "
                f"(open cases dispute {disputed:,} IDR)",
                "case_ids": case_ids,
            }
        return {
            "allowed": False,
            "reason": f"open case(s) {', '.join(case_ids)} dispute {disputed:,} IDR of the {amount:,} IDR; "
            f"undisputed arrears {undisputed:,} IDR are below the threshold of {threshold:,} IDR",
            "case_ids": case_ids,
        }

    # ------------------------------------------------------------------ reading

    def get(self, case_id: str) -> dict[str, Any]:
        """The case object of ``shared/spec/outputs.md`` (staff view: internal notes with text)."""
        with self.db.read() as s:
            return self._view(s, case_id)

    def timeline(self, case_id: str, *, customer: bool = True) -> list[dict[str, Any]]:
        """Every entry in order; in the customer's view internal ones have ``text: null``."""
        with self.db.read() as s:
            if s.get(Case, case_id) is None:
                raise NotFoundError(case_id, "no such case")
            return self._timeline(s, case_id, customer)

    def report(self, case_id: str) -> str:
        """The evidence report attached when the case opened, as stored."""
        with self.db.read() as s:
            r = s.scalar(select(Report).where(Report.case_id == case_id).order_by(Report.id))
            if r is None:
                raise NotFoundError(case_id, "no evidence report attached")
            return r.body

    def list(
        self, *, overdue: bool = False, state: str | None = None, at: datetime | str | None = None
    ) -> list[dict[str, Any]]:
        """Case summaries (``overdue`` only those past a deadline at ``at``)."""
        when = _aware(at, "at") if at is not None else now()
        with self.db.read() as s:
            q = select(Case).order_by(Case.opened_at, Case.case_id)
            if state:
                q = q.where(Case.state == state)
            out = []
            for c in s.scalars(q):
                late = self._overdue(c, when)
                if overdue and not late:
                    continue
                out.append(
                    {
                        "case_id": c.case_id,
                        "complaint_id": c.complaint_id,
                        "msisdn": c.msisdn,
                        "state": c.state,
                        "opened_at": self._local(c.opened_at),
                        "ack_due": self._local(c.ack_due),
                        "decision_due": self._local(c.decision_due),
                        "assignee": c.assignee,
                        "disputed_amount": c.disputed_amount,
                        "overdue": late,
                        "version": c.version,
                    }
                )
            return out

    def _overdue(self, c: Case, at: datetime) -> builtins.list[str]:
        late = []
        if c.acknowledged_at is None and c.state == "received" and at > c.ack_due:
            late.append("acknowledge")
        if c.decided_at is None and c.state in OPEN_STATES and at > c.decision_due:
            late.append("decide")
        return late

    def record_access(
        self,
        user: str,
        role: str,
        msisdn: str,
        what: str,
        *,
        case_id: str | None = None,
        via: str = "api",
        reason: str | None = None,
        at: datetime | None = None,
        wait: bool = True,
    ) -> None:
        """Record (and log) that a person viewed a subscriber's records, and why. With
        ``wait=False`` the record is committed to the database and its log entry left to the
        process's drain thread (:meth:`drain_soon`): for a request that only reads."""
        _, queued = record_access(
            self.db, user, role, msisdn, what, reason=reason, case_id=case_id, via=via, at=at
        )
        if wait:
            self._after_write(queued)
        else:
            self.drain_soon()

    def access_log(self, msisdn: str | None = None) -> builtins.list[dict[str, Any]]:
        with self.db.read() as s:
            q = select(AccessLog).order_by(AccessLog.id)
            if msisdn:
                q = q.where(AccessLog.msisdn == msisdn)
            return [
                {
                    "at": self._local(a.at),
                    "user": a.user_name,
                    "role": a.role,
                    "msisdn": a.msisdn,
                    "case_id": a.case_id,
                    "what": a.what,
                    "via": a.via,
                }
                for a in s.scalars(q)
            ]

    # ------------------------------------------------------------------ helpers

    def _local(self, t: datetime | None) -> str | None:
        return None if t is None else t.astimezone(self.tz).isoformat()

    def _last_at(self, s: Session, case: Case) -> datetime | None:
        return case.last_at

    def _entry(
        self,
        s: Session,
        case: Case,
        at: datetime,
        action: str,
        who: Actor,
        public: bool,
        text: str | None,
        payload: dict[str, Any],
    ) -> None:
        case.last_seq = (case.last_seq or 0) + 1
        case.last_at = at
        values = {
            "case_id": case.case_id,
            "seq": case.last_seq,
            "at": at,
            "action": action,
            "actor": who.name,
            "actor_role": who.role,
            "public": public,
            "text": text,
            "payload": payload,
        }
        pending = getattr(case, "_entries", None)
        if pending is not None:  # an action's case (_load_case): written with the case
            pending.append(values)
            return
        if case in s.new:  # the entry refers to the case: insert the case first
            s.flush()
        _insert_entry(s, values)

    def _release(self, s: Session, case: Case, at: datetime) -> None:
        for h in s.scalars(
            select(Hold).where(Hold.case_id == case.case_id, Hold.released_at.is_(None))
        ):
            h.released_at = at

    def _next_deadline(self, case: Case) -> datetime | None:
        if case.state == "received":
            return case.ack_due
        if (
            case.state in ("acknowledged", "investigating", "decision_proposed")
            and case.decided_at is None
        ):
            return case.decision_due
        if case.state == "resolved" and case.accepted_at is None and case.resolved_at is not None:
            return case.resolved_at + timedelta(days=self.policy.deemed_accepted_days)
        return None

    def _notify(self, s: Session, case: Case, event: str, at: datetime) -> None:
        due = self._next_deadline(case)
        subject, body = messages.render(
            event, case.language, case.complaint_id, due.astimezone(self.tz) if due else None
        )
        s.add(
            Notification(
                case_id=case.case_id,
                msisdn=case.msisdn,
                language=case.language,
                ticket=case.complaint_id,
                event=event,
                subject=subject,
                body=body,
                next_deadline=due,
                created_at=at,
                state="queued",
                attempts=0,
                next_attempt_at=at,
            )
        )

    def _timeline(self, s: Session, case_id: str, customer: bool) -> builtins.list[dict[str, Any]]:
        show_names = self.policy.show_staff_names or not customer
        t = TimelineEntry
        cols = [t.seq, t.at, t.action, t.actor, t.actor_role, t.public, t.text, t.ledger_index]
        if not customer:
            cols.append(t.payload)
        rows = s.execute(select(*cols).where(t.case_id == case_id).order_by(t.seq)).all()
        tz = self.tz
        out = []
        for r in rows:
            d = {
                "seq": r.seq,
                "at": r.at.astimezone(tz).isoformat(),
                "action": r.action,
                "actor": r.actor if (show_names or r.actor_role == SYSTEM_ROLE) else None,
                "actor_role": r.actor_role,
                "public": r.public,
                "text": r.text if (r.public or not customer) else None,
                "ledger_index": r.ledger_index,
            }
            if not customer:
                d["payload"] = r.payload
            out.append(d)
        return out

    def _view(self, s: Session, case_id: str) -> dict[str, Any]:
        c = s.get(Case, case_id)
        if c is None:
            raise NotFoundError(case_id, "no such case")
        adjustments = []
        approved_by: dict[str, list[str]] = {}
        for adj_id, approver in s.execute(
            select(Approval.adjustment_id, Approval.approver)
            .join(Adjustment, Adjustment.adjustment_id == Approval.adjustment_id)
            .where(Adjustment.case_id == case_id, Approval.approved.is_(True))
            .order_by(Approval.id)
        ):
            approved_by.setdefault(adj_id, []).append(approver)
        for a in s.scalars(
            select(Adjustment)
            .where(Adjustment.case_id == case_id)
            .order_by(Adjustment.proposed_at, Adjustment.adjustment_id)
        ):
            approvers = approved_by.get(a.adjustment_id, [])
            adjustments.append(
                {
                    "adjustment_id": a.adjustment_id,
                    "kind": a.kind,
                    "amount": a.amount,
                    "charge_ids": a.charge_ids,
                    "state": a.state,
                    "proposed_by": a.proposed_by,
                    "approved_by": approvers,
                    "approvers_needed": a.approvers_needed,
                    "reason": a.reason,
                }
            )
        holds = list(
            s.scalars(select(Hold).where(Hold.case_id == case_id, Hold.released_at.is_(None)))
        )
        findings = [
            {
                "action_id": f.action_id,
                "kind": f.kind,
                "barred_at": self._local(f.barred_at),
                "amount_due": f.amount_due,
                "required": f.required,
                "lifted_at": self._local(f.lifted_at),
                "compensation": f.compensation,
            }
            for f in s.scalars(
                select(Finding).where(Finding.case_id == case_id).order_by(Finding.id)
            )
        ]
        sug = c.suggestion or {}
        decision = None
        if c.decision:
            decision = {
                k: c.decision.get(k)
                for k in (
                    "hypothesis",
                    "operator_liable",
                    "refund",
                    "compensation",
                    "unbar",
                    "reason",
                    "departs_from_evidence",
                    "justification",
                    "decided_by",
                    "countersigned_by",
                )
            }
        return {
            "case_id": c.case_id,
            "complaint_id": c.complaint_id,
            "msisdn": c.msisdn,
            "state": c.state,
            "version": c.version,
            "source": c.source,
            "language": c.language,
            "opened_at": self._local(c.opened_at),
            "ack_due": self._local(c.ack_due),
            "decision_due": self._local(c.decision_due),
            "overdue": self._overdue(c, now()),
            "assignee": c.assignee,
            "disputed_charge_ids": c.disputed_charge_ids,
            "disputed_amount": c.disputed_amount,
            "hold": {
                "active": bool(holds),
                "amount": sum(h.amount for h in holds) if holds else c.disputed_amount,
            },
            "investigation": {
                "report_sha256": c.report_sha256,
                "hypothesis": sug.get("hypothesis"),
                "operator_liable": sug.get("operator_liable"),
                "remedy": sug.get("remedy"),
            },
            "findings": findings,
            "adjustments": adjustments,
            "decision": decision,
            "accepted_at": self._local(c.accepted_at),
            "timeline": self._timeline(s, case_id, customer=False),
        }


def _text(f: dict[str, Any], name: str) -> str:
    v = f.get(name)
    if not isinstance(v, str) or not v.strip():
        raise InvalidFieldError(name, "missing or empty")
    return v.strip()


def _amount(f: dict[str, Any], name: str) -> int:
    v = f.get(name)
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise InvalidFieldError(name, "a whole number of rupiah")
    try:
        n = int(v)
    except ValueError:
        raise InvalidFieldError(name, f"{v!r} is not a whole number of rupiah") from None
    if n < 0:
        raise InvalidFieldError(name, "negative")
    return n
