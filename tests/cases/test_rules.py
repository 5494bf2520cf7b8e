"""The action × role × state table, the working days, optimistic locking, four eyes, decisions."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from jejak.cases import Cases, permissions
from jejak.cases.workdays import add_working_days, is_working_day, working_days_between
from jejak.errors import (
    ForbiddenError,
    InvalidFieldError,
    StaleVersionError,
    StateConflictError,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cases.md"
COMPLAINT = {
    "complaint_id": "TCK-TEST-0001",
    "msisdn": "6281100000042",
    "opened_at": "2017-02-06T10:12:00+07:00",
    "disputed_charge_ids": ["CH1", "CH2"],
    "disputed_amount": 2_500_000,
}


def test_docs_hold_the_enforced_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert permissions.markdown_table() in text, "regenerate the table in docs/cases.md"


def test_docs_name_every_policy_setting_with_its_default() -> None:
    from jejak.cases import Policy

    text = DOCS.read_text(encoding="utf-8")
    for name, f in Policy.model_fields.items():
        assert f"| `{name}` | `{f.default}` |" in text, f"{name} is not in docs/cases.md"


@pytest.mark.parametrize(
    ("action", "role", "state", "error"),
    [
        ("approve_adjustment", "cs", "investigating", ForbiddenError),
        ("decide", "cs", "investigating", ForbiddenError),
        ("acknowledge", "auditor", "received", ForbiddenError),
        ("note", "admin", "received", ForbiddenError),
        ("acknowledge", "cs", "investigating", StateConflictError),
        ("close", "supervisor", "investigating", StateConflictError),
        ("countersign", "supervisor", "resolved", StateConflictError),
        ("delete", "admin", "received", InvalidFieldError),
    ],
)
def test_the_table_refuses(action: str, role: str, state: str, error: type) -> None:
    with pytest.raises(error):
        permissions.check(action, role, state)


@pytest.mark.parametrize(
    ("day", "n", "due"),
    [
        (date(2017, 2, 6), 1, date(2017, 2, 7)),
        (date(2017, 2, 6), 15, date(2017, 2, 28)),  # 15 Feb 2017: regional election holiday
        (date(2017, 6, 22), 1, date(2017, 7, 3)),  # Eid al-Fitr and its joint holidays
        (date(2017, 2, 10), 1, date(2017, 2, 13)),  # Friday -> Monday
    ],
)
def test_working_days(day: date, n: int, due: date) -> None:
    assert add_working_days(day, n) == due


def test_working_days_between_counts_what_a_walk_counts() -> None:
    """The counted form agrees with walking day by day, over spans of every length and start
    (weekends, Eid's joint holidays, a year's turn), both ways round."""

    def walk(a: date, b: date) -> int:
        return sum(is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))

    starts = [date(2016, 12, 24) + timedelta(days=k) for k in range(0, 200, 3)]
    for a in starts:
        for span in (0, 1, 2, 5, 6, 7, 8, 13, 30, 45, 400):
            b = a + timedelta(days=span)
            assert working_days_between(a, b) == walk(a, b), (a, b)
            assert working_days_between(b, a) == -walk(a, b), (b, a)


def test_joint_holidays_are_not_working_days() -> None:
    assert not is_working_day(date(2017, 6, 23))  # cuti bersama before Eid al-Fitr
    assert not is_working_day(date(2017, 12, 26))  # cuti bersama after Christmas
    assert is_working_day(date(2017, 2, 7))


def test_a_crm_case_and_the_hold(empty_cases: Cases) -> None:
    case, created = empty_cases.create(COMPLAINT, at="2017-02-06T11:00:00+07:00")
    assert created and case["investigation"]["report_sha256"] is None
    assert case["ack_due"] == "2017-02-07T23:59:59+07:00"
    again, created = empty_cases.create(COMPLAINT)
    assert not created and again["case_id"] == case["case_id"]
    # undisputed arrears of 99,999 are below the threshold; 100,000 reach it
    refused = empty_cases.can_bar("6281100000042", 2_599_999, "2017-02-08T00:00:00+07:00")
    allowed = empty_cases.can_bar("6281100000042", 2_600_000, "2017-02-08T00:00:00+07:00")
    assert (refused["allowed"], allowed["allowed"]) == (False, True)
    # before the complaint was received, nothing was disputed
    assert empty_cases.can_bar("6281100000042", 10, "2017-02-01T00:00:00+07:00")["allowed"]


def test_the_loser_of_a_race_gets_a_conflict(empty_cases: Cases) -> None:
    case, _ = empty_cases.create(COMPLAINT, at="2017-02-06T11:00:00+07:00")
    cid, version = case["case_id"], case["version"]
    empty_cases.act(cid, "rina", "note", {"text": "first"}, version, at="2017-02-06T12:00:00+07:00")
    with pytest.raises(StaleVersionError) as exc:
        empty_cases.act(
            cid, "tono", "note", {"text": "second"}, version, at="2017-02-06T12:00:01+07:00"
        )
    assert exc.value.http_status == 409
    assert [e["text"] for e in empty_cases.timeline(cid)].count("second") == 0


def test_concurrent_writers_never_lose_an_update(empty_cases: Cases) -> None:
    """Two threads (two sessions) act on the version they both read: one wins, one conflicts."""
    case, _ = empty_cases.create(COMPLAINT, at="2017-02-06T11:00:00+07:00")
    cid, version = case["case_id"], case["version"]
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def act(name: str) -> None:
        barrier.wait()
        try:
            empty_cases.act(
                cid,
                name,
                "comment",
                {"text": f"by {name}"},
                version,
                at="2017-02-06T12:00:00+07:00",
            )
            outcome[name] = "ok"
        except StaleVersionError:
            outcome[name] = "conflict"

    threads = [threading.Thread(target=act, args=(n,)) for n in ("rina", "tono")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["conflict", "ok"]
    texts = [e["text"] for e in empty_cases.timeline(cid) if e["action"] == "comment"]
    assert len(texts) == 1
    assert empty_cases.get(cid)["version"] == version + 1


def test_four_eyes_above_the_amount(empty_cases: Cases) -> None:
    case, _ = empty_cases.create(COMPLAINT, at="2017-02-06T11:00:00+07:00")
    cid = case["case_id"]
    empty_cases.act(cid, "rina", "acknowledge", {}, at="2017-02-06T12:00:00+07:00")
    v = empty_cases.act(
        cid,
        "budi",
        "propose_adjustment",
        {"amount": 2_500_000, "charge_ids": ["CH1"], "reason": "r"},
        at="2017-02-06T13:00:00+07:00",
    )
    (adj,) = v["adjustments"]
    assert adj["approvers_needed"] == 2
    v = empty_cases.act(
        cid,
        "sari",
        "approve_adjustment",
        {"adjustment_id": adj["adjustment_id"]},
        at="2017-02-06T14:00:00+07:00",
    )
    assert v["adjustments"][0]["state"] == "proposed"
    with pytest.raises(StateConflictError):
        empty_cases.act(
            cid,
            "sari",
            "approve_adjustment",
            {"adjustment_id": adj["adjustment_id"]},
            at="2017-02-06T14:01:00+07:00",
        )
    v = empty_cases.act(
        cid,
        "dewi",
        "approve_adjustment",
        {"adjustment_id": adj["adjustment_id"]},
        at="2017-02-06T15:00:00+07:00",
    )
    assert v["adjustments"][0]["state"] == "approved"
    assert v["adjustments"][0]["approved_by"] == ["sari", "dewi"]


def test_a_supervisor_never_approves_the_compensation_they_proposed(seed_cases: Cases) -> None:
    case, _ = seed_cases.open_case("TCK-2017-0206-0001", at="2017-02-06T10:30:00+07:00")
    cid = case["case_id"]
    seed_cases.act(cid, "rina", "acknowledge", {}, at="2017-02-07T09:00:00+07:00")
    seed_cases.sync(at="2017-03-10T10:00:00+07:00")
    v = seed_cases.act(
        cid, "sari", "lift_bar", {"action_id": "LA000001"}, at="2017-03-10T11:00:00+07:00"
    )
    comp = next(a for a in v["adjustments"] if a["kind"] == "compensation")
    with pytest.raises(ForbiddenError):
        seed_cases.act(
            cid,
            "sari",
            "approve_adjustment",
            {"adjustment_id": comp["adjustment_id"]},
            at="2017-03-10T11:01:00+07:00",
        )


def test_a_decision_against_the_evidence_needs_justification_and_a_countersignature(
    seed_cases: Cases,
) -> None:
    case, _ = seed_cases.open_case("TCK-2017-0206-0001", at="2017-02-06T10:30:00+07:00")
    cid = case["case_id"]
    seed_cases.act(cid, "rina", "acknowledge", {}, at="2017-02-07T09:00:00+07:00")
    blame = {
        "hypothesis": "customer_consented",
        "operator_liable": False,
        "reason": "he must have agreed",
    }
    with pytest.raises(InvalidFieldError) as exc:
        seed_cases.act(cid, "sari", "decide", blame, at="2017-02-08T09:00:00+07:00")
    assert exc.value.http_status == 422
    v = seed_cases.act(
        cid,
        "sari",
        "decide",
        {**blame, "justification": "a signed form on paper"},
        at="2017-02-08T09:00:00+07:00",
    )
    assert v["state"] == "decision_proposed"
    assert v["decision"]["departs_from_evidence"] is True
    with pytest.raises(ForbiddenError):
        seed_cases.act(cid, "sari", "countersign", {}, at="2017-02-08T09:30:00+07:00")
    v = seed_cases.act(cid, "dewi", "countersign", {}, at="2017-02-08T10:00:00+07:00")
    assert v["state"] == "resolved"
    decide = next(e for e in seed_cases.timeline(cid) if e["action"] == "decide")
    assert "departs from the evidence report" in decide["text"]
    # not accepted yet: cannot close; after the deemed-acceptance period it can
    with pytest.raises(StateConflictError):
        seed_cases.act(cid, "dewi", "close", {}, at="2017-02-09T10:00:00+07:00")
    seed_cases.tick(at="2017-03-01T10:00:00+07:00")
    assert seed_cases.get(cid)["hold"]["active"] is False
    v = seed_cases.act(cid, "dewi", "close", {}, at="2017-03-02T10:00:00+07:00")
    assert v["state"] == "closed"
    # reopened: the hold is back
    v = seed_cases.act(
        cid, "sari", "reopen", {"reason": "new evidence"}, at="2017-03-03T10:00:00+07:00"
    )
    assert v["state"] == "investigating" and v["hold"]["active"] is True


def test_fields_are_checked(empty_cases: Cases) -> None:
    case, _ = empty_cases.create(COMPLAINT, at="2017-02-06T11:00:00+07:00")
    cid = case["case_id"]
    empty_cases.act(cid, "rina", "acknowledge", {}, at="2017-02-06T12:00:00+07:00")
    for fields in (
        {"amount": "lots", "reason": "r"},
        {"amount": 10, "reason": ""},
        {"amount": 10, "reason": "r", "charge_ids": "CH1"},
    ):
        with pytest.raises(InvalidFieldError):
            empty_cases.act(
                cid, "rina", "propose_adjustment", fields, at="2017-02-06T13:00:00+07:00"
            )
    with pytest.raises(InvalidFieldError):
        empty_cases.act(cid, "rina", "assign", {"to": "nobody"}, at="2017-02-06T13:00:00+07:00")


def test_customer_messages_are_queued_in_indonesian(empty_cases: Cases) -> None:
    from sqlalchemy import select

    from jejak.cases.models import Notification

    case, _ = empty_cases.create(COMPLAINT, at="2017-02-06T11:00:00+07:00")
    empty_cases.act(case["case_id"], "rina", "acknowledge", {}, at="2017-02-06T12:00:00+07:00")
    with empty_cases.db.read() as s:
        msgs = list(s.scalars(select(Notification).order_by(Notification.id)))
    assert [m.event for m in msgs] == ["received", "acknowledged"]
    assert msgs[1].body.startswith("Nomor tiket TCK-TEST-0001: diterima untuk ditangani.")
    assert "2017-02-28 23:59" in msgs[1].body
