"""docs/report.md keeps up with the code: it names every field and statement a customer sees,
shows every screenshot there is (and only those), and the README links it."""

from __future__ import annotations

import re
from pathlib import Path

from jejak.investigate.audience import CUSTOMER_ACTION_FIELDS, CUSTOMER_CODES
from jejak.investigate.render_html import GRAPH_MAX_NODES

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "report.md").read_text(encoding="utf-8")


def test_the_doc_names_what_a_customer_sees() -> None:
    for name in (*CUSTOMER_ACTION_FIELDS, *sorted(CUSTOMER_CODES)):
        assert f"`{name}`" in DOC, name
    assert f"`GRAPH_MAX_NODES` ({GRAPH_MAX_NODES})" in DOC


def test_the_doc_shows_every_screenshot() -> None:
    shown = set(re.findall(r"\]\((screenshots/report/[^)]+\.png)\)", DOC))
    there = {
        f"screenshots/report/{p.name}" for p in (REPO / "docs/screenshots/report").glob("*.png")
    }
    assert shown == there and len(there) == 8  # two audiences, two languages, two widths
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "tests/report/test_browser.py -k screenshots" in makefile


def test_the_readme_links_the_doc() -> None:
    assert "(docs/report.md)" in (REPO / "README.md").read_text(encoding="utf-8")
