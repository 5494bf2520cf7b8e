"""Precision and recall per scenario kind against truth.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jejak.detect import evaluate
from jejak.detect.evaluate import read_truth, score
from jejak.errors import NotFoundError
from jejak.store import Store

TRUTH = [
    {
        "kind": "owner_no_consent",
        "hard_negative": False,
        "msisdns": ["1"],
        "agent_id": "A",
        "record_ids": {"provisioning": ["EV1"]},
    },
    {
        "kind": "owner_no_consent",
        "hard_negative": False,
        "msisdns": ["2"],
        "agent_id": "A",
        "record_ids": {"provisioning": ["EV2"]},
    },
    {
        "kind": "bar_over_dispute",
        "hard_negative": False,
        "msisdns": ["3"],
        "agent_id": None,
        "record_ids": {"line_actions": ["LA1"]},
    },
    {
        "kind": "oncall_consented",
        "hard_negative": True,
        "msisdns": ["4"],
        "agent_id": "B",
        "record_ids": {"provisioning": ["EV4"]},
    },
]


def alert(rule: str, ids: list[str], severity: str = "high", msisdn: str | None = None) -> dict:  # type: ignore[type-arg]
    return {"rule": rule, "record_ids": ids, "severity": severity, "msisdn": msisdn}


def test_scores_per_kind() -> None:
    alerts = [
        alert("JJK-007", ["EV1", "SE1"]),
        alert("JJK-001", ["EV1"]),
        alert("JJK-002", ["EV4"]),  # a false alarm on a hard negative
        alert("JJK-010", ["EV9"], msisdn="4"),  # a false alarm attributed by msisdn
        alert("JJK-015", ["EV99"]),  # a false alarm on nothing planted
        alert("JJK-014", ["LA1"], severity="low"),  # below the bar: ignored
    ]
    r = score(alerts, TRUTH, "medium")
    rows = {(x.kind, x.hard_negative): x for x in r.rows}
    assert rows[("owner_no_consent", False)].recall == 0.5
    assert rows[("owner_no_consent", False)].precision == 1.0
    assert rows[("bar_over_dispute", False)].recall == 0.0
    assert rows[("oncall_consented", True)].alerts == 2
    assert rows[("(none)", True)].alerts == 1
    assert r.recall == pytest.approx(1 / 3)
    assert r.precision == pytest.approx(2 / 5)
    assert [c["record_ids"] for c in r.missed] == [
        {"provisioning": ["EV2"]},
        {"line_actions": ["LA1"]},
    ]
    md = r.markdown()
    assert "| owner_no_consent | 2 | 1 | 50.0% |" in md


def test_suppressed_alerts_do_not_count() -> None:
    r = score([dict(alert("JJK-002", ["EV4"]), suppressed_by="SUP-1")], TRUTH)
    assert r.precision == 1.0


def test_evaluate_reads_truth_from_a_folder(seed_store: Store, tmp_path: Path) -> None:
    truth = [
        {
            "kind": "seed-2016",
            "hard_negative": False,
            "msisdns": ["6281100000001"],
            "agent_id": "16009045",
            "record_ids": {
                "provisioning": ["EV0000170"],
                "charges": ["CH000009", "CH000010"],
                "line_actions": ["LA000001"],
            },
        }
    ]
    (tmp_path / "truth.jsonl").write_text("\n".join(json.dumps(t) for t in truth) + "\n")
    report = evaluate(seed_store, tmp_path)
    assert report.recall == 1.0
    with pytest.raises(NotFoundError):
        read_truth(tmp_path / "nothing")
