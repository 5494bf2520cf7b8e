"""The customer's side of a case: signing in (with a ticket to follow it, or with the number
alone to lodge a first complaint) by a one-time code, the case as the customer sees it, lodging
a complaint, answering a decision.

Signing in never tells whether a number or a ticket exists: :func:`request_code` and
:func:`request_line_code` do the same work and return nothing in every case (an argon2id hash
is made even when there is nothing to send a code for), and :func:`sign_in` and
:func:`sign_in_line` raise the same :class:`~jejak.errors.AuthError` for an unknown number, an
unknown ticket, a ticket of another number, a wrong, used or expired code.

Two kinds of code:

- a **case code** (:func:`request_code`, :func:`issue_staff_code`) opens one case: the
  customer gave the number and the ticket;
- a **line code** (:func:`request_line_code`, :func:`issue_staff_line_code`) lets the holder
  of a line with no ticket yet lodge a first complaint about the line's own charges
  (:func:`lodge`); the new case's ticket comes back at once and its hold protects the line from
  that moment. A line code is sent only for a number the store knows (a subscriber, or a line
  with charges).

Where a code goes (the notifications outbox of :mod:`jejak.notify` delivers it):

- by SMS to the number, normally;
- when the line is barred both ways (its latest ingested line action is ``bar_all`` and no case
  finding records the bar lifted), by e-mail to the address on file (:func:`set_email`), if any;
- otherwise only a code staff hand over at an outlet or the call centre after checking identity
  (:func:`issue_staff_code`, :func:`issue_staff_line_code`); that issue is an access-log entry,
  so it is in the transparency log.

Codes are 6 digits, kept only as argon2id hashes, valid for :data:`CODE_TTL`, used once, and dead
after :data:`CODE_TRIES` wrong answers; at most :data:`CODES_PER_HOUR` are sent per case, and as
many per line. The web layer adds the per-number and per-address lock-out of wrong codes
(:func:`locked`) and the per-address limit on requests (:class:`jejak.web.security.Throttle`).

The customer's own actions (accepting, disputing) are recorded as the customer: role
``customer``, the actor being the case's number (:meth:`jejak.cases.service.Cases.act_as_customer`;
the one table of :mod:`jejak.cases.permissions` says what a customer may do).

Example::

    >>> normalize_msisdn("0811-0000-0001")
    '6281100000001'
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jejak.cases.customer.models import CustomerCode, CustomerContact
from jejak.cases.models import Case, Finding, Notification, SignInAttempt, TimelineEntry, User
from jejak.errors import (
    AuthError,
    InvalidFieldError,
    InvalidNumberError,
    NotFoundError,
    StateConflictError,
)
from jejak.investigate.audience import customer_action
from jejak.numbers import msisdn as parse_msisdn

if TYPE_CHECKING:
    from jejak.cases.service import Cases

CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 3
CODE_DIGITS = 6
CODES_PER_HOUR = 5
#: wrong codes for one number (or from one address) within LOCKOUT_WINDOW that lock it out, in the
#: table of jejak.auth's sign-in attempts, so that every worker counts the same
LOCKOUT_FAILURES = 5
LOCKOUT_FAILURES_ADDRESS = 20
LOCKOUT_WINDOW = timedelta(minutes=15)
#: why staff issue a code, as the access log records it
STAFF_CODE_REASON = "a one-time sign-in code handed to the customer after checking identity"
#: the role a customer acts in (jejak.cases.permissions.CUSTOMER)
CUSTOMER = "customer"
_hasher = PasswordHasher()
#: compared against when there is no code, so that an unknown ticket costs the same time
_DUMMY = _hasher.hash("000000")
#: an address as RFC 5321 allows it (at most 254 characters in all)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,188}\.[A-Za-z]{2,24}")


def now() -> datetime:
    return datetime.now(UTC)


def normalize_msisdn(text: str) -> str:
    """A number as the export writes it (``62...``, :func:`jejak.numbers.msisdn`); what cannot
    be a number gives its digits alone, which match no line (a sign-in says nothing either way)."""
    try:
        return parse_msisdn(text or "")
    except InvalidNumberError:
        return re.sub(r"[^0-9]", "", text or "")[:20]


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def _case_for(cases: Cases, msisdn: str, ticket: str) -> Case | None:
    """The case of ``ticket`` if it is ``msisdn``'s; None for anything else."""
    with cases.db.read() as s:
        case = s.scalar(select(Case).where(Case.complaint_id == (ticket or "").strip()[:80]))
        if case is None or case.msisdn != normalize_msisdn(msisdn):
            return None
        s.expunge(case)
        return case


def line_known(cases: Cases, msisdn: str) -> bool:
    """Whether the store knows the line: a subscriber record, or a charge (never said to the
    customer: it only decides whether a line code is sent)."""
    found = []
    for kind in ("subscribers", "charges"):  # both asked, whatever the first says: the same work
        try:
            rows = cases.store.sql(f"SELECT 1 AS x FROM {kind} WHERE msisdn = ? LIMIT 1", [msisdn])
        except Exception:  # a store without that kind knows no line through it
            rows = []
        found.append(bool(rows))
    return any(found)


# ---------------------------------------------------------------------------- lock-out


def throttle_keys(msisdn: str, address: str | None) -> list[str]:
    """The attempt keys of a sign-in: the number, and the address it comes from."""
    keys = ["customer:" + normalize_msisdn(msisdn)]
    if address:
        keys.append("customer-ip:" + address[:100])
    return keys


def locked(cases: Cases, keys: list[str], *, at: datetime | None = None) -> bool:
    """Whether any key had too many wrong codes within the window."""
    t = at or now()
    with cases.db.read() as s:
        for key in keys:
            limit = LOCKOUT_FAILURES_ADDRESS if key.startswith("customer-ip:") else LOCKOUT_FAILURES
            n = s.scalar(
                select(func.count(SignInAttempt.id)).where(
                    SignInAttempt.user_name == key,
                    SignInAttempt.ok.is_(False),
                    SignInAttempt.at > t - LOCKOUT_WINDOW,
                )
            )
            if (n or 0) >= limit:
                return True
    return False


def record_attempt(cases: Cases, keys: list[str], ok: bool, *, at: datetime | None = None) -> None:
    with cases.db.write() as s:
        for key in keys:
            s.add(SignInAttempt(user_name=key[:120], at=at or now(), ok=ok))


# ---------------------------------------------------------------------------- contacts, bars


def set_email(cases: Cases, msisdn: str, email: str, at: datetime | None = None) -> None:
    """Put (or replace) the e-mail address on file for ``msisdn``."""
    email = email.strip()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise InvalidFieldError("email", f"{email[:60]!r} is not an e-mail address")
    number = normalize_msisdn(msisdn)
    with cases.db.write() as s:
        row = s.get(CustomerContact, number)
        if row is None:
            s.add(CustomerContact(msisdn=number, email=email, updated_at=at or now()))
        else:
            row.email, row.updated_at = email, at or now()


def email_of(cases: Cases, msisdn: str) -> str | None:
    with cases.db.read() as s:
        row = s.get(CustomerContact, normalize_msisdn(msisdn))
        return row.email if row is not None else None


def barred_both_ways(cases: Cases, msisdn: str) -> bool:
    """Whether the line's latest ingested line action bars it both ways, not since lifted."""
    try:
        rows = cases.store.sql(
            'SELECT action_id, action FROM line_actions WHERE msisdn = ? ORDER BY "at" DESC LIMIT 1',
            [msisdn],
        )
    except Exception:  # a store without line actions bars nobody
        return False
    if not rows or rows[0]["action"] != "bar_all":
        return False
    with cases.db.read() as s:
        lifted = s.scalar(
            select(Finding.id).where(
                Finding.action_id == rows[0]["action_id"], Finding.lifted_at.is_not(None)
            )
        )
    return lifted is None


# ---------------------------------------------------------------------------- codes


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _code_message(lang: str, ticket: str | None, code: str) -> tuple[str, str]:
    """The message of a case code (``ticket``) or of a line code (``ticket`` None)."""
    minutes = int(CODE_TTL.total_seconds() // 60)
    if lang == "en":
        if ticket is None:
            return (
                "Sign-in code for a new complaint",
                f"Your code to lodge a complaint about this line is {code}. It is valid for "
                f"{minutes} minutes. Never give it to anyone, including our staff.",
            )
        return (
            f"Sign-in code for ticket {ticket}",
            f"Your code to follow ticket {ticket} is {code}. It is valid for {minutes} minutes. "
            "Never give it to anyone, including our staff.",
        )
    if ticket is None:
        return (
            "Kode masuk untuk pengaduan baru",
            f"Kode Anda untuk menyampaikan pengaduan tentang nomor ini: {code}. Berlaku {minutes} "
            "menit. Jangan berikan kode ini kepada siapa pun, termasuk petugas kami.",
        )
    return (
        f"Kode masuk untuk tiket {ticket}",
        f"Kode Anda untuk mengikuti tiket {ticket}: {code}. Berlaku {minutes} menit. "
        "Jangan berikan kode ini kepada siapa pun, termasuk petugas kami.",
    )


def _channel(cases: Cases, msisdn: str) -> tuple[str, str] | None:
    """Where a code for ``msisdn`` goes: (channel, recipient); None when only staff can hand
    one over (barred both ways, no e-mail on file)."""
    if barred_both_ways(cases, msisdn):
        email = email_of(cases, msisdn)
        return None if email is None else ("email", email)
    return "sms", msisdn


def _sent_last_hour(s: Session, t: datetime, *, case_id: str | None, msisdn: str) -> int:
    where = [CustomerCode.created_at > t - timedelta(hours=1), CustomerCode.channel != "staff"]
    if case_id is not None:
        where.append(CustomerCode.case_id == case_id)
    else:
        where += [CustomerCode.case_id.is_(None), CustomerCode.msisdn == msisdn]
    return int(s.scalar(select(func.count(CustomerCode.id)).where(*where)) or 0)


def _send(
    cases: Cases,
    *,
    case_id: str | None,
    msisdn: str,
    ticket: str | None,
    language: str,
    code: str,
    code_hash: str,
    t: datetime,
) -> None:
    """Keep the code's hash and queue its message, unless the hour's quota is spent."""
    where = _channel(cases, msisdn)
    if where is None:
        return  # only a code handed over by staff can reach this customer
    channel, recipient = where
    with cases.db.write() as s:
        if _sent_last_hour(s, t, case_id=case_id, msisdn=msisdn) >= CODES_PER_HOUR:
            return
        s.add(
            CustomerCode(
                case_id=case_id,
                msisdn=msisdn,
                code_hash=code_hash,
                channel=channel,
                created_at=t,
                expires_at=t + CODE_TTL,
                failures=0,
            )
        )
        subject, body = _code_message(language, ticket, code)
        s.add(
            Notification(
                case_id=case_id,
                msisdn=recipient,
                language=language,
                ticket=ticket or "",
                event="signin_code",
                subject=subject,
                body=body,
                next_deadline=None,
                created_at=t,
                state="queued",
                attempts=0,
                next_attempt_at=t,
            )
        )


def request_code(cases: Cases, msisdn: str, ticket: str, *, at: datetime | None = None) -> None:
    """Send a sign-in code for ``ticket`` if it is ``msisdn``'s; says nothing either way."""
    t = at or now()
    code = _new_code()
    code_hash = _hasher.hash(code)  # made in every case: the same work whether or not it is sent
    case = _case_for(cases, msisdn, ticket)
    if case is None:
        return
    _send(
        cases,
        case_id=case.case_id,
        msisdn=case.msisdn,
        ticket=case.complaint_id,
        language=case.language,
        code=code,
        code_hash=code_hash,
        t=t,
    )


def request_line_code(
    cases: Cases, msisdn: str, *, language: str = "id", at: datetime | None = None
) -> None:
    """Send a code that lets the holder of ``msisdn`` lodge a first complaint, if the store
    knows the line; says nothing either way (the same work is done for an unknown number)."""
    t = at or now()
    code = _new_code()
    code_hash = _hasher.hash(code)  # made in every case, as for a case code
    number = normalize_msisdn(msisdn)
    if not line_known(cases, number):
        return
    _send(
        cases,
        case_id=None,
        msisdn=number,
        ticket=None,
        language=language if language in ("id", "en") else "id",
        code=code,
        code_hash=code_hash,
        t=t,
    )


def _staff(cases: Cases, staff: str) -> User:
    with cases.db.read() as s:
        user = s.scalar(select(User).where(User.name == staff))
        if user is None or user.disabled:
            raise AuthError(staff, "no such active account")
        s.expunge(user)
        return user


def _keep_staff_code(
    cases: Cases, *, case_id: str | None, msisdn: str, staff: str, t: datetime
) -> str:
    code = _new_code()
    with cases.db.write() as s:
        s.add(
            CustomerCode(
                case_id=case_id,
                msisdn=msisdn,
                code_hash=_hasher.hash(code),
                channel="staff",
                issued_by=staff,
                created_at=t,
                expires_at=t + CODE_TTL,
                failures=0,
            )
        )
    return code


def issue_staff_code(cases: Cases, case_id: str, staff: str, *, at: datetime | None = None) -> str:
    """A code for staff to hand over after checking the customer's identity; the issue is
    recorded (and so logged) in the access log. Returns the code, shown once."""
    t = at or now()
    user = _staff(cases, staff)
    with cases.db.read() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFoundError(case_id, "no such case")
        msisdn = case.msisdn
    code = _keep_staff_code(cases, case_id=case_id, msisdn=msisdn, staff=staff, t=t)
    cases.record_access(
        staff,
        user.role,
        msisdn,
        "customer_code_issued",
        case_id=case_id,
        via="web",
        reason=STAFF_CODE_REASON,
        at=t,
    )
    return code


def issue_staff_line_code(
    cases: Cases, msisdn: str, staff: str, *, at: datetime | None = None
) -> str:
    """A line code (to lodge a first complaint) for staff to hand over after checking the
    customer's identity, for a line the store knows; the issue is recorded (and logged) in the
    access log. Returns the code, shown once."""
    t = at or now()
    user = _staff(cases, staff)
    number = normalize_msisdn(msisdn)
    if not line_known(cases, number):
        raise NotFoundError(number, "no subscriber or charge of this number is on record")
    code = _keep_staff_code(cases, case_id=None, msisdn=number, staff=staff, t=t)
    cases.record_access(
        staff,
        user.role,
        number,
        "customer_line_code_issued",
        via="web",
        reason=STAFF_CODE_REASON,
        at=t,
    )
    return code


def _use_code(
    cases: Cases, where: list[Any] | None, code: str, t: datetime, wrong: AuthError
) -> None:
    """Check ``code`` against the newest live code matching ``where`` (None: there is none, and
    a dummy hash is checked for the same time); marks it used, or counts a failure."""
    code = re.sub(r"\s", "", code or "")[: CODE_DIGITS * 2]
    row: CustomerCode | None = None
    if where is not None:
        with cases.db.read() as s:
            row = s.scalar(
                select(CustomerCode)
                .where(
                    *where,
                    CustomerCode.used_at.is_(None),
                    CustomerCode.expires_at > t,
                    CustomerCode.failures < CODE_TRIES,
                )
                .order_by(CustomerCode.created_at.desc(), CustomerCode.id.desc())
                .limit(1)
            )
            if row is not None:
                s.expunge(row)
    try:
        ok = _hasher.verify(row.code_hash if row is not None else _DUMMY, code) and row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if row is None:
        raise wrong
    with cases.db.write() as s:
        live = s.get(CustomerCode, row.id, with_for_update=True)
        if live is None or live.used_at is not None:
            raise wrong
        if not ok:
            live.failures += 1
        else:
            live.used_at = t
    if not ok:
        raise wrong


def sign_in(
    cases: Cases, msisdn: str, ticket: str, code: str, *, at: datetime | None = None
) -> str:
    """The case id when ``code`` is a live code of ``msisdn``'s ``ticket``; else AuthError, the
    same one whatever was wrong."""
    t = at or now()
    wrong = AuthError("sign-in", "the number, ticket or code is not right, or the code has expired")
    case = _case_for(cases, msisdn, ticket)
    _use_code(
        cases, None if case is None else [CustomerCode.case_id == case.case_id], code, t, wrong
    )
    assert case is not None
    return case.case_id


def sign_in_line(cases: Cases, msisdn: str, code: str, *, at: datetime | None = None) -> str:
    """The line (its number as the store holds it) when ``code`` is a live line code of
    ``msisdn``; else AuthError, the same one whatever was wrong."""
    t = at or now()
    wrong = AuthError("sign-in", "the number or code is not right, or the code has expired")
    number = normalize_msisdn(msisdn)
    where = [CustomerCode.case_id.is_(None), CustomerCode.msisdn == number]
    _use_code(cases, where if number else None, code, t, wrong)
    return number


# ---------------------------------------------------------------------------- the case


@dataclass(frozen=True)
class Entry:
    """One timeline entry as the customer sees it."""

    seq: int
    at: str
    action: str
    role: str
    staff_id: int | None  # the staff account's number; None for jejak itself
    staff_name: str | None  # only when the policy shows names
    public: bool
    text: str | None  # None for an internal note
    ledger_index: int | None
    details: dict[str, Any]


#: payload fields a customer may see, per action (never another subscriber's number)
_PUBLIC_DETAILS = {
    "open": ("disputed_charge_ids", "disputed_amount", "ack_due", "decision_due"),
    "report_attached": ("report_sha256", "hypothesis", "operator_liable"),
    "decide": (
        "hypothesis",
        "operator_liable",
        "refund",
        "compensation",
        "unbar",
        "departs_from_evidence",
        "justification",
    ),
    "lift_bar": ("action_id", "days_barred", "compensation"),
    "finding": ("action_id", "barred_at", "amount_due"),
    "provisional_credit": ("amount",),
    "adjustment_approved": ("kind", "amount", "adjustment_id"),
    "propose_adjustment": ("kind", "amount", "adjustment_id"),
    "approve_adjustment": ("adjustment_id",),
}


def timeline(cases: Cases, case_id: str) -> list[Entry]:
    """Every entry of the case, in order, as the customer may see it."""
    show = cases.policy.show_staff_names
    with cases.db.read() as s:
        ids = dict(s.execute(select(User.name, User.id)).all())
        out = []
        for e in s.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.case_id == case_id)
            .order_by(TimelineEntry.seq)
        ):
            keep = _PUBLIC_DETAILS.get(e.action, ())
            staff = e.actor_role not in ("system", CUSTOMER)
            out.append(
                Entry(
                    seq=e.seq,
                    at=e.at.astimezone(cases.tz).isoformat(),
                    action=e.action,
                    role=e.actor_role,
                    staff_id=ids.get(e.actor) if staff else None,
                    staff_name=e.actor if (show and staff) else None,
                    public=e.public,
                    text=e.text if e.public else None,
                    ledger_index=e.ledger_index,
                    details={k: e.payload.get(k) for k in keep if k in (e.payload or {})},
                )
            )
        return out


def evidence_summary(cases: Cases, case_id: str) -> dict[str, Any] | None:
    """The customer's version of the evidence report: per disputed activation the user ID, the
    outlet, the time, whether consent is on record and whether the ID's owner was on shift; the
    verdict and the remedy. No other subscriber's number and no staff name (unless the policy
    shows names)."""
    import json

    try:
        doc = json.loads(cases.report(case_id))
    except NotFoundError:
        return None
    show = cases.policy.show_staff_names
    # the fields a customer may see: the one list, jejak.investigate.audience's
    acts = [customer_action(a, show_staff_names=show) for a in doc.get("actions") or []]
    verdict = doc.get("verdict") or {}
    remedy = doc.get("remedy") or {}
    return {
        "activations": acts,
        "hypothesis": verdict.get("hypothesis"),
        "operator_liable": verdict.get("operator_liable"),
        "remedy": {
            "refund": remedy.get("refund"),
            "charge_ids": remedy.get("charge_ids") or [],
            "compensation": remedy.get("compensation"),
            "unbar": remedy.get("unbar"),
        },
    }


def remedy_status(cases: Cases, case_id: str) -> dict[str, Any]:
    """What the operator owes and whether it was carried out: refunds and credits approved (sent
    to billing), bars lifted."""
    view = cases.get(case_id)
    adj = [
        {"kind": a["kind"], "amount": a["amount"], "state": a["state"]} for a in view["adjustments"]
    ]
    bars = [
        {
            "action_id": f["action_id"],
            "barred_at": f["barred_at"],
            "lifted_at": f["lifted_at"],
            "compensation": f["compensation"],
        }
        for f in view["findings"]
    ]
    return {"adjustments": adj, "bars": bars, "decision": view["decision"]}


# ---------------------------------------------------------------------------- acting


def charges(cases: Cases, msisdn: str) -> list[dict[str, Any]]:
    """The line's own charges, newest first."""
    try:
        return cases.store.sql(
            'SELECT charge_id, cycle, "at", amount, kind, description FROM charges '
            'WHERE msisdn = ? ORDER BY "at" DESC, charge_id',
            [msisdn],
        )
    except Exception:
        return []


def disputed_charges(cases: Cases, msisdn: str) -> dict[str, str]:
    """The line's charges a case disputes already (neither closed nor with its decision
    accepted): charge id -> that case's ticket."""
    with cases.db.read() as s:
        rows = s.execute(
            select(Case.complaint_id, Case.disputed_charge_ids).where(
                Case.msisdn == msisdn, Case.state != "closed", Case.accepted_at.is_(None)
            )
        ).all()
    return {str(c): ticket for ticket, ids in rows for c in (ids or [])}


def lodge(
    cases: Cases,
    msisdn: str,
    charge_ids: list[str],
    text: str,
    *,
    language: str = "id",
    at: datetime | None = None,
) -> dict[str, Any]:
    """Open a case for a complaint the customer lodges online about their own charges (none of
    them disputed already by an open case); the hold covers the disputed amount from this moment.
    Returns the case (its ``complaint_id`` is the ticket, ``WEB-YYYYMMDD-XXXXXX``)."""
    t = at or now()
    text = (text or "").strip()
    if not text:
        raise InvalidFieldError("text", "say what happened")
    own = {c["charge_id"]: c for c in charges(cases, msisdn)}
    picked = [c for c in dict.fromkeys(charge_ids) if c]
    if not picked:
        raise InvalidFieldError("charge_ids", "pick at least one charge")
    taken = disputed_charges(cases, msisdn)
    for c in picked:
        if c not in own:
            raise InvalidFieldError("charge_ids", f"{c[:40]!r} is not a charge of this line")
        if c in taken:
            raise InvalidFieldError("charge_ids", f"{c} is disputed already (ticket {taken[c]})")
    local = t.astimezone(cases.tz)
    for _ in range(5):
        ticket = f"WEB-{local:%Y%m%d}-{secrets.token_hex(3).upper()}"
        case, created = cases.create(
            {
                "complaint_id": ticket,
                "msisdn": msisdn,
                "opened_at": t,
                "disputed_charge_ids": picked,
                "disputed_amount": sum(int(own[c]["amount"] or 0) for c in picked),
                "summary": text[:2000],
                "language": language if language in ("id", "en") else "id",
            },
            at=t,
        )
        if created:  # a ticket drawn twice belongs to the first case: draw again
            return case
    raise StateConflictError("ticket", "no free ticket number: try again")


def accept(cases: Cases, case_id: str, *, at: datetime | None = None) -> dict[str, Any]:
    """The customer accepts the decision (recorded as the customer, role ``customer``).
    StateConflictError when there is none to accept, or it stands already (accepted, or deemed
    accepted once the policy's period passed: time is applied to the case first)."""
    cases.tick_case(case_id, at)
    return cases.act_as_customer(case_id, "accept", {}, at=at)


def stands_since(cases: Cases, view: dict[str, Any]) -> datetime | None:
    """When a resolved decision the customer has not answered is deemed accepted (the policy's
    ``deemed_accepted_days`` after it was resolved); None when that does not apply."""
    if view["state"] != "resolved" or view.get("accepted_at") is not None:
        return None
    resolved = [
        datetime.fromisoformat(e["at"])
        for e in view["timeline"]
        if e["action"] in ("decide", "countersign")
    ]
    if not resolved:
        return None
    return max(resolved) + timedelta(days=cases.policy.deemed_accepted_days)


def may_escalate(view: dict[str, Any], *, at: datetime | None = None) -> bool:
    """Disputing is open once there is a decision not yet accepted, or once the decision deadline
    passed without one; not once the decision stands (``view["stands_since"]`` passed)."""
    if view["state"] in ("escalated", "closed"):
        return False
    stands = view.get("stands_since")
    if stands is not None and (at or now()) > stands:
        return False
    if view["decision"] is not None and view.get("accepted_at") is None:
        return True
    return "decide" in (view.get("overdue") or [])


def dispute(
    cases: Cases, case_id: str, reason: str, *, at: datetime | None = None
) -> dict[str, Any]:
    """The customer disputes the decision (or its absence): the case is escalated (recorded as
    the customer, role ``customer``; the entry's text is the customer's reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidFieldError("reason", "say why you do not accept")
    cases.tick_case(case_id, at)
    view = cases.get(case_id)
    view["stands_since"] = stands_since(cases, view)
    if not may_escalate(view, at=at):
        raise StateConflictError(case_id, "there is no decision to dispute, or it stands already")
    return cases.act_as_customer(case_id, "escalate", {"reason": reason}, at=at)
