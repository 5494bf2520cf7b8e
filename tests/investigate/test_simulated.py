"""Over a simulated operator: for every planted case, the report on each of its subscribers
reaches the truth's verdict (hypothesis and whether the operator is liable)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from jejak.investigate import investigate
from jejak.store import Store

simulate_mod = pytest.importorskip("jejak.simulate")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[dict]]:
    """A small simulated operator with every scenario kind planted, ingested and detected."""
    from jejak.detect import detect

    base = tmp_path_factory.mktemp("sim")
    export = base / "export"
    simulate_mod.simulate(export, subscribers=2000, days=30, seed=1)
    store = Store(base / "home")
    result = store.ingest([export])
    assert result.quarantined == 0, result.to_dict()
    detect(store, save=True)
    truth = [
        json.loads(line) for line in (Path(export) / "truth.jsonl").read_text().splitlines() if line
    ]
    return store, truth


def test_every_kind_is_planted(simulated: tuple[Store, list[dict]]) -> None:
    _, truth = simulated
    kinds = {c["kind"] for c in truth}
    assert kinds == set(simulate_mod.SCENARIOS), set(simulate_mod.SCENARIOS) ^ kinds


def test_verdicts_match_the_truth(simulated: tuple[Store, list[dict]]) -> None:
    store, truth = simulated
    wrong, seen = [], Counter()
    for case in truth:
        want = (case["verdict"]["hypothesis"], case["verdict"]["operator_liable"])
        for i, msisdn in enumerate(case["msisdns"]):
            # the complaint is the first subscriber's; the others are investigated by number
            complaint = case.get("complaint_id") if i == 0 else None
            r = investigate(store, msisdn, complaint_id=complaint)
            got = (r.verdict.hypothesis, r.verdict.operator_liable)
            seen[case["kind"]] += 1
            if got != want:
                wrong.append((case["case_id"], msisdn, got, want))
    assert not wrong, wrong
    assert all(seen[k] >= 1 for k in simulate_mod.SCENARIOS)


def test_complaint_cases_refund_the_disputed_charges(simulated: tuple[Store, list[dict]]) -> None:
    store, truth = simulated
    for case in truth:
        if not case.get("complaint_id") or not case["verdict"]["operator_liable"]:
            continue
        r = investigate(store, complaint_id=case["complaint_id"])
        disputed = set((r.complaint or {}).get("disputed_charge_ids") or [])
        assert disputed <= set(r.remedy.charge_ids), (case["case_id"], r.remedy.to_dict())
        if case["kind"] == "bar_over_dispute":
            assert r.remedy.unbar is True, r.remedy.to_dict()
            assert r.remedy.compensation > 0
