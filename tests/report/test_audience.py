"""The report's two audiences (issue 15): the customer's version of the seed report, in text,
JSON and HTML and in both languages, names no other subscriber, no staff member the case policy
does not show, no address or terminal and no alert; the staff's version still has them all."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cases.policy import Policy as CasePolicy
from jejak.cli import app
from jejak.errors import UsageError
from jejak.home import Home
from jejak.investigate import Report
from jejak.investigate.audience import (
    AUDIENCES,
    CUSTOMER_ACTION_FIELDS,
    CUSTOMER_CODES,
    audience,
    customer_action,
    plain_summary,
)
from jejak.investigate.i18n import LANGS, label
from jejak.investigate.render_html import render_html
from jejak.investigate.render_text import render_text
from jejak.investigate.report import Code
from tests.investigate.test_indonesian import english_in, english_only, page_text
from tests.report.conftest import AS_OF, SEED_MSISDN, Secrets

IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
ALERT_ID = re.compile(r"\bAL-[0-9a-f]{8,}")

#: every rendering of a report, by name
RENDERINGS: dict[str, Callable[[Report], str]] = {
    "text-en": lambda r: render_text(r, lang="en"),
    "text-id": lambda r: render_text(r, lang="id"),
    "json": lambda r: json.dumps(r.to_dict(), ensure_ascii=False, default=str),
    "html-en": lambda r: render_html(r, "en"),
    "html-id": lambda r: render_html(r, "id"),
}


def leaks(out: str, secrets: Secrets, allowed_people: frozenset[str] = frozenset()) -> list[str]:
    """Everything in ``out`` that the customer's report must not say."""
    found = [n for n in secrets.numbers if n in out]
    found += [p for p in secrets.people - set(allowed_people) if p in out]
    found += [a for a in secrets.addresses if a in out]
    found += [a for a in secrets.alert_ids if a in out]
    found += IP.findall(out) + ALERT_ID.findall(out)
    return found


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_the_customer_report_says_nothing_the_customer_may_not_see(
    dated_report: Report, secrets: Secrets, rendering: str
) -> None:
    out = RENDERINGS[rendering](dated_report.for_audience("customer"))
    assert SEED_MSISDN in out and "16009045" in out  # their number; the user ID is a policy field
    assert not leaks(out, secrets), leaks(out, secrets)


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_the_staff_report_still_says_it_all(
    dated_report: Report, secrets: Secrets, rendering: str
) -> None:
    out = RENDERINGS[rendering](dated_report)
    assert dated_report.audience.name == "staff"
    for must in ("6281100000089", "Budi Santoso", "Sri Wahyuni", "10.20.30.17", "SRG-PC-07"):
        assert must in out, must
    assert any(a in out for a in secrets.alert_ids)
    assert len(leaks(out, secrets)) > 10  # the measure finds what is there


def test_staff_names_follow_the_case_policy(
    seed_home_detected: Path, tmp_path: Path, secrets: Secrets
) -> None:
    home = tmp_path / "home"
    shutil.copytree(seed_home_detected, home)
    hidden = Home(home).investigate(SEED_MSISDN, as_of=AS_OF, audience="customer")
    assert not hidden.audience.show_staff_names
    (home / "policy.toml").write_text("show_staff_names = true\n", encoding="utf-8")
    assert CasePolicy.for_home(home).show_staff_names
    shown = Home(home).investigate(SEED_MSISDN, as_of=AS_OF, audience="customer")
    assert shown.audience.show_staff_names
    # the policy's field is the person the user ID is issued to; no other staff member is named
    allowed = {a.person for a in shown.actions if a.person}
    assert allowed == {"Sri Wahyuni"}
    for name, render in RENDERINGS.items():
        out = render(shown)
        assert "Sri Wahyuni" in out, name
        assert not leaks(out, secrets, frozenset(allowed)), (name, leaks(out, secrets, allowed))
        assert "Sri Wahyuni" not in render(hidden), name


def test_the_customer_report_opens_with_a_plain_summary(dated_report: Report) -> None:
    customer = dated_report.for_audience("customer")
    for lang in LANGS:
        said = plain_summary(customer, lang)
        assert said[-3] == label("plain.verdict.credential_misuse", lang)
        page = render_html(customer, lang)
        head = page.index(label("in_short", lang))
        assert head < page.index(label("verdict", lang) + ":") < page.index(label("remedy", lang))
        assert said[0].split(" ")[0] in page[head:]
        text = render_text(customer, lang=lang)
        assert text.index(label("in_short", lang)) < text.index(label("remedy", lang))
    en = " ".join(plain_summary(customer, "en"))
    assert "IDR 500,000" in en and "CH000009, CH000010" in en and "31 day(s)" in en
    assert "was not on shift" in en and "closed" in en
    data = customer.to_dict()
    assert data["audience"] == "customer" and data["summary"] == plain_summary(customer, "en")
    assert data["verdict"]["hypothesis"] == "credential_misuse"
    assert data["verdict"]["operator_liable"] is True
    assert data["remedy"]["refund"] == 500_000 and data["remedy"]["compensation"] == 31 * 50_000
    assert "blast_radius" not in data and "findings" not in data


def test_the_indonesian_customer_report_says_no_english(
    dated_report: Report, seed_dir: Path
) -> None:
    page = page_text(render_html(dated_report.for_audience("customer"), "id"))
    assert "Ringkasnya" in page and "Temuan kami" in page
    assert not english_in(page, english_only(seed_dir))
    assert page.count("WIB") == 1 and "UTC" not in page


def test_a_customer_sees_the_case_policys_fields_and_no_more() -> None:
    action = {
        "event_id": "EV1",
        "at": "t",
        "agent_id": "16009045",
        "person": "Sri Wahyuni",
        "source_ip": "10.20.30.17",
        "device_id": "SRG-PC-07",
        "on_duty": [{"person": "Budi Santoso"}],
        "consent": None,
    }
    for names in (False, True):
        seen = customer_action(action, show_staff_names=names)
        assert tuple(seen) == CUSTOMER_ACTION_FIELDS
        assert seen["person"] == ("Sri Wahyuni" if names else None)
        assert seen["consent"] is False and "10.20.30.17" not in str(seen)
    # every statement a customer may read exists, and none names an address, a terminal, staff
    assert {str(c) for c in Code} >= CUSTOMER_CODES
    for code in ("ADDRESS_IN_OUTLET", "SESSION_MATCHES", "OWNER_NOT_ON_SHIFT", "ALERT", "SUSPECT"):
        assert code not in CUSTOMER_CODES


def test_audience_names() -> None:
    from jejak.investigate.cli import Audiences

    assert tuple(Audiences) == AUDIENCES
    assert audience(None).name == "staff" and audience("Customer").customer
    assert not audience("staff", show_staff_names=True).show_staff_names  # staff see all anyway
    with pytest.raises(UsageError, match="--audience: unknown audience 'press'"):
        audience("press")


def test_cli_audience(runner: CliRunner, seed_home_detected: Path, tmp_path: Path) -> None:
    home = ["--home", str(seed_home_detected), "--as-of", AS_OF]
    customer = ["investigate", "--msisdn", "0811 0000 0001", "--audience", "customer"]
    r = runner.invoke(app, [*customer, "--format", "json", *home])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["audience"] == "customer" and "blast_radius" not in data

    r = runner.invoke(
        app, ["investigate", "--msisdn", SEED_MSISDN, "--audience", "customer", *home]
    )
    assert r.exit_code == 0, r.output
    assert "In short" in r.output and "Budi Santoso" not in r.output

    out = tmp_path / "customer.html"
    args = ["investigate", "--msisdn", SEED_MSISDN, "--audience", "customer", "--lang", "id"]
    r = runner.invoke(app, [*args, "--out", str(out), *home])
    assert r.exit_code == 0, r.output
    assert "Ringkasnya" in out.read_text(encoding="utf-8")

    r = runner.invoke(app, ["investigate", "--msisdn", SEED_MSISDN, "--format", "html", *home[:2]])
    staff_page = Path(r.output.strip())
    r = runner.invoke(
        app,
        [
            "investigate",
            "--msisdn",
            SEED_MSISDN,
            "--format",
            "html",
            "--audience",
            "customer",
            *home[:2],
        ],
    )
    assert r.exit_code == 0, r.output
    customer_page = Path(r.output.strip())
    assert customer_page.name.endswith(".customer.en.html") and staff_page != customer_page
    assert (
        "Budi Santoso" in staff_page.read_text() and "Budi Santoso" not in customer_page.read_text()
    )

    for bad, message in (
        (["--audience", "press"], "'press' is not one of 'staff', 'customer'"),
        (
            ["--audience", "customer", "--agent", "16009045"],
            "--audience: a user ID's activity is for staff only",
        ),
    ):
        argv = ["investigate", *(["--msisdn", SEED_MSISDN] if "--agent" not in bad else []), *bad]
        r = runner.invoke(app, [*argv, *home[:2]])
        assert r.exit_code == 2, r.output
        assert message in r.output
