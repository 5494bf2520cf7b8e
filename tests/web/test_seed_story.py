"""The seed story, replayed through the API with the seed's dates (issue 10, "Done when").

2017-02-06 the subscriber complains; the case opens with its deadlines and the evidence report;
staff acknowledge, investigate, propose and approve the refund (four eyes), decide; on
2017-03-10 billing asks to bar the line and is refused, and the bar that arrived anyway
(LA000001) becomes a finding; the customer's timeline shows every step, internal notes without
their text; every action is in the transparency log.
"""

from __future__ import annotations

import json

from jejak.home import Home

from .conftest import Api

TICKET = "TCK-2017-0206-0001"
MSISDN = "6281100000001"
SECRET_NOTE = "rekan jaga malam memakai PC-07 sampai 20:58"


def act(api: Api, who: str, case_id: str, body: dict, expect: int = 200) -> dict:
    r = api.post(who, f"/api/v1/cases/{case_id}/actions", body)
    assert r.status_code == expect, r.text
    return r.json()


def test_the_seed_story_through_the_api(api: Api) -> None:
    # the complaint of 2017-02-06 opens a case, with its deadlines and the evidence report
    r = api.post(
        "citra", "/api/v1/cases", {"complaint_id": TICKET, "at": "2017-02-06T10:15:00+07:00"}
    )
    assert r.status_code == 201, r.text
    case = r.json()
    cid = case["case_id"]
    assert (case["complaint_id"], case["msisdn"], case["state"]) == (TICKET, MSISDN, "received")
    assert case["ack_due"] == "2017-02-07T23:59:59+07:00"
    assert case["decision_due"] == "2017-02-28T23:59:59+07:00"
    assert case["investigation"]["hypothesis"] == "credential_misuse"
    assert case["investigation"]["operator_liable"] is True
    assert len(case["investigation"]["report_sha256"]) == 64
    assert case["hold"] == {"active": True, "amount": 500_000}
    assert case["disputed_charge_ids"] == ["CH000009", "CH000010"]
    # the same complaint always gives the same case
    again = api.post("sari", "/api/v1/cases", {"complaint_id": TICKET})
    assert again.status_code == 200 and again.json()["case_id"] == cid

    act(api, "citra", cid, {"action": "acknowledge", "at": "2017-02-07T09:00:00+07:00"})
    case = act(
        api, "citra", cid, {"action": "assign", "to": "dewi", "at": "2017-02-07T09:05:00+07:00"}
    )
    assert case["state"] == "investigating"
    act(
        api, "dewi", cid, {"action": "note", "text": SECRET_NOTE, "at": "2017-02-08T14:00:00+07:00"}
    )
    act(
        api,
        "citra",
        cid,
        {
            "action": "comment",
            "text": "Kami sedang memeriksa aktivasi paket.",
            "at": "2017-02-08T15:00:00+07:00",
        },
    )

    # four eyes: cs proposes the refund, her own approval is refused, a supervisor approves
    case = act(
        api,
        "citra",
        cid,
        {
            "action": "propose_adjustment",
            "amount": 500_000,
            "charge_ids": ["CH000009", "CH000010"],
            "reason": "paket diaktifkan tanpa persetujuan pelanggan",
            "at": "2017-02-10T10:00:00+07:00",
        },
    )
    [adj] = case["adjustments"]
    assert (adj["amount"], adj["state"], adj["proposed_by"]) == (500_000, "proposed", "citra")
    refused = api.post(
        "citra",
        f"/api/v1/cases/{cid}/actions",
        {
            "action": "approve_adjustment",
            "adjustment_id": adj["adjustment_id"],
            "at": "2017-02-10T10:05:00+07:00",
        },
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "ForbiddenError"
    case = act(
        api,
        "sari",
        cid,
        {
            "action": "approve_adjustment",
            "adjustment_id": adj["adjustment_id"],
            "at": "2017-02-13T09:00:00+07:00",
        },
    )
    [adj] = case["adjustments"]
    assert (adj["state"], adj["approved_by"]) == ("approved", ["sari"])

    # the decision follows the evidence and resolves the case
    case = act(
        api,
        "dewi",
        cid,
        {
            "action": "decide",
            "hypothesis": "credential_misuse",
            "operator_liable": True,
            "reason": "ID 16009045 dipakai di PC-07 oleh petugas lain; pemiliknya sudah pulang",
            "at": "2017-02-27T16:00:00+07:00",
        },
    )
    assert case["state"] == "resolved"
    assert case["decision"]["departs_from_evidence"] is False
    assert case["decision"]["refund"] == 500_000

    # 2017-03-10: billing may not bar the line over the disputed amount
    r = api.get(
        "billing",
        "/api/v1/can-bar",
        params={"msisdn": MSISDN, "amount": 500_000, "at": "2017-03-10T09:00:00+07:00"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["allowed"] is False and r.json()["case_ids"] == [cid]

    # the bar that came anyway (LA000001) becomes a finding: lift it, and compensate
    found = api.cases.sync(at="2017-03-10T12:00:00+07:00")
    assert f"{cid}:LA000001" in found.findings
    case = api.get("sari", f"/api/v1/cases/{cid}").json()
    [finding] = case["findings"]
    assert finding["action_id"] == "LA000001" and finding["required"]["lift_bar"] is True
    assert finding["required"]["compensation_per_day"] > 0
    case = act(
        api,
        "citra",
        cid,
        {"action": "lift_bar", "action_id": "LA000001", "at": "2017-03-11T10:00:00+07:00"},
    )
    assert case["findings"][0]["lifted_at"] is not None
    assert any(a["kind"] == "compensation" and a["amount"] > 0 for a in case["adjustments"])

    # the customer's timeline: every step, the internal note without its text
    r = api.get("citra", f"/api/v1/cases/{cid}/timeline")
    assert r.status_code == 200, r.text
    timeline = r.json()["timeline"]
    actions = [e["action"] for e in timeline]
    for step in (
        "open",
        "report_attached",
        "acknowledge",
        "assign",
        "note",
        "comment",
        "propose_adjustment",
        "approve_adjustment",
        "decide",
        "finding",
        "lift_bar",
    ):
        assert step in actions, (step, actions)
    [note] = [e for e in timeline if e["action"] == "note"]
    assert (note["public"], note["text"], note["actor_role"]) == (False, None, "investigator")
    assert SECRET_NOTE not in r.text
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    # staff see the note's text
    staff = api.get("sari", f"/api/v1/cases/{cid}").json()["timeline"]
    assert SECRET_NOTE in [e["text"] for e in staff]

    # every action is in the transparency log, unchanged
    assert all(e["ledger_index"] is not None for e in timeline)
    home = Home(api.cases.home)  # as `jejak ledger verify` would, in a process of its own
    try:
        report = home.verify()
    finally:
        home.close()
    assert report.ok, [str(p) for p in report.problems]
    logged = {(n["case_id"], n["seq"]): n["leaf"] for n in report.named if "seq" in n}
    assert {(cid, e["seq"]): e["ledger_index"] for e in timeline}.items() <= logged.items()
    # and every view of the case was recorded, with its reason, and is in the log too
    assert any("access" in n for n in report.named), report.named[-3:]

    # the customer was told, in Indonesian, with the ticket; billing got the refund once
    outbox = api.cases.home / "outbox"
    messages = [json.loads(x) for x in (outbox / "notifications.jsonl").read_text().splitlines()]
    assert messages and all(TICKET in m["subject"] for m in messages)
    assert messages[0]["subject"].startswith("Pengaduan")
    billed = [json.loads(x) for x in (outbox / "billing.jsonl").read_text().splitlines()]
    refunds = [b for b in billed if b["payload"].get("amount") == 500_000]
    assert len(refunds) == 1
