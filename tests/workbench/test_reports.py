"""The regulator's figures in the workbench (``/reports/qos``): the CLI's numbers, each linked to
its case pages, CSV and JSON, both languages, hostile text inert; and the case page saying the
attached report's reason in the viewer's language."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jejak.cases.models import Case, Report
from jejak.cases.report.qos import qos, to_csv
from jejak.cli import app as cli
from tests.workbench.conftest import SEED_CASE, WorkbenchHome, sign_in

QUARTER = "2017Q1"


def test_the_page_shows_the_figures_each_linked_to_its_cases(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    sign_in(client, workbench_home, "joko")
    page = client.get(f"/reports/qos?quarter={QUARTER}&lang=id")
    assert page.status_code == 200
    text = page.text
    assert "Angka pengaduan untuk regulator" in text
    assert "Pengaduan tagihan yang diselesaikan dalam 15 hari kerja" in text
    # the seed complaint: a billing complaint, decided late (never), an insider at GraPARI Sragen
    link = f'href="/cases/{SEED_CASE}"'
    assert text.count(link) >= 4  # late, per bill, by kind, by outlet
    assert "GraPARI Sragen" in text and "penyalahgunaan user ID" in text
    assert "di bawah standar" in text  # 0 % settled in time
    english = client.get(f"/reports/qos?quarter={QUARTER}&lang=en").text
    assert "Complaint figures for the regulator" in english and "below the standard" in english
    # the link leads to the case page
    assert client.get(f"/cases/{SEED_CASE}").status_code == 200


def test_json_and_csv_are_the_libraries_figures(
    client: TestClient, workbench_home: WorkbenchHome, app
) -> None:
    sign_in(client, workbench_home, "ayu")  # an auditor
    figures = qos(app.state.cases, QUARTER)
    got = client.get(f"/reports/qos.json?quarter={QUARTER}").json()
    assert got == json.loads(json.dumps(figures))
    assert got["settled_within_deadline"]["late"] == [SEED_CASE]
    r = client.get(f"/reports/qos.csv?quarter={QUARTER}")
    assert r.headers["content-disposition"] == f'attachment; filename="qos-{QUARTER}.csv"'
    assert r.text == to_csv(figures)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["figure"] == "billing complaints settled within 15 working days"
    assert rows[0]["cases"] == SEED_CASE
    # the CLI gives the same CSV
    out = CliRunner().invoke(
        cli,
        [
            "report",
            "qos",
            "--quarter",
            QUARTER,
            "--format",
            "csv",
            "--home",
            str(workbench_home.path),
        ],
    )
    assert out.exit_code == 0, out.output
    assert out.output == to_csv(figures)


def test_a_quarter_that_is_no_quarter_is_refused(
    client: TestClient, workbench_home: WorkbenchHome
) -> None:
    sign_in(client, workbench_home, "joko")
    assert client.get("/reports/qos?quarter=2017Q5").status_code == 400
    assert client.get("/reports/qos.json?quarter=<script>").status_code == 400


def test_hostile_text_in_a_report_stays_text(
    client: TestClient, workbench_home: WorkbenchHome, app
) -> None:
    cases = app.state.cases
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    cases.create(
        {
            "complaint_id": "TCK-2017-0301-0666",
            "msisdn": "6281100000066",
            "opened_at": "2017-03-01T09:00:00+07:00",
            "disputed_charge_ids": ["CHX"],
            "disputed_amount": 1,
        }
    )
    body = json.dumps(
        {"verdict": {"hypothesis": "owner_misuse"}, "actions": [{"outlet_id": hostile}]}
    )
    with cases.db.write() as s:
        s.add(
            Report(
                case_id="CASE-TCK-2017-0301-0666",
                sha256=hashlib.sha256(body.encode()).hexdigest(),
                made_at=s.get(Case, "CASE-TCK-2017-0301-0666").opened_at,
                body=body,
            )
        )
    sign_in(client, workbench_home, "joko")
    text = client.get(f"/reports/qos?quarter={QUARTER}").text
    assert "<script>alert(2)" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text


@pytest.mark.parametrize(
    ("lang", "said", "not_said"),
    [
        ("id", ("hari itu: SH00054", "buka 08:00-16:00 Sen-Sab"), ("that day", "Mon-Sat")),
        ("en", ("that day: SH00054", "open 08:00-16:00 Mon-Sat"), ("hari itu", "Sen-Sab")),
    ],
)
def test_the_case_page_says_the_attached_reports_reason_in_the_viewers_language(
    client: TestClient, workbench_home: WorkbenchHome, lang: str, said: tuple, not_said: tuple
) -> None:
    sign_in(client, workbench_home, "sari")
    text = client.get(f"/cases/{SEED_CASE}?lang={lang}").text
    for words in said:
        assert words in text, words
    for words in not_said:
        assert words not in text, words


def test_the_reason_comes_from_the_attached_report_not_a_new_one(
    client: TestClient, workbench_home: WorkbenchHome, app
) -> None:
    """The reason is rebuilt from the stored report's codes and parameters: a parameter changed
    in the stored report shows on the page in both languages (a new investigation would not say
    it); a report stored before the parameters were kept falls back to today's report."""
    cases = app.state.cases
    with cases.db.write() as s:
        report = s.query(Report).filter_by(case_id=SEED_CASE).one()
        doc = json.loads(report.body)
        doc["verdict"]["params"]["owner"] = "Pemilik Contoh"
        report.body = json.dumps(doc)
    sign_in(client, workbench_home, "sari")
    assert "User ID 16009045 milik Pemilik Contoh" in client.get(f"/cases/{SEED_CASE}?lang=id").text
    assert "issued to Pemilik Contoh" in client.get(f"/cases/{SEED_CASE}?lang=en").text
    with cases.db.write() as s:
        report = s.query(Report).filter_by(case_id=SEED_CASE).one()
        doc = json.loads(report.body)
        del doc["verdict"]["params"], doc["verdict"]["parts"]
        report.body = json.dumps(doc)
    page = client.get(f"/cases/{SEED_CASE}?lang=id").text
    assert "User ID 16009045 milik Sri Wahyuni dipakai orang lain" in page
