"""The customer's side of a case: signing in with number + ticket + one-time code, the case as
the customer sees it, lodging a complaint, answering a decision.

Signing in never tells whether a number or a ticket exists: :func:`request_code` does the same
work and returns nothing in every case (an argon2id hash is made even when there is no case to
send a code for), and :func:`sign_in` raises the same :class:`~jejak.errors.AuthError` for an
unknown number, an unknown ticket, a ticket of another number, a wrong, used or expired code.

Where a code goes (the notifications outbox of :mod:`jejak.notify` delivers it):

- by SMS to the number, normally;
- when the line is barred both ways (its latest ingested line action is ``bar_all`` and no case
  finding records the bar lifted), by e-mail to the address on file (:func:`set_email`), if any;
- otherwise only a code staff hand over at an outlet or the call centre after checking identity
  (:func:`issue_staff_code`); that issue is an access-log entry, so it is in the transparency log.

Codes are 6 digits, kept only as argon2id hashes, valid for :data:`CODE_TTL`, used once, and dead
after :data:`CODE_TRIES` wrong answers; at most :data:`CODES_PER_HOUR` are sent per case. The web
layer adds the per-number and per-address lock-out of :class:`jejak.web.security.Throttle`.

The customer acts through the account :data:`PORTAL_ACCOUNT` (role ``cs``: the role that records
a customer's acceptance at a desk); each entry's text says it came from the customer online.

Example::

    >>> normalize_msisdn("0811-0000-0001")
    '6281100000001'
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jejak.cases.customer.models import CustomerCode, CustomerContact
from jejak.cases.models import Case, Finding, Notification, SignInAttempt, TimelineEntry, User
from jejak.cases.users import add_user
from jejak.errors import (
    AuthError,
    InvalidFieldError,
    JejakError,
    NotFoundError,
    StateConflictError,
)
from jejak.investigate.audience import customer_action

if TYPE_CHECKING:
    from jejak.cases.service import Cases

CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 3
CODE_DIGITS = 6
CODES_PER_HOUR = 5
#: the account a customer's own actions are recorded under (role cs, no password, no token)
PORTAL_ACCOUNT = "pelanggan-online"
#: wrong codes for one number (or from one address) within LOCKOUT_WINDOW that lock it out, in the
#: table of jejak.auth's sign-in attempts, so that every worker counts the same
LOCKOUT_FAILURES = 5
LOCKOUT_FAILURES_ADDRESS = 20
LOCKOUT_WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()
#: compared against when there is no code, so that an unknown ticket costs the same time
_DUMMY = _hasher.hash("000000")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,188}\.[A-Za-z]{2,24}")


def now() -> datetime:
    return datetime.now(UTC)


def normalize_msisdn(text: str) -> str:
    """A number as the export writes it (``62...``): spaces, dashes, ``+`` and a leading 0 go."""
    digits = re.sub(r"[^0-9]", "", text or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits[:20]


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
    if not _EMAIL.fullmatch(email) or len(email) > 32:
        # the notifications outbox keeps the recipient in a 32-character column
        raise InvalidFieldError(
            "email", f"{email[:60]!r} is not an address of at most 32 characters"
        )
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


def _code_message(lang: str, ticket: str, code: str) -> tuple[str, str]:
    minutes = int(CODE_TTL.total_seconds() // 60)
    if lang == "en":
        return (
            f"Sign-in code for ticket {ticket}",
            f"Your code to follow ticket {ticket} is {code}. It is valid for {minutes} minutes. "
            "Never give it to anyone, including our staff.",
        )
    return (
        f"Kode masuk untuk tiket {ticket}",
        f"Kode Anda untuk mengikuti tiket {ticket}: {code}. Berlaku {minutes} menit. "
        "Jangan berikan kode ini kepada siapa pun, termasuk petugas kami.",
    )


def request_code(cases: Cases, msisdn: str, ticket: str, *, at: datetime | None = None) -> None:
    """Send a sign-in code for ``ticket`` if it is ``msisdn``'s; says nothing either way."""
    t = at or now()
    code = _new_code()
    code_hash = _hasher.hash(code)  # made in every case: the same work whether or not it is sent
    case = _case_for(cases, msisdn, ticket)
    if case is None:
        return
    if barred_both_ways(cases, case.msisdn):
        email = email_of(cases, case.msisdn)
        if email is None:
            return  # only a code handed over by staff can reach this customer
        channel, recipient = "email", email
    else:
        channel, recipient = "sms", case.msisdn
    with cases.db.write() as s:
        recent = s.scalar(
            select(func.count(CustomerCode.id)).where(
                CustomerCode.case_id == case.case_id,
                CustomerCode.created_at > t - timedelta(hours=1),
            )
        )
        if (recent or 0) >= CODES_PER_HOUR:
            return
        s.add(
            CustomerCode(
                case_id=case.case_id,
                code_hash=code_hash,
                channel=channel,
                created_at=t,
                expires_at=t + CODE_TTL,
                failures=0,
            )
        )
        subject, body = _code_message(case.language, case.complaint_id, code)
        s.add(
            Notification(
                case_id=case.case_id,
                msisdn=recipient,
                language=case.language,
                ticket=case.complaint_id,
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


def issue_staff_code(cases: Cases, case_id: str, staff: str, *, at: datetime | None = None) -> str:
    """A code for staff to hand over after checking the customer's identity; the issue is
    recorded (and so logged) in the access log. Returns the code, shown once."""
    t = at or now()
    with cases.db.read() as s:
        user = s.scalar(select(User).where(User.name == staff))
        case = s.get(Case, case_id)
        if user is None or user.disabled:
            raise AuthError(staff, "no such active account")
        if case is None:
            raise NotFoundError(case_id, "no such case")
        role, msisdn = user.role, case.msisdn
    code = _new_code()
    with cases.db.write() as s:
        s.add(
            CustomerCode(
                case_id=case_id,
                code_hash=_hasher.hash(code),
                channel="staff",
                issued_by=staff,
                created_at=t,
                expires_at=t + CODE_TTL,
                failures=0,
            )
        )
    cases.record_access(
        staff, role, msisdn, "customer_code_issued", case_id=case_id, via="web", at=t
    )
    return code


def sign_in(
    cases: Cases, msisdn: str, ticket: str, code: str, *, at: datetime | None = None
) -> str:
    """The case id when ``code`` is a live code of ``msisdn``'s ``ticket``; else AuthError, the
    same one whatever was wrong."""
    t = at or now()
    wrong = AuthError("sign-in", "the number, ticket or code is not right, or the code has expired")
    case = _case_for(cases, msisdn, ticket)
    code = re.sub(r"\s", "", code or "")[: CODE_DIGITS * 2]
    row: CustomerCode | None = None
    if case is not None:
        with cases.db.read() as s:
            row = s.scalar(
                select(CustomerCode)
                .where(
                    CustomerCode.case_id == case.case_id,
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
    if row is None or case is None:
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
    return case.case_id


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
            staff = e.actor_role != "system"
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


def _portal(cases: Cases) -> str:
    with cases.db.read() as s:
        exists = s.scalar(select(User.id).where(User.name == PORTAL_ACCOUNT)) is not None
    if not exists:
        # made by another worker at the same moment: fine
        with contextlib.suppress(JejakError, IntegrityError):
            add_user(cases.db, PORTAL_ACCOUNT, "cs")
    return PORTAL_ACCOUNT


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


def lodge(
    cases: Cases,
    msisdn: str,
    charge_ids: list[str],
    text: str,
    *,
    language: str = "id",
    at: datetime | None = None,
) -> dict[str, Any]:
    """Open a case for a complaint the customer lodges online about their own charges; the hold
    covers the disputed amount from this moment. Returns the case (its ``complaint_id`` is the
    ticket)."""
    t = at or now()
    text = (text or "").strip()
    if not text:
        raise InvalidFieldError("text", "say what happened")
    own = {c["charge_id"]: c for c in charges(cases, msisdn)}
    picked = [c for c in dict.fromkeys(charge_ids) if c]
    if not picked:
        raise InvalidFieldError("charge_ids", "pick at least one charge")
    for c in picked:
        if c not in own:
            raise InvalidFieldError("charge_ids", f"{c[:40]!r} is not a charge of this line")
    local = t.astimezone(cases.tz)
    ticket = f"WEB-{local:%Y%m%d}-{secrets.token_hex(3).upper()}"
    case, _ = cases.create(
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
    return case


def accept(cases: Cases, case_id: str, *, at: datetime | None = None) -> dict[str, Any]:
    """The customer accepts the decision."""
    return cases.act(case_id, _portal(cases), "accept", {}, at=at)


def may_escalate(view: dict[str, Any]) -> bool:
    """Disputing is open once there is a decision not yet accepted, or once the decision deadline
    passed without one."""
    if view["state"] in ("escalated", "closed"):
        return False
    if view["decision"] is not None and view.get("accepted_at") is None:
        return True
    return "decide" in (view.get("overdue") or [])


def dispute(
    cases: Cases, case_id: str, reason: str, *, at: datetime | None = None
) -> dict[str, Any]:
    """The customer disputes the decision (or its absence): the case is escalated."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidFieldError("reason", "say why you do not accept")
    view = cases.get(case_id)
    if not may_escalate(view):
        raise StateConflictError(case_id, "there is no decision to dispute yet")
    return cases.act(
        case_id,
        _portal(cases),
        "escalate",
        {"reason": f"the customer disputes online: {reason}"},
        at=at,
    )
