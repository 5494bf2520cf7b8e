"""The seed case of 2016, embedded as scenario ``seed-2016``.

The thirteen CSV files in ``seed_2016/`` are copies of
``shared/scenarios/seed-2016`` (see its README, copied beside them): GraPARI
Sragen, user ID 16009045 used at 21:05-21:48 on 2016-07-18 on the on-call
colleague's terminal SRG-PC-07 to activate a "free for six months" 12 GB
package on five numbers without consent; the two 250,000 IDR charges of
February 2017 after the 2016-12-20 deactivation SMS; complaint
TCK-2017-0206-0001; the bar of 2017-03-10 over the disputed 500,000 IDR.
Every identifier is the seed's own; the generated operator uses other ranges
(``SC001``, ``17RRNNNN``, ``PV...``), so nothing collides.

Example::

    >>> rows = seed_rows()
    >>> [r["event_id"] for r in rows["provisioning"] if r["agent_id"] == "16009045" and r["consent_id"] is None]
    ['EV0000169', 'EV0000170', 'EV0000171', 'EV0000172', 'EV0000173']
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jejak.schema import KINDS

SEED_DIR = Path(__file__).with_name("seed_2016")

VICTIM = "6281100000001"
COMPLAINT = "TCK-2017-0206-0001"
OWNER = "16009045"  # Sri Wahyuni: her ID was used
COLLEAGUE = "16009051"  # Budi Santoso: on call 16:00-22:00 on SRG-PC-07
CASE_EVENTS = ("EV0000169", "EV0000170", "EV0000171", "EV0000172", "EV0000173")
CASE_SESSIONS = ("SE000100", "SE000057")  # the misused session, the colleague's on-call session
CASE_SHIFTS = ("SH00054", "SH00057")  # the owner's 08:00-16:00, the colleague's on-call shift
CASE_CHARGES = ("CH000009", "CH000010")
CASE_BAR = "LA000001"


def _value(type_: str, text: str) -> Any:
    if text == "":
        return None
    if type_ == "timestamp":
        return int(datetime.fromisoformat(text).timestamp())
    if type_ == "date":
        return date.fromisoformat(text)
    if type_ in ("money", "int"):
        return int(text)
    if type_ == "bool":
        return text.lower() == "true"
    if type_ in ("list", "cidrs"):
        return [p for p in text.split(";") if p]
    return text


def seed_rows() -> dict[str, list[dict[str, Any]]]:
    """Every record of the seed case, by kind, with typed values (instants as epoch seconds)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS.values():
        path = SEED_DIR / f"{kind.name}.csv"
        with open(path, encoding="utf-8", newline="") as fh:
            types = {f.name: f.type for f in kind.fields}
            out[kind.name] = [
                {k: _value(types[k], v) for k, v in row.items()} for row in csv.DictReader(fh)
            ]
    return out


def seed_truth() -> dict[str, Any]:
    """The truth line of the seed case."""
    rows = seed_rows()
    victims = [r["msisdn"] for r in rows["provisioning"] if r["event_id"] in CASE_EVENTS]
    return {
        "case_id": "seed-2016",
        "kind": "seed-2016",
        "hard_negative": False,
        "msisdns": [VICTIM] + [m for m in victims if m != VICTIM],
        "agent_id": OWNER,
        "record_ids": {
            "provisioning": list(CASE_EVENTS),
            "sessions": list(CASE_SESSIONS),
            "charges": list(CASE_CHARGES),
            "line_actions": [CASE_BAR],
            "consents": [],
            "shifts": list(CASE_SHIFTS),
            "complaints": [COMPLAINT],
        },
        "verdict": {"hypothesis": "credential_misuse", "operator_liable": True},
        "complaint_id": COMPLAINT,
        "description": (
            "User ID 16009045 was used at GraPARI Sragen at 21:05-21:48 on 2016-07-18, after closing and "
            "hours after its owner logged out, on the terminal of the colleague on call, to activate a free "
            "12 GB package on five numbers without consent; two 250,000 IDR charges followed the package's "
            "deactivation and the line was barred over the disputed 500,000 IDR."
        ),
    }
