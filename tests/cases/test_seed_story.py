"""The seed subscriber's story, replayed with the seed's dates through the library."""

from __future__ import annotations

import pytest

from jejak.cases import Cases
from jejak.errors import ForbiddenError
from tests.cases.conftest import verify_home

SEED = "TCK-2017-0206-0001"
MSISDN = "6281100000001"


def test_the_seed_story_replays(seed_cases: Cases) -> None:
    cases = seed_cases
    case, created = cases.open_case(SEED, at="2017-02-06T10:30:00+07:00")
    assert created
    cid = case["case_id"]
    assert case["ack_due"] == "2017-02-07T23:59:59+07:00"
    assert case["decision_due"] == "2017-02-28T23:59:59+07:00"
    assert case["investigation"]["hypothesis"] == "credential_misuse"
    assert case["investigation"]["operator_liable"] is True
    assert len(case["investigation"]["report_sha256"]) == 64
    assert case["hold"] == {"active": True, "amount": 500000}
    # the same complaint gives the same case
    again, created = cases.open_case(SEED)
    assert not created and again["case_id"] == cid

    v = cases.act(cid, "rina", "acknowledge", {}, case["version"], at="2017-02-07T09:00:00+07:00")
    v = cases.act(
        cid, "rina", "assign", {"to": "budi"}, v["version"], at="2017-02-07T09:10:00+07:00"
    )
    assert v["state"] == "investigating"
    cases.act(
        cid,
        "budi",
        "note",
        {"text": "owner off duty; terminal taken over"},
        at="2017-02-08T10:00:00+07:00",
    )

    # billing asks to bar the line over the disputed amount: refused
    answer = cases.can_bar(MSISDN, 500000, "2017-03-10T08:00:00+07:00")
    assert answer["allowed"] is False
    assert answer["case_ids"] == [cid]

    # the bar arrives anyway in the ingested line_actions: a finding with lift + compensation
    result = cases.sync(at="2017-03-10T10:00:00+07:00")
    assert result.findings == [f"{cid}:LA000001"]
    assert result.provisional_credits == [cid]  # 2017-02-28 passed undecided
    v = cases.get(cid)
    (finding,) = v["findings"]
    assert finding["required"] == {"lift_bar": True, "compensation_per_day": 50000}
    v = cases.act(
        cid, "rina", "lift_bar", {"action_id": "LA000001"}, at="2017-03-11T10:00:00+07:00"
    )
    comp = next(a for a in v["adjustments"] if a["kind"] == "compensation")
    assert comp["amount"] == 2 * 50000

    v = cases.act(
        cid,
        "rina",
        "propose_adjustment",
        {
            "amount": 500000,
            "charge_ids": ["CH000009", "CH000010"],
            "reason": "activated without consent",
        },
        at="2017-03-11T11:00:00+07:00",
    )
    refund = next(a for a in v["adjustments"] if a["kind"] == "refund")
    with pytest.raises(ForbiddenError) as exc:
        cases.act(
            cid,
            "rina",
            "approve_adjustment",
            {"adjustment_id": refund["adjustment_id"]},
            at="2017-03-11T11:05:00+07:00",
        )
    assert exc.value.http_status == 403
    v = cases.act(
        cid,
        "sari",
        "approve_adjustment",
        {"adjustment_id": refund["adjustment_id"]},
        at="2017-03-11T12:00:00+07:00",
    )
    refund = next(a for a in v["adjustments"] if a["kind"] == "refund")
    assert refund["state"] == "approved" and refund["approved_by"] == ["sari"]

    v = cases.act(
        cid,
        "budi",
        "decide",
        {
            "hypothesis": "credential_misuse",
            "operator_liable": True,
            "reason": "another insider used the user ID",
        },
        at="2017-03-12T09:00:00+07:00",
    )
    assert v["state"] == "resolved"
    assert v["decision"]["departs_from_evidence"] is False

    timeline = cases.timeline(cid)
    actions = [e["action"] for e in timeline]
    for step in (
        "open",
        "report_attached",
        "acknowledge",
        "assign",
        "note",
        "finding",
        "provisional_credit",
        "lift_bar",
        "propose_adjustment",
        "approve_adjustment",
        "adjustment_approved",
        "decide",
    ):
        assert step in actions, step
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    note = next(e for e in timeline if e["action"] == "note")
    assert note["public"] is False and note["text"] is None and note["actor_role"] == "investigator"
    assert all(e["ledger_index"] is not None for e in timeline)

    report = verify_home(cases.home)
    assert report.ok, [str(p) for p in report.problems]
    named = {(n["case_id"], n["seq"]): n["leaf"] for n in report.named if "seq" in n}
    for e in timeline:
        assert named[(cid, e["seq"])] == e["ledger_index"]


def test_an_edited_action_is_named_by_verify(seed_cases: Cases) -> None:
    from sqlalchemy import update

    from jejak.cases.models import TimelineEntry

    case, _ = seed_cases.open_case(SEED, at="2017-02-06T10:30:00+07:00")
    cid = case["case_id"]
    seed_cases.act(
        cid, "budi", "note", {"text": "the customer is lying"}, at="2017-02-07T10:00:00+07:00"
    )
    with seed_cases.db.write() as s:
        s.execute(
            update(TimelineEntry).where(TimelineEntry.action == "note").values(text="nothing")
        )
    report = verify_home(seed_cases.home)
    assert not report.ok
    assert any(p.what == "edited" and f"{cid} #3 note" in p.message for p in report.problems)


def test_a_removed_action_is_named_by_verify(seed_cases: Cases) -> None:
    from sqlalchemy import delete

    from jejak.cases.models import LedgerOutbox, TimelineEntry

    case, _ = seed_cases.open_case(SEED, at="2017-02-06T10:30:00+07:00")
    seed_cases.act(case["case_id"], "budi", "note", {"text": "x"}, at="2017-02-07T10:00:00+07:00")
    with seed_cases.db.write() as s:
        e = s.query(TimelineEntry).filter_by(action="note").one()
        s.execute(
            delete(LedgerOutbox).where(LedgerOutbox.ref == e.id, LedgerOutbox.source == "case")
        )
        s.execute(delete(TimelineEntry).where(TimelineEntry.id == e.id))
    report = verify_home(seed_cases.home)
    assert any(p.what == "deleted" for p in report.problems), [str(p) for p in report.problems]
