"""The whole pack over a clean month: no alert of medium or above outside the known list.

Known false positives live in ``known_false_positives.json`` beside this file: each with
the rule, the record id, an owner, a reason and an expiry. An entry past its expiry no
longer excuses anything.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from jejak.detect import detect
from jejak.detect.pack import severity_rank
from jejak.detect.synth import generate
from jejak.store import Store

KNOWN = json.loads((Path(__file__).with_name("known_false_positives.json")).read_text())


def _unexplained(store: Store) -> list[dict]:  # type: ignore[type-arg]
    today = date.today()
    known = {
        (k["rule"], k["record_id"]) for k in KNOWN if date.fromisoformat(k["expires"]) >= today
    }
    out = []
    for a in detect(store, save=False).alerts:
        if severity_rank(a.severity) < severity_rank("medium"):
            continue
        if any((a.rule, rid) in known for rid in a.record_ids):
            continue
        out.append(a.to_dict())
    return out


def test_known_false_positives_are_documented() -> None:
    for k in KNOWN:
        assert {"rule", "record_id", "owner", "reason", "expires"} <= set(k), k


def test_a_clean_synthetic_month_raises_nothing(tmp_path: Path) -> None:
    generate(tmp_path / "export", 30_000, planted=False)
    store = Store(tmp_path / "home")
    assert store.ingest([tmp_path / "export"]).quarantined == 0
    assert _unexplained(store) == []


def test_a_clean_simulated_month_raises_nothing(tmp_path: Path) -> None:
    sim = pytest.importorskip("jejak.simulate", reason="jejak.simulate is not in the tree yet")
    sim.simulate(tmp_path / "export", scenarios=[])
    store = Store(tmp_path / "home")
    store.ingest([tmp_path / "export"])
    assert _unexplained(store) == []
