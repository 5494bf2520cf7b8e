"""Fixtures of the report tests: the seed home with its alerts and the seed report (the
investigation tests' own), the store's values a customer must not see, and the rendered pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from jejak.home import Home
from jejak.investigate import Report
from tests.investigate import conftest as investigation
from tests.investigate.conftest import SEED_COMPLAINT, SEED_MSISDN

__all__ = ["SEED_COMPLAINT", "SEED_MSISDN"]

# the investigation tests' fixtures, shared: the seed home with its alerts, the seed report
seed_home_detected = investigation.seed_home_detected
seed_report = investigation.seed_report

#: the seed report's moment (the bar has lasted 31 days): the same page every day
AS_OF = "2017-04-10T09:00:00+07:00"


@dataclass
class Secrets:
    """What the store holds that a customer's report of the seed subscriber must not show."""

    numbers: set[str]  # every other subscriber's number, wherever the store names one
    people: set[str]  # every staff name
    addresses: set[str]  # every IP address and terminal id
    alert_ids: set[str]  # every stored alert's id


@pytest.fixture(scope="session")
def secrets(seed_home_detected: Path) -> Secrets:
    home = Home(seed_home_detected)
    numbers: set[str] = set()
    for kind in ("subscribers", "provisioning", "consents", "charges", "notifications"):
        numbers |= {str(m) for m in home.records(kind).column("msisdn").to_pylist() if m}
    people = {str(p) for p in home.records("agents").column("person").to_pylist() if p}
    addresses: set[str] = set()
    for kind in ("sessions", "provisioning"):
        t = home.records(kind)
        for col in ("source_ip", "device_id"):
            addresses |= {str(v) for v in t.column(col).to_pylist() if v}
    alert_ids = {str(a["alert_id"]) for a in home.alerts()}
    assert numbers and people and addresses and alert_ids  # the test can fail
    return Secrets(numbers - {SEED_MSISDN}, people, addresses, alert_ids)


@pytest.fixture(scope="session")
def dated_report(seed_home_detected: Path) -> Report:
    """The seed report as of :data:`AS_OF` (for pages that must not change from day to day)."""
    return Home(seed_home_detected).investigate(SEED_MSISDN, as_of=AS_OF)
