"""The seed case: jejak notices what nobody at the operator did."""

from __future__ import annotations

from jejak.detect import DetectionResult, detect, load_alerts
from jejak.detect.pack import severity_rank
from jejak.store import Store

FRAUD_ACTIVATIONS = ["EV0000169", "EV0000170", "EV0000171", "EV0000172", "EV0000173"]
WRONG_CHARGES = ["CH000009", "CH000010"]
BAR = "LA000001"


def _covering(result: DetectionResult, record_id: str) -> list[str]:
    return [
        a.rule
        for a in result.alerts
        if record_id in a.record_ids and severity_rank(a.severity) >= severity_rank("medium")
    ]


def test_every_fraudulent_record_is_covered(seed_detection: tuple[Store, DetectionResult]) -> None:
    _, result = seed_detection
    for rid in [*FRAUD_ACTIVATIONS, *WRONG_CHARGES, BAR]:
        assert _covering(result, rid), (
            f"{rid} is not covered by any alert of medium severity or above"
        )
    # the subscriber's own activation is caught by the rules that read the evening itself
    assert {"JJK-001", "JJK-002", "JJK-007", "JJK-008"} <= set(_covering(result, "EV0000170"))
    assert "JJK-014" in _covering(result, BAR)


def test_no_consented_activation_is_flagged(seed_detection: tuple[Store, DetectionResult]) -> None:
    store, result = seed_detection
    consented = {
        r["event_id"]
        for r in store.sql(
            "SELECT p.event_id FROM provisioning p JOIN consents c ON c.consent_id = p.consent_id "
            "WHERE c.verified AND c.msisdn = p.msisdn"
        )
    }
    assert len(consented) > 150
    flagged = {rid for a in result.alerts for rid in a.record_ids}
    assert not consented & flagged


def test_nothing_else_in_the_seed_is_an_alert(
    seed_detection: tuple[Store, DetectionResult],
) -> None:
    _, result = seed_detection
    fraud = set(FRAUD_ACTIVATIONS) | set(WRONG_CHARGES) | {BAR}
    for a in result.alerts:
        assert set(a.record_ids) & fraud, a.to_dict()


def test_alerts_carry_the_anomaly_score(seed_detection: tuple[Store, DetectionResult]) -> None:
    _, result = seed_detection
    a = next(a for a in result.alerts if a.rule == "JJK-001")
    assert a.score is not None and a.score > 0.6
    assert a.features and {"feature", "value", "deviation"} <= set(a.features[0])
    assert any(x.rule == "JJK-900" and x.agent_id == "16009045" for x in result.alerts)


def test_alert_ids_are_stable_across_runs(seed_detection: tuple[Store, DetectionResult]) -> None:
    store, first = seed_detection
    again = detect(store, save=False)
    assert [a.alert_id for a in again.alerts] == [a.alert_id for a in first.alerts]
    assert len({a.alert_id for a in first.alerts}) == len(first.alerts)


def test_stored_alerts_are_found_by_subscriber(
    seed_detection: tuple[Store, DetectionResult],
) -> None:
    store, result = seed_detection
    mine = load_alerts(store, msisdn="6281100000001")
    assert {a["alert_id"] for a in mine} == {
        a.alert_id for a in result.alerts if a.msisdn == "6281100000001"
    }
    assert {"JJK-011", "JJK-014", "JJK-007"} <= {a["rule"] for a in mine}
    row = mine[0]
    for key in (
        "alert_id",
        "rule",
        "severity",
        "at",
        "agent_id",
        "msisdn",
        "outlet_id",
        "record_ids",
        "explanation",
    ):
        assert key in row
    assert load_alerts(store, msisdn="6281100000001", min_severity="critical") == [
        a for a in mine if a["severity"] == "critical"
    ]
    assert {a["agent_id"] for a in load_alerts(store, agent_id="16009045")} == {"16009045"}


def test_only_the_anomaly_model_can_be_run(seed_detection: tuple[Store, DetectionResult]) -> None:
    store, _ = seed_detection
    result = detect(store, rules=["JJK-900"], save=False)
    assert result.alerts and {a.rule for a in result.alerts} == {"JJK-900"}
