"""The HTML report in a real browser (Playwright driving Debian's Chromium): on a 390 px phone
the page never scrolls sideways, for both audiences and both languages; the timeline's labels,
measured as the browser lays them out, fit their boxes and overlap nowhere; a citation's link
lands on its row. Screenshots of every page at 390 px and 1280 px go to
``$JEJAK_SCREENSHOTS/report/`` (``make screenshots``), else to a temporary folder.

Skipped with a message when /usr/bin/chromium is absent, except under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jejak.investigate import Report
from jejak.investigate.i18n import LANGS
from jejak.investigate.render_html import anchor, render_html
from tests.browser import ARGS, CHROMIUM, require_chromium

require_chromium()

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
AUDIENCES = ("staff", "customer")
#: a screenshot shows the top of a page, down to the timeline and the first action at least
SHOT_HEIGHT = {390: 3200, 1280: 2000}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(dated_report: Report, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed report's page for each audience and language, as files."""
    folder = tmp_path_factory.mktemp("report-pages")
    out = {}
    for audience in AUDIENCES:
        for lang in LANGS:
            path = folder / f"{audience}-{lang}.html"
            path.write_text(render_html(dated_report.for_audience(audience), lang), "utf-8")
            out[f"{audience}-{lang}"] = path
    return out


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$JEJAK_SCREENSHOTS/report (``make screenshots``), else a temp folder."""
    folder = os.environ.get("JEJAK_SCREENSHOTS")
    path = Path(folder) / "report" if folder else tmp_path_factory.mktemp("report-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


#: every label of the timeline: its box as drawn and the text's own box, in page pixels
LABELS_JS = """() => [...document.querySelectorAll('svg.timeline rect.markbox')].map(r => {
  const t = r.nextElementSibling, a = r.getBoundingClientRect(), b = t.getBoundingClientRect();
  return {text: t.textContent, box: [a.left, a.top, a.right, a.bottom],
          ink: [b.left, b.top, b.right, b.bottom]};
}).filter(l => l.box[2] > l.box[0])"""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_page_fits_a_phone(
    browser: Any, pages: dict[str, Path], audience: str, lang: str
) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(pages[f"{audience}-{lang}"].as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px phone"
        # each chart scrolls inside its own box, which fits the screen
        boxes = page.evaluate(
            "[...document.querySelectorAll('.figure')].map(f => f.getBoundingClientRect().right)"
        )
        assert boxes and max(boxes) <= 390
        # the phone's timeline is shown, at the size it is read: its words are 10 px or more
        shown = page.evaluate(
            "[...document.querySelectorAll('svg.timeline')].filter(s => s.getBoundingClientRect()"
            ".width > 0).map(s => s.getAttribute('class'))"
        )
        assert shown == ["chart timeline narrow"]
        size = page.evaluate(
            "document.querySelector('svg.timeline.narrow text.mark').getBoundingClientRect().height"
        )
        assert size >= 10, size
        # the timeline's labels as laid out: each text inside its box, no two boxes overlapping
        labels = page.evaluate(LABELS_JS)
        assert len(labels) == 6
        for lab in labels:
            (x0, y0, x1, y1), (a0, b0, a1, b1) = lab["box"], lab["ink"]
            assert x0 <= a0 + 0.5 and a1 <= x1 + 0.5, lab
            assert y0 <= b0 + 1.5 and b1 <= y1 + 1.5, lab
        for i, p in enumerate(labels):
            for q in labels[i + 1 :]:
                (a, b, c, d), (e, f, g, h) = p["box"], q["box"]
                assert not (a < g and e < c and b < h and f < d), (p, q)
    finally:
        page.close()


def test_a_citation_lands_on_its_row(browser: Any, pages: dict[str, Path]) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(pages["customer-id"].as_uri())
        page.click(f'.verdict a[href="#{anchor("EV0000170")}"]')
        assert page.evaluate("document.querySelector(':target').id") == anchor("EV0000170")
        top = page.evaluate("document.querySelector(':target').getBoundingClientRect().top")
        assert -1 <= top < PHONE["height"]  # scrolled to (a fraction of a pixel aside)
    finally:
        page.close()


def snap(page: Any, path: Path, width: int) -> None:
    """The top of the page as a PNG, reduced to a 128-colour palette without dithering (small
    enough for docs/, and the charts keep their colours)."""
    height = min(page.evaluate("document.documentElement.scrollHeight"), SHOT_HEIGHT[width])
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
    )
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        palette = im.convert("RGB").quantize(
            colors=128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        palette.save(path, optimize=True)


def test_screenshots_of_both_audiences_in_both_languages_at_both_widths(
    browser: Any, pages: dict[str, Path], shots: Path
) -> None:
    for name, path in pages.items():
        for size, what in ((PHONE, "phone"), (DESK, "desk")):
            page = browser.new_page(viewport=size)
            try:
                page.goto(path.as_uri())
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
                snap(page, shots / f"{name}-{what}.png", size["width"])
            finally:
                page.close()
            assert (shots / f"{name}-{what}.png").stat().st_size > 10_000
