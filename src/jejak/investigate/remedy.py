"""The remedy: what the operator owes the subscriber, by a written, configurable policy.

:class:`Policy` holds every number the remedy uses; its defaults are below and
in ``docs/verdicts.md``. A policy file (JSON or TOML, ``--policy FILE``) may set
any of its fields; unknown fields are an error.

The remedy, when the verdict holds the operator liable:

- **refund** every charge the evidence does not support: each package charge
  that follows an action no verified consent covers, and each package charge
  with a billing error (after the package ended, during its promo, above its
  price, without any activation);
- **unbar** the line when its latest line action is a bar for non-payment of no
  more than the refunded amount (the bar is over money that was never owed);
- **compensate** each day such a bar lasted — until the unbar on record or, if
  none, until ``as_of`` — at ``compensation_per_day_bar_all`` (or
  ``…_bar_outgoing``), counting every started day, capped at
  ``compensation_cap`` when one is set.

Whatever the verdict, a bar for non-payment placed while a complaint disputing
that amount was open (:func:`open_dispute`) is a wrong of its own: a line may
not be barred over a disputed amount until the complaint is decided and the
subscriber has had notice. The remedy lifts it and compensates the days barred
while the dispute was open (until the unbar on record, the complaint's closing
or ``as_of``, whichever is first), even when the charges stand. A bar still in
force at ``as_of`` is said to be (``REMEDY_STILL_BARRED``): compensation keeps
accruing until it is lifted.

When the operator is not liable nothing else is refunded except charges with a
billing error (a consented package still cannot be billed after it ended), and
any other bar stands.

Example::

    >>> Policy().compensation_per_day_bar_all
    50000
    >>> Policy.model_validate({"compensation_per_day_bar_all": 10000}).compensation_per_day_bar_all
    10000
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import Field

from jejak.investigate.i18n import idr
from jejak.investigate.report import Code, Evidence, Remedy
from jejak.policyfile import PolicyFile

BARS = ("bar_outgoing", "bar_all")


class Policy(PolicyFile):
    """The numbers the remedy and the attribution use (all amounts in IDR)."""

    compensation_per_day_bar_all: int = Field(
        50_000, ge=0, description="Compensation per started day the line was fully barred."
    )
    compensation_per_day_bar_outgoing: int = Field(
        25_000, ge=0, description="Compensation per started day only outgoing service was barred."
    )
    compensation_cap: int | None = Field(
        None, ge=0, description="Most compensation one report may award; none = no cap."
    )
    handover_minutes: int = Field(
        30,
        ge=0,
        description="A terminal counts as handed over when another user ID used it this recently (rule JJK-004).",
    )
    timezone: str = Field(
        "Asia/Jakarta", description="Time zone for times when the outlet's is unknown."
    )


def barred_days(start: datetime, end: datetime) -> int:
    """Started days between two moments (0 when ``end`` is not after ``start``).

    >>> from datetime import UTC
    >>> barred_days(datetime(2017, 3, 10, 2, tzinfo=UTC), datetime(2017, 3, 11, 2, 1, tzinfo=UTC))
    2
    """
    seconds = (end - start).total_seconds()
    return math.ceil(seconds / 86400) if seconds > 0 else 0


def open_dispute(bar: dict[str, Any], complaints: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The complaint that disputed the amount a non-payment ``bar`` enforces and was open when
    the bar was placed (opened before it, not closed before it: export 1.1), or None.

    A complaint disputes the amount when its disputed amount is at least the amount due.
    """
    if bar.get("reason") != "non_payment":
        return None
    due = int(bar.get("amount_due") or 0)
    for c in sorted(complaints, key=lambda c: (c["opened_at"], c["complaint_id"])):
        closed = c.get("closed_at") if c.get("status") == "closed" else None
        if (
            c["opened_at"] <= bar["at"]
            and (closed is None or closed > bar["at"])
            and int(c.get("disputed_amount") or 0) > 0
            and due <= int(c.get("disputed_amount") or 0)
        ):
            return c
    return None


def remedy(
    *,
    liable: bool,
    charges: list[dict[str, Any]],
    unsupported: set[str],
    billing_errors: set[str],
    line_actions: list[dict[str, Any]],
    complaint: dict[str, Any] | None,
    as_of: datetime,
    complaints: list[dict[str, Any]] | None = None,
    policy: Policy,
    local: Any,
) -> Remedy:
    """What the operator owes: see the module docstring for each rule."""
    refundable = (unsupported | billing_errors) if liable else billing_errors
    refunded = [c for c in charges if c["charge_id"] in refundable and (c.get("amount") or 0) > 0]
    refund = sum(int(c["amount"]) for c in refunded)
    ids = [c["charge_id"] for c in refunded]
    lines: list[Evidence] = []
    if ids:
        lines.append(
            Evidence(Code.REMEDY_REFUND, {"refund": idr(refund), "charges": ", ".join(ids)}, ids)
        )
    else:
        lines.append(Evidence(Code.REMEDY_NO_REFUND, {}, []))

    unbar, days, comp, bar_id = False, 0, 0, None
    acts = sorted(line_actions, key=lambda a: (a["at"], a["action_id"]))
    # the bar in force (or the latest one, if it has been lifted since)
    bars = [a for a in acts if a["action"] in BARS]
    if bars:
        bar = bars[-1]
        bar_id = bar["action_id"]
        lifted = [a for a in acts if a["action"] == "unbar" and a["at"] >= bar["at"]]
        for_debt = bar.get("reason") == "non_payment"
        over_refund = (
            liable and refund > 0 and for_debt and 0 < int(bar.get("amount_due") or 0) <= refund
        )
        dispute = open_dispute(bar, complaints or ([complaint] if complaint else []))
        if over_refund or dispute is not None:
            # over money never owed: until lifted; over a dispute only (the charges stand):
            # until lifted or until the complaint was decided, whichever came first
            end = lifted[0]["at"] if lifted else as_of
            decided = None
            if not over_refund and dispute is not None and dispute.get("closed_at") is not None:
                decided = dispute["closed_at"]
                end = min(end, decided)
            days = barred_days(bar["at"], end)
            rate = (
                policy.compensation_per_day_bar_all
                if bar["action"] == "bar_all"
                else policy.compensation_per_day_bar_outgoing
            )
            comp = days * rate
            if policy.compensation_cap is not None:
                comp = min(comp, policy.compensation_cap)
            # once the complaint is decided (and the charges stand) the bar enforces a debt
            unbar = not lifted and (over_refund or decided is None or decided > as_of)
            params = {
                "action": bar_id,
                "when": local(bar["at"]),
                "days": days,
                "rate": idr(rate),
                "compensation": idr(comp),
            }
            bar_ids = [bar_id, *(a["action_id"] for a in lifted[:1])]
            if over_refund:
                lines.append(Evidence(Code.REMEDY_UNBAR, params, bar_ids))
            else:
                assert dispute is not None
                cid = dispute["complaint_id"]
                if unbar or decided is None:
                    code, extra = Code.REMEDY_UNBAR_DISPUTE, {"complaint": cid}
                else:
                    code, extra = (
                        Code.REMEDY_DISPUTE_BAR,
                        {"complaint": cid, "decided": local(decided)},
                    )
                lines.append(Evidence(code, {**params, **extra}, [*bar_ids, cid]))
            if unbar:
                lines.append(
                    Evidence(
                        Code.REMEDY_STILL_BARRED,
                        {"action": bar_id, "as_of": local(as_of), "rate": idr(rate)},
                        [bar_id],
                    )
                )
        elif not lifted:
            lines.append(Evidence(Code.REMEDY_BAR_STANDS, {"action": bar_id}, [bar_id]))
    return Remedy(
        refund=refund,
        charge_ids=ids,
        compensation=comp,
        unbar=unbar,
        barred_days=days,
        lines=lines,
        bar_id=bar_id,
    )
