"""The workbench in a real browser (Playwright driving Debian's Chromium) against a real server
process on loopback: the seed dispute from sign-in to approval, in both languages, at a desk's
1280 px and a phone's 390 px, with a screenshot of each page; and hostile export text that must
never run.

Skipped with a message when /usr/bin/chromium is absent, except under ``CI=true`` where it must
run (``make test`` installs Chromium when it can).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.workbench.conftest import PASSWORD, SEED_CASE, WorkbenchHome

REPO = Path(__file__).resolve().parents[2]
WIDTHS = {"desk": 1280, "phone": 390}

require_chromium()

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(workbench_home: WorkbenchHome) -> Iterator[str]:
    """``jejak``'s workbench as a separate process on loopback; its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "workbench" / "serve.py"),
            str(workbench_home.path),
            str(port),
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the workbench did not start")
    yield f"http://localhost:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $JEJAK_SCREENSHOTS (``make screenshots``), else a temp folder."""
    folder = os.environ.get("JEJAK_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


def sign_in(page, base: str, home: WorkbenchHome, name: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=code]", pyotp.TOTP(home.totp[name]).now())
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/signin" not in page.url, page.content()[:500]


def snap(page, shots: Path, name: str) -> None:
    """A screenshot of the viewport; with Pillow, reduced to a 128-colour palette (a few dozen KB)."""
    shots.mkdir(parents=True, exist_ok=True)
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=128)
    small.save(path, optimize=True)


def test_the_seed_dispute_from_sign_in_to_approval(
    browser, server: str, workbench_home: WorkbenchHome, shots: Path
) -> None:
    base = server
    errors: list[str] = []
    # an investigator triages an alert
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/signin?lang=en")
    snap(page, shots, "signin-en-desk")
    sign_in(page, base, workbench_home, "sari")
    page.goto(f"{base}/alerts?lang=en&severity=critical")
    first = page.locator("input[name=alert_id]").first
    alert_id = first.get_attribute("value")
    first.check()
    page.select_option("select[name=reason]", "true_positive")
    page.click("text=Triage the selected alerts")
    page.wait_for_load_state()
    page.goto(f"{base}/alerts?lang=en&status=triaged")
    assert alert_id in page.content()
    ctx.close()

    # cs opens the seed complaint's case, sees the clock, proposes the refund
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, workbench_home, "rina")
    page.goto(f"{base}/cases?lang=en")
    page.click(f"text={SEED_CASE}")
    page.wait_for_load_state()
    assert page.locator("#clock .badge").count() == 1 or "–" in page.locator("#clock").inner_text()
    snap(page, shots, "case-received-en-desk")
    page.locator("form[data-action=acknowledge] button").click()
    page.wait_for_load_state()
    form = page.locator("form[data-action=propose_adjustment]")
    form.locator("input[name=amount]").fill("500000")
    form.locator("textarea[name=reason]").fill("Refund of the two charges the customer disputed")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "500.000" in page.content()
    case_url = page.url

    # a second sign-in as the same cs is refused the approval
    ctx2 = browser.new_context(viewport={"width": 1280, "height": 900})
    p2 = ctx2.new_page()
    sign_in(p2, base, workbench_home, "rina")
    p2.goto(case_url)
    assert p2.locator("form[data-action=approve_adjustment]").count() == 0
    token = p2.locator("input[name=csrf]").first.get_attribute("value")
    case_json = p2.request.get(f"{case_url}.json").json()
    adj = case_json["adjustments"][-1]["adjustment_id"]
    refused = p2.request.post(
        f"{case_url}/actions",
        form={"csrf": token, "action": "approve_adjustment", "adjustment_id": adj},
        headers={"accept": "application/json"},
        max_redirects=0,
    )
    assert refused.status == 403, refused.text()
    ctx2.close()
    ctx.close()

    # a supervisor approves it from the approvals queue
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, workbench_home, "joko")
    page.goto(f"{base}/approvals?lang=en")
    assert adj in page.content()
    snap(page, shots, "approvals-en-desk")
    page.click("text=Approve")
    page.wait_for_load_state()
    case = page.request.get(f"{base}/cases/{SEED_CASE}.json").json()
    approved = next(a for a in case["adjustments"] if a["adjustment_id"] == adj)
    assert approved["state"] == "approved" and approved["approved_by"] == ["joko"]

    # screenshots of each page, both languages, desk and phone
    pages = {
        "alerts": "/alerts?status=all",
        "case": f"/cases/{SEED_CASE}",
        "cases": "/cases",
        "user-id": "/entities/user/16009051",
        "outlet": "/entities/outlet/SRG",
        "audit": "/audit",
    }
    for lang in ("id", "en"):
        for size, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900 if size == "desk" else 844})
            for name, path in pages.items():
                page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (
                    f"{name} scrolls sideways at {width} px"
                )
                snap(page, shots, f"{name}-{lang}-{size}")
            # the case's timeline: the phone's drawing at 390 px, the desk's at 1280 px
            page.goto(f"{base}/cases/{SEED_CASE}?lang={lang}")
            shown = page.locator(
                "svg.chart.timeline.narrow" if size == "phone" else "svg.chart.timeline.wide"
            )
            hidden = page.locator(
                "svg.chart.timeline.wide" if size == "phone" else "svg.chart.timeline.narrow"
            )
            assert shown.is_visible() and not hidden.is_visible(), (lang, size)
            shown.scroll_into_view_if_needed()
            snap(page, shots, f"case-timeline-{lang}-{size}")
            page.locator(".figure svg.chart").scroll_into_view_if_needed()
            snap(page, shots, f"case-graph-{lang}-{size}")
    ctx.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_screenshots_of_the_regulators_figures_and_the_customer_codes(
    browser, server: str, workbench_home: WorkbenchHome, shots: Path
) -> None:
    """The QoS page (a supervisor's), the subscriber page with the line code a cs hands over, and
    the code page, in both languages at both widths; the QoS page's case links open the case."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, server, workbench_home, "joko")
    pages = {
        "qos": "/reports/qos?quarter=2017Q1",
        "subscriber": "/entities/subscriber/6281100000001",
    }
    for lang in ("id", "en"):
        for size, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900 if size == "desk" else 844})
            for name, path in pages.items():
                page.goto(f"{server}{path}{'&' if '?' in path else '?'}lang={lang}")
                for d in page.locator("details.cases").all()[:2]:
                    d.evaluate("el => el.open = true")
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (
                    f"{name} scrolls sideways at {width} px"
                )
                snap(page, shots, f"{name}-{lang}-{size}")
            page.goto(f"{server}/entities/subscriber/6281100000001?lang={lang}")
            page.click(
                "text="
                + (
                    "Buat kode untuk menyampaikan pengaduan"
                    if lang == "id"
                    else "Issue a code to lodge a complaint"
                )
            )
            page.wait_for_load_state()
            assert len(page.inner_text("#customer-code").strip()) == 6
            snap(page, shots, f"customer-code-{lang}-{size}")
    page.goto(f"{server}/reports/qos?quarter=2017Q1&lang=en")
    page.locator("#billing details.cases summary").click()
    page.locator(f"#billing a[href='/cases/{SEED_CASE}']").click()
    page.wait_for_url(f"**/cases/{SEED_CASE}")
    ctx.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


HOSTILE = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "javascript:window.__pwned=1",
    "\x1b[31mred\x1b[0m",
    "evil\u202egnp.exe",
]


#: the free-text fields of the export format (identifiers and references are checked by ingest)
TEXT_FIELDS = {
    "outlets.csv": ("name", "region", "city"),
    "agents.csv": ("person",),
    "subscribers.csv": ("home_region",),
    "packages.csv": ("name",),
    "consents.csv": ("evidence",),
    "charges.csv": ("description",),
    "notifications.csv": ("text",),
    "complaints.csv": ("summary",),
    "locations.csv": ("region", "city"),
}


def test_hostile_export_text_is_inert_on_every_page(
    browser, tmp_path: Path, seed_dir: Path
) -> None:
    """Every free-text field of the export (names, places, descriptions, texts, summaries) carries
    markup, a javascript: link, ANSI escapes and a right-to-left override."""
    import csv

    from tests.workbench.conftest import make_home

    src = tmp_path / "export"
    shutil.copytree(seed_dir, src)
    payload = " ".join(HOSTILE)
    for name, columns in TEXT_FIELDS.items():
        path = src / name
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            head, rows = list(reader.fieldnames or []), list(reader)
        for row in rows:
            for column in columns:
                row[column] = f"{row[column]} {payload}"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=head)
            writer.writeheader()
            writer.writerows(rows)
    home = make_home(tmp_path / "home", src)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "workbench" / "serve.py"), str(home.path), str(port)],
        env=env,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://localhost:{port}"
        ctx = browser.new_context()
        page = ctx.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, base, home, "joko")
        shown: list[str] = []
        for path in (
            "/alerts?status=all",
            "/cases",
            f"/cases/{SEED_CASE}",
            "/entities/outlet/SRG",
            "/entities/user/16009051",
            "/audit",
            "/reports/qos?quarter=2017Q1",
        ):
            page.goto(base + path)
            assert page.evaluate("window.__pwned") is None, path
            assert page.locator("img[src=x]").count() == 0, path
            assert (
                page.evaluate("document.querySelectorAll('[onerror], script:not([src])').length")
                == 0
            ), path
            assert page.locator("a[href^='javascript']").count() == 0, path
            if "evil" in page.content():
                shown.append(path.split("?")[0])
        # the subscriber's chronology: notifications, charges, consents, locations, complaint
        page.goto(f"{base}/entities/subscriber/6281100000001")
        page.fill("textarea[name=reason]", "hostile-text test")
        page.click("main form:has(textarea[name=reason]) button[type=submit]")
        page.wait_for_load_state()
        assert page.evaluate("window.__pwned") is None
        assert (
            page.evaluate("document.querySelectorAll('[onerror], script:not([src])').length") == 0
        )
        assert page.content().count("evil") >= 3, "the chronology shows the hostile texts as text"
        assert not dialogs
        # the hostile text is there, shown as text, on the pages that show those fields
        assert {
            "/alerts",
            "/entities/outlet/SRG",
            "/entities/user/16009051",
            "/reports/qos",
        } <= set(shown), shown
        ctx.close()
    finally:
        proc.terminate()
        proc.wait(10)
