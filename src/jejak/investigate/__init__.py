"""Investigation: from a subscriber's number or a complaint to the evidence report and a verdict.

One call, :func:`investigate`, runs the steps, each in its own module:

1. :mod:`~jejak.investigate.evidence` gathers every record about the subscriber
   and puts it in time order (the chronology);
2. :mod:`~jejak.investigate.attribution` attributes each disputed or
   unconsented action: user ID, person, outlet, address, terminal, session,
   roster, consent — each fact an evidence item naming its records;
3. :mod:`~jejak.investigate.charges` checks each charge against the
   provisioning that should explain it;
4. :mod:`~jejak.investigate.hypotheses` weighs the five hypotheses by written
   rules and reaches the verdict (``docs/verdicts.md``);
5. :mod:`~jejak.investigate.blast` finds the other subscribers reached the
   same way;
6. :mod:`~jejak.investigate.remedy` computes refund, unbarring and
   compensation by a configurable :class:`~jejak.investigate.remedy.Policy`.

The report (:mod:`~jejak.investigate.report`) turns into the JSON of
``shared/spec/outputs.md``, a terminal text (:mod:`~jejak.investigate.render_text`)
or a self-contained HTML page (:mod:`~jejak.investigate.render_html`).

**A read.** :func:`investigate` writes nothing: not the alerts, not the
lookup index (a batch without one is read from the store's own files instead), so it
may serve a web ``GET``. The report lists the alerts that concern the
subscriber. When ``alerts`` is given they are used as they are
(``alerts_source: given``). Otherwise the alerts stored by the latest
``jejak detect`` run are read (``stored``); when data was ingested after that
run they are read all the same and the report says so (``stale``), and when
there are none it says ``none``. Refreshing them is an explicit write:
:meth:`jejak.Home.refresh_alerts`. The verdict never depends on the alerts
(they corroborate; the records decide), so a report is the same with or
without them but for its ``findings``.

**As of when.** ``as_of`` is the moment the report is made for: compensation
for a barred line runs until it, and a bar still in force then is said to be.
It defaults to now — a report made today speaks of today — so give ``as_of`` for
a report that must come out the same tomorrow; a given ``as_of`` may not be
earlier than the subscriber's latest record.

Example::

    >>> from jejak.store import Store
    >>> report = investigate(Store("./jejak-data"), "6281100000001")   # doctest: +SKIP
    >>> report.verdict.hypothesis, report.verdict.operator_liable        # doctest: +SKIP
    ('credential_misuse', True)
    >>> report.remedy.refund, report.blast_radius.by_agent               # doctest: +SKIP
    (500000, ['6281100000052', '6281100000061', '6281100000077', '6281100000089'])
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jejak.detect.alerts import alerts_current
from jejak.errors import UsageError
from jejak.investigate.attribution import actions as find_actions
from jejak.investigate.attribution import consent_check
from jejak.investigate.audience import Audience
from jejak.investigate.audience import audience as audience_of
from jejak.investigate.blast import blast_radius
from jejak.investigate.charges import BILLING_ERRORS, check_charges
from jejak.investigate.evidence import (
    alerts_path,
    chronology,
    filter_alerts,
    findings,
    gather,
    latest_at,
)
from jejak.investigate.hypotheses import weigh
from jejak.investigate.i18n import local
from jejak.investigate.remedy import Policy, remedy
from jejak.investigate.report import HYPOTHESES, INSUFFICIENT, Report
from jejak.numbers import maybe_msisdn
from jejak.store import Store

__all__ = [
    "HYPOTHESES",
    "INSUFFICIENT",
    "Audience",
    "Policy",
    "Report",
    "investigate",
    "parse_as_of",
]


def parse_as_of(value: str | datetime | None) -> datetime | None:
    """``--as-of``: an ISO 8601 timestamp with offset, or a date (its end, UTC)."""
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            raise UsageError("--as-of", f"{value.isoformat()} has no UTC offset")
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            d = datetime.fromisoformat(text)
            return d.replace(hour=23, minute=59, second=59, tzinfo=UTC)
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError("--as-of", f"{value!r} is not a date or an ISO 8601 timestamp") from None
    if t.tzinfo is None:
        raise UsageError("--as-of", f"{value!r} has no UTC offset (e.g. 2017-04-01T00:00:00+07:00)")
    return t


def _alerts(
    store: Store, msisdn: str, ids: list[str], given: list[Any] | None
) -> tuple[list[dict[str, Any]], str]:
    if given is not None:
        return filter_alerts(given, msisdn, ids), "given"
    if not alerts_path(store).exists():
        return [], "none"
    return findings(store, msisdn, ids), ("stored" if alerts_current(store) else "stale")


def investigate(
    store: Store,
    msisdn: str | None = None,
    *,
    complaint_id: str | None = None,
    as_of: str | datetime | None = None,
    policy: Policy | str | Path | None = None,
    alerts: list[Any] | None = None,
    audience: str | Audience = "staff",
) -> Report:
    """The evidence report for ``msisdn`` (or the subscriber of ``complaint_id``), for
    ``audience`` (``staff``, ``customer`` or an :class:`~jejak.investigate.audience.Audience`:
    what its renderings and JSON show; see :mod:`~jejak.investigate.audience`).

    Raises NotFoundError for an unknown subscriber or complaint, UsageError for a
    complaint about another number or an ``as_of`` before the latest record.
    """
    msisdn = maybe_msisdn(msisdn, where="--msisdn")
    reader = audience_of(audience)
    pol = policy if isinstance(policy, Policy) else Policy.load(policy)
    dossier = gather(store, msisdn, complaint_id)
    latest = latest_at(dossier)
    when = parse_as_of(as_of)
    if when is None:  # a report made today speaks of today (a bar still in force, say)
        when = datetime.now(UTC)
        if latest is not None and when < latest:
            when = latest
    elif latest is not None and when < latest:
        raise UsageError(
            "--as-of",
            f"{when.isoformat()} is before the latest record about {dossier.msisdn} ({latest.isoformat()})",
        )
    when = when.astimezone(UTC)

    chron = chronology(dossier)
    acts = find_actions(dossier, pol)
    unconsented = {a.event_id for a in acts if not a.consent_valid}
    charges = check_charges(dossier, unconsented)
    consented_elsewhere = any(
        e.get("agent_id") and consent_check(e, _consent_of(dossier, e))[0] == "CONSENT_VERIFIED"
        for e in dossier.records.get("provisioning", [])
    )
    ids = sorted(
        {c.record_id for c in chron}
        | {str(a.event["session_id"]) for a in acts if a.event.get("session_id")}
    )
    found, source = _alerts(store, dossier.msisdn, ids, alerts)
    hyps, verdict = weigh(
        acts,
        charges,
        found,
        consented_elsewhere=consented_elsewhere,
    )
    liable = verdict.operator_liable
    unsupported = {c["charge_id"] for c in charges if "CHARGE_FROM_UNCONSENTED" in c["codes"]}
    billing_errors = {c["charge_id"] for c in charges if set(c["codes"]) & set(BILLING_ERRORS)}
    rem = remedy(
        liable=liable,
        charges=charges,
        unsupported=unsupported,
        billing_errors=billing_errors,
        line_actions=dossier.records.get("line_actions", []),
        complaint=dossier.complaint,
        complaints=dossier.records.get("complaints", []),
        as_of=when,
        policy=pol,
        local=lambda t: local(t, pol.timezone),
    )
    for c in charges:
        c["evidence"] = [e.to_dict() for e in c["evidence"]]
    report = Report(
        msisdn=dossier.msisdn,
        complaint_id=(dossier.complaint or {}).get("complaint_id"),
        as_of=when,
        subscriber=dossier.subscriber,
        complaint=dossier.complaint,
        chronology=chron,
        actions=acts,
        charges=charges,
        findings=found,
        hypotheses=hyps,
        verdict=verdict,
        blast_radius=blast_radius(dossier, acts),
        remedy=rem,
        policy=pol.model_dump(),
        alerts_source=source,
        # one time zone per report: the disputed outlet's, else the policy's
        timezone=next(
            (a.outlet["timezone"] for a in acts if a.outlet and a.outlet.get("timezone")),
            pol.timezone,
        ),
        audience=reader,
    )
    return report


def _consent_of(dossier: Any, event: dict[str, Any]) -> dict[str, Any] | None:
    cid = event.get("consent_id")
    for c in dossier.records.get("consents", []):
        if c["consent_id"] == cid:
            return c
    return None
