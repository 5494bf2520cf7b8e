"""The seed subscriber's journey in a real browser (Playwright driving Debian's Chromium) on a
390 px phone in Indonesian, against a real server process and a real SMTP server; the proof
checks of ``customer-verify.js`` against a tampered database and a rolled-back or forked log;
screenshots of each customer page at 390 px and 1280 px in both languages.

Skipped with a message when /usr/bin/chromium is absent, except under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import jejak
from jejak.cases.customer import service as cust
from jejak.cases.db import sqlite_path
from jejak.ledger.log import Log
from jejak.settings import settings
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.customer.conftest import (
    SEED_CASE,
    SEED_COMPLAINT,
    SEED_EMAIL,
    SEED_MSISDN,
    Home,
    Mailbox,
    decide_and_remedy,
    free_port,
)

REPO = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}

require_chromium()

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow


def start(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The application on ``home`` as its own process (the workbench's launcher)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "workbench" / "serve.py"), str(home), str(port)],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://localhost:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("the server did not start")


@pytest.fixture
def server(customer_home: Home, mailbox: Mailbox) -> Iterator[str]:
    proc, base = start(customer_home.path)
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$JEJAK_SCREENSHOTS (``make screenshots``), else a temp folder."""
    folder = os.environ.get("JEJAK_SCREENSHOTS")
    path = Path(folder) / "customer" if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def snap(page: Any, path: Path, *, full: bool = False) -> None:
    """A screenshot, reduced to a 64-colour palette (small enough to commit under docs/)."""
    page.screenshot(path=str(path), full_page=full)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=64).save(path, optimize=True)


def wait_for(check: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def sign_in(page: Any, base: str, mailbox: Mailbox, lang: str = "id") -> None:
    """Number + ticket → the code the SMTP server caught for the e-mail on file → the case."""
    page.goto(f"{base}/pelanggan?lang={lang}")
    page.fill("input[name=msisdn]", "0811-0000-0001")
    page.fill("input[name=ticket]", SEED_COMPLAINT)
    before = len(mailbox.mails)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    # by e-mail while the line is barred both ways, by SMS (the e-mail-to-SMS gateway) after
    code = wait_for(lambda: Mailbox(0, mailbox.mails[before:]).codes(), "the code")[-1]
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/pelanggan/kasus")


def proof_result(page: Any, expect: str = "verified") -> str:
    page.wait_for_selector("#proof[data-result]", timeout=20_000)
    result = str(page.get_attribute("#proof", "data-result"))
    if result != expect:
        print("proof panel:", repr(page.inner_text("#proof")))
    return result


def test_the_seed_subscribers_journey_on_a_phone(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox, shots: Path, tmp_path: Path
) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="id-ID", accept_downloads=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )

    # his line is barred both ways: the code goes to his e-mail, never to the barred number
    sign_in(page, server, mailbox)
    to_email = [body for to, body in mailbox.mails if SEED_EMAIL in to]
    to_number = [body for to, body in mailbox.mails if any(SEED_MSISDN in t for t in to)]
    assert any("Kode masuk untuk tiket" in body for body in to_email)
    assert not any("Kode masuk" in body for body in to_number)

    # the case with its deadline, overdue; every entry verified
    text = page.inner_text("main")
    assert "Tiket TCK-2017-0206-0001" in text
    assert "Selasa, 28 Feb 2017 · 15 hari kerja sejak pengaduan Anda" in text
    assert "terlambat" in page.inner_text("#deadline")
    assert proof_result(page) == "verified"
    n = page.locator("li.entry").count()
    assert n == 6  # open, report, provisional credit (proposed, credited, sent), the bar's finding
    assert f"semua {n} entri kasus Anda ada di log publik operator" in page.inner_text("#proof")
    assert "Ini pemeriksaan pertama dari peramban ini" in page.inner_text("#proof")

    # staff decide, lift the bar and refund; he sees it all, in order, each entry verified
    decide_and_remedy(customer_home)
    page.reload()
    assert proof_result(page) == "verified"
    proof = page.inner_text("#proof")
    n = page.locator("li.entry").count()
    assert f"semua {n} entri kasus Anda ada di log publik operator" in proof
    assert "Log hanya bertambah sejak kunjungan terakhir Anda pada" in proof
    assert page.locator(".verify.ok").count() == n
    assert page.locator(".verify.bad").count() == 0
    assert "catatan internal, oleh layanan pelanggan, pada 2017-03-13 09:30 WIB" in page.inner_text(
        ".timeline"
    )
    assert "called the customer back" not in page.content()  # an internal note's text stays inside
    decision = page.inner_text(".decision")
    assert "orang dalam operator memakai ID pengguna karyawan lain" in decision
    assert "Rp 500.000" in decision
    remedy = page.inner_text(".remedy")
    assert "pengembalian dana Rp 500.000: dikreditkan ke akun Anda" in remedy
    assert "dicabut pada 2017-03-14 10:30 WIB" in remedy
    evidence = page.inner_text(".evidence")
    assert "ID pengguna petugas: 16009045" in evidence and "GraPARI Sragen" in evidence
    assert "Tidak ada persetujuan Anda yang tercatat." in evidence
    # no other subscriber's number, no staff name (the default policy shows none)
    html = page.content()
    for other in ("6281100000002", "6281100000003", "rina", "sari", "joko"):
        assert other not in html, other

    # the dossier and a receipt, downloaded; the receipt passes `jejak ledger check-receipt`
    with page.expect_download() as dl:
        page.click("a[href='/pelanggan/kasus/berkas.pdf']")
    pdf = tmp_path / "berkas.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with page.expect_download() as dl:
        page.locator("a[href$='/tanda-terima/3.tlog']").click()
    receipt = tmp_path / "3.tlog"
    dl.value.save_as(receipt)
    vkey = tmp_path / "log.vkey"
    vkey.write_text(page.request.get(f"{server}/pelanggan/kasus/log.vkey").text())
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from jejak.cli import main; main()",
            "ledger",
            "check-receipt",
            str(receipt),
            "--vkey",
            str(vkey),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert run.returncode == 0 and run.stdout.startswith("ok: the receipt proves"), (
        run.stdout + run.stderr
    )

    # decided in March 2017 and not disputed within 14 days: today the decision stands, and
    # the page offers no answer that could no longer be recorded
    assert "Keputusan ini berlaku sejak Selasa, 28 Mar 2017" in page.inner_text("#stands")
    assert page.locator("text=Saya menerima keputusan ini").count() == 0
    assert proof_result(page) == "verified"
    assert not errors, errors
    ctx.close()


# ---------------------------------------------------------------------------- tampering


def _visit(
    browser: Any, base: str, mailbox: Mailbox, state: dict[str, Any] | None = None
) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport=PHONE, locale="id-ID", storage_state=state)
    page = ctx.new_page()
    sign_in(page, base, mailbox)
    return ctx, page


def _db(home: Home) -> sqlite3.Connection:
    return sqlite3.connect(sqlite_path(home.path))


def test_an_entry_edited_in_the_database_fails_for_that_entry(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox
) -> None:
    with _db(customer_home) as con:
        con.execute(
            "UPDATE timeline_entries SET text = 'complaint withdrawn by the customer' "
            "WHERE case_id = ? AND seq = 1",
            [SEED_CASE],
        )
    ctx, page = _visit(browser, server, mailbox)
    assert proof_result(page, "failed") == "failed"
    proof = page.inner_text("#proof")
    assert "Verifikasi GAGAL" in proof
    assert "Entri ke-1: entri ini diubah setelah ditulis ke log" in proof
    assert page.locator("#v-1.bad").count() == 1 and page.locator("#v-2.ok").count() == 1
    ctx.close()


def test_an_entry_deleted_from_the_database_is_named(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox
) -> None:
    with _db(customer_home) as con:
        con.execute("DELETE FROM timeline_entries WHERE case_id = ? AND seq = 4", [SEED_CASE])
    ctx, page = _visit(browser, server, mailbox)
    assert proof_result(page, "failed") == "failed"
    assert "Entri ke-4: entri ini hilang dari riwayat kasus Anda" in page.inner_text("#proof")
    ctx.close()


def _restart(proc_base: tuple[subprocess.Popen[bytes], str] | None) -> None:
    if proc_base is not None:
        proc_base[0].terminate()
        proc_base[0].wait(10)


def test_a_log_rolled_back_to_an_older_checkpoint_is_caught(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox, tmp_path: Path
) -> None:
    ledger = customer_home.path / "ledger"
    old = tmp_path / "ledger-old"
    shutil.copytree(ledger, old)
    # a first visit sees the log as it is; then the case grows and he visits again
    ctx, page = _visit(browser, server, mailbox)
    assert proof_result(page) == "verified"
    decide_and_remedy(customer_home)
    page.reload()
    assert proof_result(page) == "verified"
    state = {"cookies": [], "origins": ctx.storage_state()["origins"]}  # what the browser kept
    ctx.close()
    # the operator puts the log back as it was before the decision
    shutil.rmtree(ledger)
    shutil.copytree(old, ledger)
    ctx, page = _visit(browser, server, mailbox, state)
    assert proof_result(page, "failed") == "failed"
    proof = page.inner_text("#proof")
    assert "Log lebih kecil daripada saat kunjungan terakhir Anda" in proof
    assert "Entri ke-7: entri ini tidak ada di log yang ditunjukkan operator sekarang" in proof
    ctx.close()


def test_a_fork_signed_with_the_same_key_fails_the_consistency_check(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox, tmp_path: Path
) -> None:
    ledger = customer_home.path / "ledger"
    old = tmp_path / "ledger-old"
    shutil.copytree(ledger, old)
    ctx, page = _visit(browser, server, mailbox)
    assert proof_result(page) == "verified"
    decide_and_remedy(customer_home)  # the real log grows
    page.reload()
    assert proof_result(page) == "verified"
    state = {"cookies": [], "origins": ctx.storage_state()["origins"]}  # what the browser kept
    ctx.close()
    # a second log, signed with the same key, forks from the old one and grows past the first
    real = Log(customer_home.path, origin=settings().ledger_origin).size
    shutil.rmtree(ledger)
    shutil.copytree(old, ledger)
    # the insider also deletes the key's memory of what it signed, or the log would refuse to
    # fork (ForkError); with no witnesses, only the customer's browser still remembers
    (customer_home.path / "keys" / "ledger.state").unlink()
    fork = Log(customer_home.path, origin=settings().ledger_origin)
    with fork.writer() as w:
        w.append([f"fork {i}".encode() for i in range(real - fork.size + 5)], {"source": "fork"})
    assert fork.size > real
    ctx, page = _visit(browser, server, mailbox, state)
    assert proof_result(page, "failed") == "failed"
    assert "Log ini bukan kelanjutan dari log yang Anda lihat pada" in page.inner_text("#proof")
    ctx.close()


def test_a_witness_cosignature_is_verified_and_a_tampered_one_fails(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox, tmp_path: Path
) -> None:
    """A witness the operator names (``keys/witnesses.vkeys``) cosigns the checkpoint: the page
    checks the cosignature/v1 signature and says so; a cosignature with one bit changed fails."""
    import base64

    from jejak.ledger.note import Signer
    from jejak.ledger.publish import cosign_log
    from jejak.ledger.witness import Witness

    log = Log(customer_home.path, origin=settings().ledger_origin)
    witness = Witness(Signer.generate("witness.example/w1"), tmp_path / "witness")
    cosigned = cosign_log(log, witness)  # the log's checkpoint file now carries the cosignature
    assert cosigned.count("\u2014 witness.example/w1 ") == 1
    (customer_home.path / "keys" / "witnesses.vkeys").write_text(f"{witness.verifier()}\n")
    ctx, page = _visit(browser, server, mailbox)
    assert proof_result(page) == "verified"
    assert "1 saksi independen ikut menandatangani log." in page.inner_text("#proof")
    ctx.close()

    # the same checkpoint, its log signature intact, one bit of the witness's signature flipped
    lines = cosigned.rstrip("\n").split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("\u2014 witness.example/w1 "))
    head, sig = lines[i].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 1
    lines[i] = f"{head} {base64.b64encode(bytes(raw)).decode()}"
    log.checkpoint_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx, page = _visit(browser, server, mailbox)
    assert proof_result(page, "failed") == "failed"
    proof = page.inner_text("#proof")
    assert "Verifikasi GAGAL" in proof
    assert "Tanda tangan saksi tidak ada atau tidak sah." in proof
    ctx.close()


# ---------------------------------------------------------------------------- screenshots


def _both(page: Any, shots: Path, name: str, lang: str, *, full: bool = False) -> None:
    """The page at a desk's and a phone's width (the same session), never scrolling sideways."""
    for width, viewport in (("desk", DESK), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1, (
            f"{name} scrolls sideways at {viewport['width']} px"
        )
        snap(page, shots / f"{name}-{lang}-{width}.png", full=full)
    page.set_viewport_size(DESK)


def _line_code(home: Home) -> str:
    """A line code, as staff hand it over at an outlet after checking identity."""
    h = jejak.Home(home.path)
    try:
        return cust.issue_staff_line_code(h.cases, SEED_MSISDN, "rina")
    finally:
        h.close()


def test_screenshots_of_each_page_in_both_languages_at_both_widths(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox, shots: Path
) -> None:
    decide_and_remedy(customer_home)
    for lang in ("id", "en"):
        ctx = browser.new_context(viewport=DESK, locale="id-ID")
        page = ctx.new_page()
        page.goto(f"{server}/pelanggan?lang={lang}")
        _both(page, shots, "signin", lang)
        # a first complaint, without a ticket: the number alone, its code, the line's charges
        page.click("a[href='/pelanggan/baru']")
        page.wait_for_url("**/pelanggan/baru")
        _both(page, shots, "new-number", lang)
        page.fill("input[name=msisdn]", "0811-0000-0001")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        _both(page, shots, "new-code", lang)
        page.fill("input[name=code]", _line_code(customer_home))
        page.click("button[type=submit]")
        page.wait_for_url("**/pelanggan/pengaduan")
        _both(page, shots, "new-lodge", lang, full=True)
        page.click("button.link")  # sign out
        page.wait_for_url("**/pelanggan")
        # the case, followed with its ticket, and lodging another complaint from it
        sign_in(page, server, mailbox, lang)
        proof_result(page)
        _both(page, shots, "case", lang, full=True)
        page.goto(f"{server}/pelanggan/pengaduan")
        _both(page, shots, "lodge", lang, full=True)
        ctx.close()


def test_a_first_complaint_lodged_decided_and_accepted_in_the_browser(
    browser: Any, server: str, customer_home: Home, mailbox: Mailbox, shots: Path
) -> None:
    """No ticket yet: the number alone, the code staff hand over (the line is barred), one of the
    line's charges picked, a ticket at once and the hold in force; staff decide; the customer
    accepts, and the entry is the customer's own ("Anda, secara online"), verified like any."""
    ctx = browser.new_context(viewport=PHONE, locale="id-ID")
    page = ctx.new_page()
    page.goto(f"{server}/pelanggan/baru")
    page.fill("input[name=msisdn]", "0811-0000-0001")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.fill("input[name=code]", _line_code(customer_home))
    page.click("button[type=submit]")
    page.wait_for_url("**/pelanggan/pengaduan")
    page.check("input[value=CH000008]")
    page.fill("textarea[name=text]", "Abonemen Maret ditagih dua kali.")
    page.click("form[action='/pelanggan/pengaduan'] button[type=submit]")
    page.wait_for_url("**/pelanggan/kasus?ok=lodged")
    ticket = page.inner_text("h1 .mono").strip()
    assert ticket.startswith("WEB-") and ticket in page.inner_text(".flash.ok")
    assert proof_result(page) == "verified"
    h = jejak.Home(customer_home.path)
    try:
        cases = h.cases
        case_id = "CASE-" + ticket
        assert cases.can_bar(SEED_MSISDN, 150_000)["allowed"] is False  # the hold, at once
        suggested = cases.get(case_id)["investigation"]
        cases.act(case_id, "rina", "acknowledge")
        cases.act(
            case_id,
            "sari",
            "decide",
            {
                "hypothesis": suggested["hypothesis"],
                "operator_liable": suggested["operator_liable"],
                "reason": "the charge was billed twice",
                "refund": 150_000,
                "compensation": 0,
            },
        )
    finally:
        h.close()
    page.goto(f"{server}/pelanggan/kasus")
    page.click("text=Saya menerima keputusan ini")
    page.wait_for_url("**/pelanggan/kasus?ok=accepted")
    assert proof_result(page) == "verified"
    last = page.locator("li.entry").last
    assert "Anda menerima keputusan ini." in last.inner_text()
    assert "Anda, secara online" in last.inner_text()
    for lang in ("id", "en"):
        page.goto(f"{server}/pelanggan/kasus?ok=accepted&lang={lang}")
        proof_result(page)
        _both(page, shots, "case-accepted", lang, full=True)
    ctx.close()
