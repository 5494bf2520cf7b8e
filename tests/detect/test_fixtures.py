"""Each rule against its own positive and negative fixture exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jejak.detect import detect
from jejak.detect.pack import load_pack
from jejak.store import Store

PACK = load_pack()
#: every fixture folder of every rule: its positive and negative one and the edges beside them
CASES = [
    (r.id, d.name)
    for r in PACK.rules
    for d in sorted(r.fixtures.iterdir())
    if (d / "expect.json").is_file()
]


@pytest.mark.parametrize(("rule_id", "side"), CASES, ids=[f"{r}-{s}" for r, s in CASES])
def test_rule_fixture(rule_id: str, side: str, tmp_path: Path) -> None:
    folder = PACK.get(rule_id).fixtures / side
    expect = json.loads((folder / "expect.json").read_text())
    store = Store(tmp_path / "home")
    result = store.ingest([folder])
    assert result.quarantined == 0, result.to_dict()
    alerts = detect(store, rules=[rule_id], anomalies=False, save=False).alerts
    evidence = {rid for a in alerts for rid in a.record_ids}
    if side.startswith("positive"):
        assert alerts, f"{rule_id} found nothing in its positive fixture"
        missing = [i for i in expect["flagged"] if i not in evidence]
        assert not missing, f"{rule_id} did not flag {missing}: {[a.to_dict() for a in alerts]}"
        for rid, sev in expect.get("severity", {}).items():
            sevs = {a.severity for a in alerts if rid in a.record_ids}
            assert sevs == {sev}, f"{rid}: {sevs}"
        for a in alerts:
            assert a.explanation.endswith(".") and len(a.explanation) > 30
    else:
        assert not alerts, [a.to_dict() for a in alerts]
        assert not set(expect["not_flagged"]) & evidence
