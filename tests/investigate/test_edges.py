"""Verdicts and remedies at the edges the independent check found (issue 14).

Each test builds a tiny operator export (the rule fixtures' base world: GraPARI Sragen, user
ID 1001 on the day shift, a consented activation) and investigates its subscriber.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jejak import Home
from jejak.investigate.render_html import render_html
from jejak.investigate.report import Report
from tests.detect.build_fixtures import M1, World, base, ch, replace, t, with_, write

D = "2016-07-18"
RENEWALS = ("2016-08-17", "2016-09-16", "2016-10-16")
AS_OF = "2016-11-01T09:00:00+07:00"


def renew(eid: str, day: str, price: int = 250000) -> dict[str, Any]:
    return {
        "event_id": eid,
        "at": t(day, "00:10"),
        "msisdn": M1,
        "action": "renew",
        "package_id": "DATA12GB",
        "channel": "system",
        "agent_id": "",
        "session_id": "",
        "outlet_id": "SRG",
        "source_ip": "",
        "device_id": "",
        "consent_id": "",
        "price": price,
        "promo_ends": "",
    }


def complaint(charge: str, amount: int = 250000) -> dict[str, Any]:
    return {
        "complaint_id": "TCK9",
        "msisdn": M1,
        "opened_at": t("2016-10-20", "10:00"),
        "channel": "call_center",
        "category": "unauthorized_activation",
        "summary": "Saya tidak pernah minta paket ini diperpanjang",
        "disputed_charge_ids": charge,
        "disputed_amount": amount,
    }


def renewed_three_times(third_price: int = 250000) -> World:
    """The base world's consented activation EV1, renewed three times, each period charged;
    the subscriber disputes the third renewal's charge."""
    w = with_(base(), "provisioning", *(renew(f"ER{i + 1}", d) for i, d in enumerate(RENEWALS[:2])))
    w = with_(w, "provisioning", renew("ER3", RENEWALS[2], third_price))
    w = with_(w, "charges", ch("CHA", t(D, "10:02"), 250000))
    w = with_(
        w,
        "charges",
        *(ch(f"CHR{i + 1}", t(d, "00:11"), 250000) for i, d in enumerate(RENEWALS[:2])),
    )
    w = with_(w, "charges", ch("CHR3", t(RENEWALS[2], "00:11"), third_price))
    return with_(w, "complaints", complaint("CHR3", third_price))


def report_of(world: World, tmp_path: Path, as_of: str = AS_OF) -> Report:
    folder = tmp_path / "export"
    write(folder, world, {})
    home = Home(tmp_path / "home")
    result = home.ingest([folder])
    assert result.quarantined == 0, result.to_dict()
    home.refresh_alerts()
    return home.investigate(M1, as_of=as_of)


def test_the_third_renewal_of_a_consented_package_stands(tmp_path: Path) -> None:
    r = report_of(renewed_three_times(), tmp_path)
    assert [a.event_id for a in r.actions] == ["EV1"], "the renewal is weighed as its activation"
    assert r.actions[0].consent_valid
    assert (r.verdict.hypothesis, r.verdict.operator_liable) == ("customer_consented", False)
    assert r.remedy.refund == 0 and r.remedy.charge_ids == []


def test_a_renewal_after_the_subscriber_ended_the_package_stands_alone(tmp_path: Path) -> None:
    ended = {
        **renew("EX", "2016-10-01"),
        "action": "deactivate",
        "channel": "app",
        "price": 0,
    }
    r = report_of(with_(renewed_three_times(), "provisioning", ended), tmp_path)
    assert [a.event_id for a in r.actions] == ["ER3"]
    assert r.verdict.operator_liable is True
    assert r.remedy.charge_ids == ["CHR3"]


@pytest.mark.parametrize(("notice", "liable"), [(False, True), (True, False)])
def test_a_price_rise_breaks_the_chain_unless_the_subscriber_was_told(
    notice: bool, liable: bool, tmp_path: Path
) -> None:
    w = renewed_three_times(third_price=300000)
    if notice:
        told = {
            "notification_id": "NT1",
            "msisdn": M1,
            "at": t("2016-10-13", "09:00"),
            "channel": "sms",
            "type": "package_expiring",
            "package_id": "DATA12GB",
            "text": "Paket Data 12GB diperpanjang 16 Okt dengan harga Rp300.000.",
        }
        w = with_(w, "notifications", told)
    r = report_of(w, tmp_path)
    assert r.verdict.operator_liable is liable, r.verdict.to_dict()
    assert r.remedy.charge_ids == (["CHR3"] if liable else [])


def bar(at: str, amount: int = 250000) -> dict[str, Any]:
    return {
        "action_id": "LA1",
        "msisdn": M1,
        "at": at,
        "action": "bar_all",
        "reason": "non_payment",
        "amount_due": amount,
        "agent_id": "",
    }


def test_a_bar_during_an_open_complaint_is_lifted_and_compensated_though_the_charges_stand(
    tmp_path: Path,
) -> None:
    w = with_(renewed_three_times(), "line_actions", bar(t("2016-10-25", "09:00")))
    r = report_of(w, tmp_path)
    assert r.verdict.hypothesis == "customer_consented" and r.remedy.refund == 0
    assert any(f["rule"] == "JJK-014" for f in r.findings), "the bar's alert is listed"
    assert r.remedy.unbar is True and r.remedy.bar_id == "LA1"
    assert r.remedy.barred_days == 7  # 25 October 09:00 to 1 November 09:00
    assert r.remedy.compensation == 7 * 50_000
    codes = [e.code for e in r.remedy.lines]
    assert codes == ["REMEDY_NO_REFUND", "REMEDY_UNBAR_DISPUTE", "REMEDY_STILL_BARRED"]
    html = render_html(r, "id")
    assert "JJK-014" in html and "LA1" in html


def test_a_bar_after_the_complaint_was_closed_stands(tmp_path: Path) -> None:
    closed = {
        **complaint("CHR3"),
        "status": "closed",
        "closed_at": t("2016-10-22", "10:00"),
        "resolution": "rejected",
    }
    w = replace(renewed_three_times(), "complaints", closed)
    r = report_of(with_(w, "line_actions", bar(t("2016-10-25", "09:00"))), tmp_path)
    assert r.remedy.unbar is False and r.remedy.compensation == 0
    assert [e.code for e in r.remedy.lines][-1] == "REMEDY_BAR_STANDS"
    assert not any(f["rule"] == "JJK-014" for f in r.findings)


def test_compensation_for_a_dispute_bar_stops_when_the_complaint_was_decided(
    tmp_path: Path,
) -> None:
    decided = {
        **complaint("CHR3"),
        "status": "closed",
        "closed_at": t("2016-10-28", "10:00"),
        "resolution": "rejected",
    }
    w = replace(renewed_three_times(), "complaints", decided)
    r = report_of(with_(w, "line_actions", bar(t("2016-10-25", "09:00"))), tmp_path)
    assert r.remedy.barred_days == 4  # 25 October 09:00 until the decision on 28 October 10:00
    assert r.remedy.compensation == 4 * 50_000
    assert r.remedy.unbar is False  # decided: the bar now enforces a debt the records uphold
    assert [e.code for e in r.remedy.lines] == ["REMEDY_NO_REFUND", "REMEDY_DISPUTE_BAR"]
