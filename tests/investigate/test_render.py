"""The rendered report: terminal text, the self-contained HTML page in both languages, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jejak.cli import app
from jejak.errors import UsageError
from jejak.investigate import Report
from jejak.investigate.i18n import LABELS, LANGS, MESSAGES
from jejak.investigate.render_html import render_html
from jejak.investigate.render_text import render_text
from tests.investigate.conftest import SEED_COMPLAINT, SEED_MSISDN


@pytest.mark.parametrize("lang", LANGS)
def test_html_is_self_contained(seed_report: Report, lang: str) -> None:
    html = render_html(seed_report, lang)
    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}">' in html
    lowered = html.lower()
    for banned in ("http://", "https://", "<script", "<link", "@import", "src=", "url("):
        assert banned not in lowered, banned
    assert lowered.count("<svg") >= 3  # timeline, the evening of the action, the graph


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "Credential misuse",
                "Operator bears the loss",
                "Refund",
                "IDR 500,000",
                "Lift the bar",
            ],
        ),
        (
            "id",
            [
                "Penyalahgunaan user ID",
                "Operator menanggung kerugian",
                "Pengembalian dana",
                "Rp500.000",
                "Cabut blokir",
            ],
        ),
    ],
)
def test_html_states_the_key_facts(seed_report: Report, lang: str, words: list[str]) -> None:
    html = render_html(seed_report, lang)
    for w in [
        *words,
        "Budi Santoso",
        "Sri Wahyuni",
        "SE000100",
        "SRG-PC-07",
        "6281100000089",
        SEED_COMPLAINT,
    ]:
        assert w in html, (lang, w)


def test_html_languages_differ_only_in_words(seed_report: Report) -> None:
    en, id_ = render_html(seed_report, "en"), render_html(seed_report, "id")
    assert "Linimasa kasus" in id_ and "Timeline of the case" in en
    assert "Timeline of the case" not in id_
    with pytest.raises(UsageError, match="--lang"):
        render_html(seed_report, "fr")


def test_every_sentence_is_translated() -> None:
    for table in (MESSAGES, LABELS):
        for key, words in table.items():
            assert set(words) == set(LANGS), key
            if key not in ("user_id", "terminal", "kind.shifts"):
                assert words["en"] != words["id"], key
    # the same placeholders in both languages
    for code, words in MESSAGES.items():
        fields = {lang: set(re.findall(r"{(\w+)}", w)) for lang, w in words.items()}
        assert fields["en"] == fields["id"], code


def test_text_report_reads_in_both_languages(seed_report: Report) -> None:
    en = render_text(seed_report, lang="en")
    assert "Verdict: Credential misuse (credential_misuse)" in en
    assert "Budi Santoso" in en and "IDR 500,000" in en
    idt = render_text(seed_report, lang="id")
    assert "Putusan: Penyalahgunaan user ID" in idt


def test_cli_text_json_html(runner: CliRunner, seed_home_detected: Path, tmp_path: Path) -> None:
    home = ["--home", str(seed_home_detected)]
    r = runner.invoke(app, ["investigate", "--msisdn", SEED_MSISDN, *home])
    assert r.exit_code == 0, r.output
    assert "credential_misuse" in r.output and "Budi Santoso" in r.output

    r = runner.invoke(
        app, ["investigate", "--complaint", SEED_COMPLAINT, "--format", "json", *home]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["verdict"]["hypothesis"] == "credential_misuse"
    assert data["remedy"]["refund"] == 500_000

    r = runner.invoke(
        app,
        [
            "investigate",
            "--msisdn",
            SEED_MSISDN,
            "--format",
            "json",
            "--as-of",
            "2017-04-10T09:00:00+07:00",
            *home,
        ],
    )
    assert json.loads(r.output)["remedy"]["compensation"] == 31 * 50_000

    out = tmp_path / "seed.html"
    r = runner.invoke(
        app,
        [
            "investigate",
            "--msisdn",
            SEED_MSISDN,
            "--format",
            "html",
            "--lang",
            "id",
            "--out",
            str(out),
            *home,
        ],
    )
    assert r.exit_code == 0, r.output
    assert r.output.strip() == str(out)
    assert "Penyalahgunaan user ID" in out.read_text(encoding="utf-8")

    r = runner.invoke(app, ["investigate", "--msisdn", SEED_MSISDN, "--format", "html", *home])
    assert r.exit_code == 0, r.output
    default = Path(r.output.strip())
    assert default == seed_home_detected / "reports" / f"{SEED_MSISDN}-{SEED_COMPLAINT}.en.html"
    assert default.exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--msisdn", "6289999999999"], 1, "subscriber 6289999999999: no record of this number"),
        (["--complaint", "TCK-NOPE"], 1, "complaint TCK-NOPE: no such complaint"),
        (["--msisdn", SEED_MSISDN, "--format", "xml"], 2, "'xml' is not one of 'table'"),
        (["--msisdn", SEED_MSISDN, "--lang", "fr"], 2, "--lang: unknown language 'fr'"),
        (
            ["--msisdn", SEED_MSISDN, "--as-of", "yesterday"],
            2,
            "--as-of: 'yesterday' is not a date",
        ),
        ([], 2, "give --msisdn N, --complaint ID, --alert ID or --agent ID"),
    ],
)
def test_cli_errors_are_one_line(
    runner: CliRunner, seed_home_detected: Path, args: list[str], code: int, message: str
) -> None:
    r = runner.invoke(app, ["investigate", *args, "--home", str(seed_home_detected)])
    assert r.exit_code == code, r.output
    assert message in r.output
    assert "Traceback" not in r.output
