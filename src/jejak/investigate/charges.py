"""Charges: does each package charge on the line follow from a valid provisioning?

For every positive package charge, :func:`check_charges` finds the provisioning
that explains it and says, with one evidence code, whether it does:

``CHARGE_AFTER_END``
    the package was deactivated or expired more than a day before the charge,
    with no activation, renewal or change of it since (rule JJK-011);
``CHARGE_DURING_PROMO``
    the charge is dated before the promo of the activation that explains it
    ends, and is above the promo price (rule JJK-012);
``CHARGE_ABOVE_PRICE``
    the charge is above the price agreed in that activation, or, once its promo
    has ended, above the package's list price (rule JJK-013);
``CHARGE_NO_PROVISIONING``
    no activation of the package on this line precedes it;
``CHARGE_FROM_UNCONSENTED``
    it follows an action that no verified consent covers (the charge is then
    only as good as that action);
``CHARGE_FOLLOWS_PROVISIONING``
    none of the above: it follows its activation at the agreed price.

Usage, fees and adjustments are listed, never judged: jejak has no record of
what they should be.

Example::

    >>> [c["codes"] for c in check_charges(dossier, {"EV0000170"})[-2:]]   # doctest: +SKIP
    [['CHARGE_AFTER_END', 'CHARGE_FROM_UNCONSENTED'], ['CHARGE_AFTER_END', 'CHARGE_FROM_UNCONSENTED']]
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jejak.investigate.evidence import Dossier
from jejak.investigate.i18n import idr, local
from jejak.investigate.renewals import chain_origin
from jejak.investigate.report import Code, Evidence, iso

START_ACTIONS = ("activate", "renew", "modify")
END_ACTIONS = ("deactivate", "expire")
#: a charge posted within a day of the end still belongs to the last period
END_GRACE = timedelta(days=1)

BILLING_ERRORS = (
    "CHARGE_AFTER_END",
    "CHARGE_DURING_PROMO",
    "CHARGE_ABOVE_PRICE",
    "CHARGE_NO_PROVISIONING",
)


def _zone(dossier: Dossier, event: dict[str, Any]) -> str:
    return (dossier.outlets.get(event.get("outlet_id") or "") or {}).get(
        "timezone"
    ) or "Asia/Jakarta"


def check_charges(dossier: Dossier, unconsented: set[str]) -> list[dict[str, Any]]:
    """Every charge of the line with its evidence; ``unconsented``: event ids without verified consent."""
    prov = dossier.records.get("provisioning", [])
    notes = dossier.records.get("notifications", [])
    disputed = set((dossier.complaint or {}).get("disputed_charge_ids") or [])
    out = []
    for ch in dossier.records.get("charges", []):
        entry: dict[str, Any] = {
            "charge_id": ch["charge_id"],
            "at": iso(ch["at"]),
            "cycle": ch.get("cycle"),
            "kind": ch.get("kind"),
            "package_id": ch.get("package_id"),
            "amount": ch.get("amount"),
            "disputed": ch["charge_id"] in disputed,
            "explained_by": None,
            "codes": [],
            "evidence": [],
        }
        out.append(entry)
        if ch.get("kind") != "package" or not ch.get("package_id") or (ch.get("amount") or 0) <= 0:
            continue
        cid, pkg, amount = ch["charge_id"], ch["package_id"], ch["amount"]
        p = {"charge": cid, "amount": idr(amount), "package": pkg}
        same = [e for e in prov if e["package_id"] == pkg and e["at"] <= ch["at"]]
        starts = [e for e in same if e["action"] in START_ACTIONS]
        ends = [e for e in same if e["action"] in END_ACTIONS]
        evs: list[Evidence] = []
        last_start = max(starts, key=lambda e: (e["at"], e["event_id"])) if starts else None
        last_end = max(ends, key=lambda e: (e["at"], e["event_id"])) if ends else None
        if last_start is None:
            evs.append(Evidence(Code.CHARGE_NO_PROVISIONING, p, [cid]))
        else:
            entry["explained_by"] = last_start["event_id"]
        if (
            last_end is not None
            and ch["at"] > last_end["at"] + END_GRACE
            and (last_start is None or last_start["at"] <= last_end["at"])
        ):
            evs.append(
                Evidence(
                    Code.CHARGE_AFTER_END,
                    {
                        **p,
                        "end_event": last_end["event_id"],
                        # the moment, in the end event's outlet's zone (as the chronology says it)
                        "end_at": local(last_end["at"], _zone(dossier, last_end)),
                    },
                    [cid, last_end["event_id"]],
                )
            )
        if last_start is not None:
            sid = last_start["event_id"]
            price = last_start.get("price")
            promo = last_start.get("promo_ends")
            if promo is not None and ch["at"].date() < promo and amount > (price or 0):
                evs.append(
                    Evidence(
                        Code.CHARGE_DURING_PROMO,
                        {**p, "event": sid, "promo_ends": promo.isoformat(), "price": idr(price)},
                        [cid, sid],
                    )
                )
            else:
                # the agreed price: the action's, or once its promo has ended the package's list price
                agreed = price
                if promo is not None:
                    agreed = (dossier.packages.get(pkg) or {}).get("price")
                if (
                    agreed is not None
                    and amount > agreed
                    and not any(e.code == "CHARGE_AFTER_END" for e in evs)
                ):
                    evs.append(
                        Evidence(
                            Code.CHARGE_ABOVE_PRICE,
                            {**p, "event": sid, "price": idr(agreed)},
                            [cid, sid],
                        )
                    )
            origin, _broken = chain_origin(prov, last_start, notes, dossier.packages)
            if origin["event_id"] in unconsented:  # a renewal is only as good as its chain
                oid = origin["event_id"]
                ids = [cid, sid] + ([oid] if oid != sid else [])
                evs.append(Evidence(Code.CHARGE_FROM_UNCONSENTED, {**p, "event": oid}, ids))
            elif sid in unconsented:
                evs.append(Evidence(Code.CHARGE_FROM_UNCONSENTED, {**p, "event": sid}, [cid, sid]))
            if not evs:
                evs.append(
                    Evidence(Code.CHARGE_FOLLOWS_PROVISIONING, {**p, "event": sid}, [cid, sid])
                )
        entry["codes"] = [e.code for e in evs]
        entry["evidence"] = evs
    return out
