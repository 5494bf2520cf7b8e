"""Each planted case's records show what its truth says; hard negatives carry what makes them legitimate."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jejak.schema import parse_open_days
from jejak.settings import settings
from jejak.simulate.calendar import TZ_OFFSETS

from .conftest import Simulated

# ------------------------------------------------------------------ helpers


def local(o: dict[str, Any], at: datetime) -> datetime:
    return at.astimezone(UTC) + timedelta(hours=TZ_OFFSETS[o["timezone"]])


def is_open(o: dict[str, Any], at: datetime) -> bool:
    if not o["opens"] and not o["closes"]:
        return True
    t = local(o, at)
    if t.weekday() not in parse_open_days(o["open_days"]):
        return False
    hhmm = t.strftime("%H:%M")
    return o["opens"] <= hhmm < o["closes"]


def in_networks(ip: str, networks: list[str]) -> bool:
    return any(ipaddress.ip_address(ip) in ipaddress.ip_network(n) for n in networks or [])


def outlet(sim: Simulated, outlet_id: str) -> dict[str, Any]:
    (o,) = sim.rows("outlets", [outlet_id])
    return o


def covering_shifts(
    sim: Simulated,
    agent_id: str,
    at: datetime,
    outlet_id: str | None = None,
    tolerance: timedelta = timedelta(0),
) -> list[dict[str, Any]]:
    """The agent's shifts covering ``at``, each widened by ``tolerance`` at both ends."""
    q = "SELECT * FROM shifts WHERE agent_id = ? AND starts_at <= ? AND ends_at > ?"
    args: list[Any] = [agent_id, at + tolerance, at - tolerance]
    if outlet_id is not None:
        q += " AND outlet_id = ?"
        args.append(outlet_id)
    return sim.store.sql(q, args)


def verified_consent(sim: Simulated, event: dict[str, Any]) -> dict[str, Any] | None:
    if not event["consent_id"]:
        return None
    rows = sim.rows("consents", [event["consent_id"]])
    if not rows:
        return None
    c = rows[0]
    ok = (
        c["msisdn"] == event["msisdn"]
        and c["verified"]
        and event["at"] - timedelta(days=1) <= c["at"] <= event["at"] + timedelta(minutes=10)
    )
    return c if ok else None


def events(sim: Simulated, case: dict[str, Any]) -> list[dict[str, Any]]:
    return sim.rows("provisioning", case["record_ids"]["provisioning"])


def operator_networks(sim: Simulated) -> list[str]:
    return [n for o in sim.store.sql("SELECT networks FROM outlets") for n in (o["networks"] or [])]


# ------------------------------------------------------------------ the seed case


def test_seed_case_shows_the_same_facts_as_the_readme(small_operator: Simulated) -> None:
    sim = small_operator
    (case,) = sim.cases("seed-2016")
    assert case["verdict"] == {"hypothesis": "credential_misuse", "operator_liable": True}
    assert case["complaint_id"] == "TCK-2017-0206-0001" and case["msisdns"][0] == "6281100000001"
    acts = events(sim, case)
    assert len(acts) == 5 and len({e["msisdn"] for e in acts}) == 5
    srg = outlet(sim, "SRG")
    assert srg["name"] == "GraPARI Sragen" and srg["closes"] == "16:00"
    for e in acts:
        t = local(srg, e["at"])
        assert t.date().isoformat() == "2016-07-18" and t.hour == 21
        assert (
            e["agent_id"] == "16009045"
            and e["outlet_id"] == "SRG"
            and e["device_id"] == "SRG-PC-07"
        )
        assert e["consent_id"] is None and not is_open(srg, e["at"])
        assert e["price"] == 0 and str(e["promo_ends"]) == "2016-12-31"
        assert not covering_shifts(sim, "16009045", e["at"]), "the owner was rostered"
        (duty,) = covering_shifts(sim, "16009051", e["at"], "SRG")
        assert duty["duty"] == "on_call"
    own = sim.store.sql(
        "SELECT * FROM shifts WHERE agent_id = '16009045' AND CAST(starts_at AS DATE) = DATE '2016-07-18'"
    )
    assert [(local(srg, s["starts_at"]).hour, local(srg, s["ends_at"]).hour) for s in own] == [
        (8, 16)
    ]
    (misuse,) = sim.rows("sessions", ["SE000100"])
    (colleague,) = sim.rows("sessions", ["SE000057"])
    assert {"SE000100", "SE000057"} == set(case["record_ids"]["sessions"])
    assert misuse["agent_id"] == "16009045" and colleague["agent_id"] == "16009051"
    assert misuse["device_id"] == colleague["device_id"] == "SRG-PC-07"
    assert local(srg, colleague["ended_at"]).strftime("%H:%M") == "20:58"
    assert local(srg, misuse["started_at"]).strftime("%H:%M") == "21:05"
    # two package charges after the deactivation SMS, disputed; the bar over the disputed amount
    (sms,) = sim.store.sql(
        "SELECT * FROM notifications WHERE msisdn = '6281100000001' AND type = 'package_deactivated'"
    )
    charges = sim.rows("charges", case["record_ids"]["charges"])
    assert [c["amount"] for c in charges] == [250_000, 250_000]
    assert all(c["at"] > sms["at"] and c["package_id"] == "DATA12GB" for c in charges)
    (complaint,) = sim.rows("complaints", [case["complaint_id"]])
    assert sorted(complaint["disputed_charge_ids"]) == sorted(case["record_ids"]["charges"])
    (bar,) = sim.rows("line_actions", case["record_ids"]["line_actions"])
    assert (
        bar["reason"] == "non_payment"
        and bar["amount_due"] == complaint["disputed_amount"] == 500_000
    )
    assert bar["at"] > complaint["opened_at"]


# ------------------------------------------------------------------ planted cases


def test_colleague_id_out_of_hours(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("colleague_id_out_of_hours"):
        acts = events(sim, case)
        assert acts and {e["agent_id"] for e in acts} == {case["agent_id"]}
        misuse = [
            s
            for s in sim.rows("sessions", case["record_ids"]["sessions"])
            if s["agent_id"] == case["agent_id"]
        ]
        (colleague_session,) = [
            s
            for s in sim.rows("sessions", case["record_ids"]["sessions"])
            if s["agent_id"] != case["agent_id"]
        ]
        (m,) = misuse
        assert m["device_id"] == colleague_session["device_id"]
        assert (
            timedelta(0) < m["started_at"] - colleague_session["ended_at"] < timedelta(minutes=30)
        )
        for e in acts:
            o = outlet(sim, e["outlet_id"])
            assert not is_open(o, e["at"]) and verified_consent(sim, e) is None
            assert not covering_shifts(sim, e["agent_id"], e["at"]), "the owner was rostered"
            (duty,) = covering_shifts(sim, colleague_session["agent_id"], e["at"], e["outlet_id"])
            assert duty["duty"] == "on_call" and duty["shift_id"] in case["record_ids"]["shifts"]
            assert in_networks(e["source_ip"], o["networks"])
            (sub,) = sim.rows("subscribers", [e["msisdn"]])
            assert sub["home_region"] != o["region"], "the victim lives elsewhere"


def test_owner_no_consent(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("owner_no_consent"):
        for e in events(sim, case):
            assert e["agent_id"] == case["agent_id"] and verified_consent(sim, e) is None
            assert not sim.store.sql("SELECT 1 FROM consents WHERE msisdn = ?", [e["msisdn"]])
            o = outlet(sim, e["outlet_id"])
            assert is_open(o, e["at"]) and in_networks(e["source_ip"], o["networks"])
            (shift,) = covering_shifts(sim, e["agent_id"], e["at"], e["outlet_id"])
            assert shift["duty"] == "regular"
            (session,) = sim.rows("sessions", [e["session_id"]])
            assert (
                session["agent_id"] == e["agent_id"]
                and session["started_at"] <= e["at"] <= session["ended_at"]
            )
            others = sim.store.sql(
                "SELECT DISTINCT agent_id FROM sessions WHERE device_id = ?", [e["device_id"]]
            )
            assert others == [{"agent_id": e["agent_id"]}], "her own terminal"


def test_external_attacker(small_operator: Simulated) -> None:
    sim = small_operator
    nets = operator_networks(sim)
    for case in sim.cases("external_attacker"):
        for e in events(sim, case):
            assert not in_networks(e["source_ip"], nets)
            assert verified_consent(sim, e) is None
            assert not sim.store.sql(
                "SELECT 1 FROM sessions WHERE device_id = ? AND agent_id <> ?",
                [e["device_id"], e["agent_id"]],
            )


def test_shared_credentials(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("shared_credentials"):
        a, b = sim.rows("sessions", case["record_ids"]["sessions"])
        assert a["agent_id"] == b["agent_id"] == case["agent_id"]
        assert a["started_at"] < b["ended_at"] and b["started_at"] < a["ended_at"], (
            "at the same time"
        )
        assert a["device_id"] != b["device_id"] and a["source_ip"] != b["source_ip"]
        acts = sorted(events(sim, case), key=lambda e: e["at"])
        cities = {outlet(sim, e["outlet_id"])["city"] for e in acts}
        assert len(cities) == 2
        assert acts[-1]["at"] - acts[0]["at"] < timedelta(hours=2), "impossible travel"
        foreign = [e for e in acts if e["msisdn"] in case["msisdns"]]
        assert foreign and all(verified_consent(sim, e) is None for e in foreign)
        assert all(
            not covering_shifts(sim, e["agent_id"], e["at"], e["outlet_id"]) for e in foreign
        )


def test_dealer_mass_activation(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("dealer_mass_activation"):
        acts = events(sim, case)
        assert len(acts) >= 8 and {e["channel"] for e in acts} == {"dealer"}
        (agent,) = sim.rows("agents", [case["agent_id"]])
        assert agent["role"] == "dealer"
        for e in acts:
            assert e["price"] >= 200_000 and verified_consent(sim, e) is None
            assert outlet(sim, e["outlet_id"])["kind"] == "dealer" and is_open(
                outlet(sim, e["outlet_id"]), e["at"]
            )
            assert covering_shifts(sim, e["agent_id"], e["at"], e["outlet_id"])


@pytest.mark.parametrize(
    ("kind", "status"), [("id_on_leave", "on_leave"), ("id_after_termination", "terminated")]
)
def test_id_used_while_its_owner_is_away(small_operator: Simulated, kind: str, status: str) -> None:
    sim = small_operator
    for case in sim.cases(kind):
        (agent,) = sim.rows("agents", [case["agent_id"]])
        assert agent["status"] == status
        worked = sim.store.sql(
            "SELECT max(ends_at) AS last FROM shifts WHERE agent_id = ?", [agent["agent_id"]]
        )[0]["last"]
        for e in events(sim, case):
            assert (
                not covering_shifts(sim, e["agent_id"], e["at"])
                and verified_consent(sim, e) is None
            )
            assert worked is None or e["at"] > worked
            if status == "terminated":
                assert e["at"].date() > agent["valid_to"]


def test_billing_after_deactivation(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("billing_after_deactivation"):
        (deact,) = events(sim, case)
        (charge,) = sim.rows("charges", case["record_ids"]["charges"])
        assert deact["action"] == "deactivate" and charge["kind"] == "package"
        assert (deact["msisdn"], deact["package_id"]) == (charge["msisdn"], charge["package_id"])
        assert charge["at"] > deact["at"] + timedelta(days=1)
        again = sim.store.sql(
            "SELECT 1 FROM provisioning WHERE msisdn = ? AND package_id = ? AND action IN ('activate', 'renew') AND \"at\" > ?",
            [deact["msisdn"], deact["package_id"], deact["at"]],
        )
        assert not again
        assert sim.store.sql(
            "SELECT 1 FROM notifications WHERE msisdn = ? AND type = 'package_deactivated' AND \"at\" < ?",
            [charge["msisdn"], charge["at"]],
        )


def test_billing_after_promo(mid_operator: Simulated) -> None:
    sim = mid_operator
    variants = set()
    for case in sim.cases("billing_after_promo"):
        (act,) = events(sim, case)
        (charge,) = sim.rows("charges", case["record_ids"]["charges"])
        (pkg,) = sim.rows("packages", [act["package_id"]])
        assert act["price"] == 0 and act["promo_ends"] is not None and verified_consent(sim, act)
        day = charge["at"].date()
        if day < act["promo_ends"]:
            variants.add("during")
            assert charge["amount"] > 0
        else:
            variants.add("after")
            assert day > act["promo_ends"] and charge["amount"] > pkg["price"]
    assert variants == {"during", "after"}


def test_bar_over_dispute(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("bar_over_dispute"):
        (bar,) = sim.rows("line_actions", case["record_ids"]["line_actions"])
        (complaint,) = sim.rows("complaints", [case["complaint_id"]])
        (charge,) = sim.rows("charges", case["record_ids"]["charges"])
        (act,) = events(sim, case)
        assert bar["reason"] == "non_payment" and bar["action"] in ("bar_all", "bar_outgoing")
        assert complaint["opened_at"] < bar["at"] and complaint["disputed_charge_ids"] == [
            charge["charge_id"]
        ]
        assert bar["amount_due"] <= complaint["disputed_amount"] == charge["amount"]
        assert charge["amount"] > act["price"], "the disputed charge is above the agreed price"
        assert sim.rows("subscribers", [bar["msisdn"]])[0]["status"] == "barred"


# ------------------------------------------------------------------ hard negatives


@pytest.mark.parametrize(
    "kind", ["oncall_consented", "covering_agent", "consented_forgot", "busy_outlet"]
)
def test_hard_negatives_carry_consent_roster_and_presence(
    small_operator: Simulated, kind: str
) -> None:
    sim = small_operator
    for case in sim.cases(kind):
        acts = events(sim, case)
        assert acts
        consents = set(case["record_ids"]["consents"])
        for e in acts:
            c = verified_consent(sim, e)
            assert c is not None and c["consent_id"] in consents
            o = outlet(sim, e["outlet_id"])
            assert in_networks(e["source_ip"], o["networks"])
            # a covering colleague's roster entry may lag her first customer (detection's
            # shift tolerance, setting shift_tolerance_minutes)
            slack = timedelta(minutes=settings().shift_tolerance_minutes)
            shifts = covering_shifts(sim, e["agent_id"], e["at"], e["outlet_id"], slack)
            assert shifts and shifts[0]["shift_id"] in case["record_ids"]["shifts"]
            (session,) = sim.rows("sessions", [e["session_id"]])
            assert (
                session["agent_id"] == e["agent_id"]
                and session["started_at"] <= e["at"] <= session["ended_at"]
            )
            assert not sim.store.sql(
                "SELECT 1 FROM sessions WHERE device_id = ? AND agent_id <> ?",
                [e["device_id"], e["agent_id"]],
            )
            if kind == "oncall_consented":
                assert shifts[0]["duty"] == "on_call" and not is_open(o, e["at"])
            else:
                assert is_open(o, e["at"]) and shifts[0]["duty"] == "regular"
            if kind == "covering_agent":
                (agent,) = sim.rows("agents", [e["agent_id"]])
                assert agent["outlet_id"] != e["outlet_id"], (
                    "the agent covers another outlet than her own"
                )


def test_the_customer_who_forgot_complained_about_a_consented_charge(
    small_operator: Simulated,
) -> None:
    sim = small_operator
    for case in sim.cases("consented_forgot"):
        (complaint,) = sim.rows("complaints", [case["complaint_id"]])
        (event,) = events(sim, case)
        assert complaint["category"] == "unauthorized_activation"
        assert complaint["disputed_charge_ids"] == case["record_ids"]["charges"]
        assert complaint["opened_at"] > verified_consent(sim, event)["at"]  # type: ignore[index]
        assert not sim.store.sql("SELECT 1 FROM line_actions WHERE msisdn = ?", [event["msisdn"]])


def test_the_busy_outlet_is_far_above_its_peers(small_operator: Simulated) -> None:
    sim = small_operator
    for case in sim.cases("busy_outlet"):
        acts = events(sim, case)
        (o_id,) = {e["outlet_id"] for e in acts}
        day = acts[0]["at"].date()
        per = sim.store.sql(
            "SELECT outlet_id, count(*) AS n FROM provisioning WHERE action = 'activate' AND channel = 'outlet' "
            'AND CAST("at" AS DATE) = ? GROUP BY outlet_id',
            [day],
        )
        mine = next(r["n"] for r in per if r["outlet_id"] == o_id)
        peers = [r["n"] for r in per if r["outlet_id"] != o_id]
        assert mine >= 30 and mine > 3 * max(peers, default=0)


# ------------------------------------------------------------------ detection agrees


def test_detection_catches_every_planted_case_and_no_hard_negative(
    small_operator: Simulated,
) -> None:
    from jejak.detect import detect
    from jejak.detect.evaluate import score

    alerts = [a.to_dict() for a in detect(small_operator.store, save=False).alerts]
    report = score(alerts, small_operator.result.cases, "medium")
    assert not report.missed, [c["case_id"] for c in report.missed]
    assert not report.false_alerts, [(a["rule"], a["record_ids"][:3]) for a in report.false_alerts]


def test_the_embedded_seed_is_the_shared_seed(seed_dir: Path) -> None:
    from jejak.simulate.seed import SEED_DIR

    for path in sorted(seed_dir.glob("*.csv")):
        assert (SEED_DIR / path.name).read_bytes() == path.read_bytes(), path.name
    assert len(list(SEED_DIR.glob("*.csv"))) == 13
