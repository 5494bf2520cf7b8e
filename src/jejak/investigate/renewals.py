"""Renewals inherit their consent: an automatic renewal traces back to the activation it renews.

A package that renews itself is bought once: the subscriber consents to the
activation (and, with it, to its renewals), not to each period. So a charge
that comes from a renewal is weighed against the activation at the start of
its chain of renewals — the latest ``activate`` or ``modify`` of the package
before it — and that activation's consent. The chain breaks, and the renewal
stands alone (no consent of its own), when

- the package **ended** in between: a ``deactivate`` (the subscriber's own, or
  the operator's) or an ``expire`` of the package after the activation and
  before the renewal; or
- the **price changed without notice**: the renewal costs more than the price
  agreed at the start of the chain (once a promo has ended, the package's list
  price), and no ``package_expiring`` notification of the package reached the
  subscriber between the previous period and the renewal.

Example::

    >>> act = {"event_id": "EA", "action": "activate", "package_id": "P", "at": 1, "price": 100, "promo_ends": None}
    >>> ren = {"event_id": "ER", "action": "renew", "package_id": "P", "at": 3, "price": 100, "promo_ends": None}
    >>> origin, broken = chain_origin([act, ren], ren, [], {})
    >>> origin["event_id"], broken
    ('EA', None)
"""

from __future__ import annotations

from typing import Any

#: actions that start a chain of renewals (what the subscriber consents to)
STARTS = ("activate", "modify")
#: actions that end a package: a renewal after one is not part of the earlier chain
ENDS = ("deactivate", "expire")
#: the notification that tells the subscriber a period is about to renew (with its price)
NOTICE = "package_expiring"


def _agreed(start: dict[str, Any], packages: dict[str, dict[str, Any]], at: Any) -> int | None:
    """The price agreed at the start of a chain for a period beginning at ``at``."""
    promo = start.get("promo_ends")
    if promo is not None:
        day = at.date() if hasattr(at, "date") else at
        if day >= promo:  # the promo is over: the package's list price
            return (packages.get(start.get("package_id") or "") or {}).get("price")
    return start.get("price")


def chain_origin(
    provisioning: list[dict[str, Any]],
    event: dict[str, Any],
    notifications: list[dict[str, Any]],
    packages: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], str | None]:
    """The action at the start of ``event``'s chain of renewals, and why the chain breaks.

    Returns ``(event, None)`` for anything that is not a renewal; ``(start, None)`` when
    the renewal inherits the consent of ``start``; ``(event, "ended")`` or ``(event,
    "price")`` when the chain is broken (see the module docstring), and ``(event,
    "no_start")`` when no activation of the package is on record before it.
    """
    if event.get("action") != "renew":
        return event, None
    pkg = event.get("package_id")
    before = sorted(
        (
            p
            for p in provisioning
            if p.get("package_id") == pkg
            and (p["at"], p["event_id"]) < (event["at"], event["event_id"])
        ),
        key=lambda p: (p["at"], p["event_id"]),
    )
    for p in reversed(before):
        if p["action"] in ENDS:
            return event, "ended"
        if p["action"] in STARTS:
            agreed = _agreed(p, packages, event["at"])
            price = event.get("price")
            if agreed is not None and price is not None and price > agreed:
                since = before[-1]["at"]  # the period before this renewal began then
                told = any(
                    n.get("type") == NOTICE
                    and n.get("package_id") == pkg
                    and n.get("at") is not None
                    and since <= n["at"] <= event["at"]
                    for n in notifications
                )
                if not told:
                    return event, "price"
            return p, None
    return event, "no_start"
