"""The reasoning tables, and docs/verdicts.md that must not drift from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jejak.detect.pack import load_pack
from jejak.investigate.charges import BILLING_ERRORS
from jejak.investigate.hypotheses import (
    ACTION_RULES,
    ALERT_EFFECTS,
    EFFECTS,
    VERDICT_CODES,
    VERDICT_ORDER,
    conclude,
)
from jejak.investigate.i18n import MESSAGES
from jejak.investigate.remedy import Policy, barred_days
from jejak.investigate.report import HYPOTHESES, Code, Evidence

DOC = Path(__file__).resolve().parents[2] / "docs" / "verdicts.md"
SRC = Path(__file__).resolve().parents[2] / "src" / "jejak" / "investigate"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_code_has_words_and_a_place() -> None:
    # every evidence code the attribution and charges can emit is weighed and has words
    emitted = set()
    for name in ("attribution.py", "charges.py"):
        text = (SRC / name).read_text(encoding="utf-8")
        emitted |= set(re.findall(r'(?:Code\.|")([A-Z][A-Z_]{4,})\b', text))
    emitted &= set(MESSAGES)
    assert emitted == set(EFFECTS), emitted ^ set(EFFECTS)
    assert set(EFFECTS) <= set(Code)  # every weighed code is one of the enum's
    assert set(Code) <= set(MESSAGES)  # and every code of the enum has words
    with pytest.raises(ValueError):
        Evidence("NOT_A_CODE", {}, [])  # a misspelt code fails where it is made
    for hyp_for, hyp_against in EFFECTS.values():
        assert set(hyp_for) | set(hyp_against) <= set(HYPOTHESES)


def test_doc_names_every_code_rule_and_setting(doc: str) -> None:
    for code in MESSAGES:
        assert f"`{code}`" in doc, code
    for rule_id, _, _ in ACTION_RULES:
        assert f"| {rule_id} |" in doc, rule_id
    assert "| A5 |" in doc
    for rule in ALERT_EFFECTS:
        assert rule in doc, rule
    for name in Policy.model_fields:
        assert f"`{name}`" in doc, name
    for h in (*HYPOTHESES, "insufficient_evidence"):
        assert f"`{h}`" in doc, h


def test_doc_effects_table_matches_the_code(doc: str) -> None:
    cols = {"ext": 2, "cred": 3, "own": 4, "cons": 5, "bill": 6}
    names = dict(zip(cols, HYPOTHESES, strict=True))
    rows = {}
    for line in doc.splitlines():
        m = re.match(r"\| `([A-Z_]+)` \|", line)
        if m and m.group(1) in EFFECTS:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[m.group(1)] = cells
    assert set(rows) == set(EFFECTS)
    for code, cells in rows.items():
        f = {names[k] for k, i in cols.items() if cells[i] == "+"}
        a = {names[k] for k, i in cols.items() if cells[i] == "−"}
        assert (f, a) == (set(EFFECTS[code][0]), set(EFFECTS[code][1])), code


def test_alert_effects_cover_the_pack() -> None:
    ids = {r.id for r in load_pack().rules} | {"JJK-900"}
    assert set(ALERT_EFFECTS) == ids


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (
            {"CONSENT_VERIFIED", "OUTLET_CLOSED", "OWNER_NOT_ON_SHIFT", "OTHER_ON_DUTY"},
            ("customer_consented", "A1"),
        ),
        (
            {"NO_CONSENT", "ADDRESS_OUTSIDE_OPERATOR", "OWNER_ON_SHIFT"},
            ("external_compromise", "A2"),
        ),
        ({"NO_CONSENT", "SESSION_MISSING"}, ("external_compromise", "A2")),
        ({"NO_CONSENT", "OWNER_NOT_ON_SHIFT", "TERMINAL_HANDOVER"}, ("credential_misuse", "A3")),
        ({"NO_CONSENT", "OWNER_ELSEWHERE", "OTHER_ON_DUTY"}, ("credential_misuse", "A3")),
        ({"NO_CONSENT", "OWNER_ON_SHIFT", "ID_IN_TWO_PLACES"}, ("credential_misuse", "A3")),
        ({"NO_CONSENT", "ID_STATUS"}, ("credential_misuse", "A3")),
        ({"NO_CONSENT", "OWNER_ON_SHIFT", "SESSION_MATCHES"}, ("owner_misuse", "A4")),
        ({"NO_CONSENT", "OWNER_NOT_ROSTERED_STAFF"}, ("owner_misuse", "A4")),
        ({"NO_CONSENT", "OWNER_NOT_ON_SHIFT", "OUTLET_CLOSED"}, ("insufficient_evidence", "A5")),
    ],
)
def test_action_rules(codes: set[str], expected: tuple[str, str]) -> None:
    assert conclude(codes) == expected


def test_verdict_tables() -> None:
    assert set(VERDICT_CODES) == set(HYPOTHESES)
    assert set(VERDICT_ORDER) == set(HYPOTHESES[:3])
    assert set(BILLING_ERRORS) < set(EFFECTS)


def test_barred_days_counts_started_days() -> None:
    from datetime import UTC, datetime

    t = datetime(2017, 3, 10, 2, tzinfo=UTC)
    assert barred_days(t, t) == 0
    assert barred_days(t, datetime(2017, 3, 10, 2, 1, tzinfo=UTC)) == 1
    assert barred_days(t, datetime(2017, 3, 11, 2, tzinfo=UTC)) == 1
    assert barred_days(t, datetime(2017, 4, 10, 2, tzinfo=UTC)) == 31


OUTLETS = [
    {"opens": "08:00", "closes": "16:00", "open_days": "Mon-Sat"},
    {"opens": "20:00", "closes": "02:00", "open_days": "Fri-Sun"},
    {"opens": "09:00", "closes": None, "open_days": "Mon-Fri;Sun"},
    {"opens": None, "closes": None, "open_days": None},
    {"opens": "10:00", "closes": "10:00", "open_days": ""},
]


@pytest.mark.parametrize("outlet", OUTLETS)
@pytest.mark.parametrize("tz", ["Asia/Jakarta", "Asia/Jayapura"])
def test_outlet_hours_agree_with_detection(outlet: dict, tz: str) -> None:
    from datetime import UTC, date, datetime, timedelta

    from jejak.detect.derived import opening_windows
    from jejak.investigate.attribution import is_open

    first, last = date(2016, 7, 14), date(2016, 7, 21)
    windows = opening_windows(
        outlet["opens"], outlet["closes"], outlet["open_days"], tz, first, last
    )
    t = datetime(2016, 7, 15, 0, 7, tzinfo=UTC)
    while t < datetime(2016, 7, 20, tzinfo=UTC):
        assert is_open(outlet, t, tz) == any(a <= t < b for a, b in windows), (outlet, t)
        t += timedelta(minutes=37)
