"""Alert ids, storage, suppressions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jejak.detect import detect, load_alerts, suppress
from jejak.detect.alerts import alert_id, split_ids
from jejak.detect.suppress import load_suppressions
from jejak.errors import NotFoundError, UsageError
from jejak.store import Store


def test_alert_id_depends_on_rule_version_and_evidence_only() -> None:
    a = alert_id("JJK-007", "1", ["EV2", "SE1"])
    assert a == alert_id("JJK-007", "1", ["SE1", "EV2"])
    assert a != alert_id("JJK-007", "2", ["EV2", "SE1"])
    assert a != alert_id("JJK-001", "1", ["EV2", "SE1"])
    assert a.startswith("AL-") and len(a) == 19


def test_split_ids_drops_empties_and_sorts() -> None:
    assert split_ids("EV2;;SE1;EV2; ") == ["EV2", "SE1"]
    assert split_ids(None) == []


def test_detect_needs_an_ingested_store(fresh_store: Store) -> None:
    with pytest.raises(NotFoundError):
        detect(fresh_store)


def test_load_alerts_before_any_run_is_empty(fresh_store: Store) -> None:
    assert load_alerts(fresh_store) == []


def test_a_run_is_recorded(seed_store: Store) -> None:
    result = detect(seed_store)
    runs = (seed_store.home / "alerts" / "runs.jsonl").read_text().splitlines()
    run = json.loads(runs[-1])
    assert run["alerts"] == len(result.alerts) and run["engine"] == "duckdb"
    assert run["rules"]["JJK-001"]
    assert not list((seed_store.home / "alerts").glob("*.tmp"))


def test_suppression_marks_alerts_and_is_recorded(seed_store: Store) -> None:
    s = suppress(
        seed_store,
        rule="JJK-002",
        match={"agent_id": "16009045"},
        owner="fraud-team",
        reason="on-call kept on paper that week",
        expires="2999-12-31",
    )
    result = detect(seed_store)
    marked = [a for a in result.alerts if a.suppressed_by]
    assert marked and all(a.rule == "JJK-002" and a.suppressed_by == s.id for a in marked)
    assert result.suppressed == len(marked) == 5
    stored = load_alerts(seed_store, include_suppressed=False)
    assert all(a["rule"] != "JJK-002" for a in stored)
    assert len(load_alerts(seed_store)) == len(result.alerts)
    assert load_suppressions(seed_store) == [s]


def test_an_expired_suppression_no_longer_applies(seed_store: Store) -> None:
    suppress(
        seed_store,
        rule="*",
        match={"msisdn": "6281100000001"},
        owner="x",
        reason="y",
        expires="2020-01-02",
        now=datetime(2020, 1, 1, tzinfo=UTC),
    )
    assert detect(seed_store).suppressed == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"match": {}}, "match"),
        ({"match": {"person": "x"}}, "match"),
        ({"reason": " "}, "reason"),
        ({"expires": "soon"}, "not a date"),
        ({"expires": "2001-01-01"}, "past"),
    ],
)
def test_a_bad_suppression_is_refused(seed_store: Store, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    args = {
        "rule": "JJK-002",
        "match": {"agent_id": "1"},
        "owner": "o",
        "reason": "r",
        "expires": "2999-01-01",
    }
    args.update(kwargs)
    with pytest.raises(UsageError, match=message):
        suppress(seed_store, **args)
