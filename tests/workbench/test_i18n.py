"""The catalogs: every text of the pages is in both, translated into Indonesian, and the
compiled ``.mo`` files say what their ``.po`` sources say (``make locale`` refreshes them)."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from pathlib import Path

import pytest

babel_extract = pytest.importorskip("babel.messages.extract")
from babel.messages.pofile import read_po  # noqa: E402

from jejak.cases.permissions import views_table  # noqa: E402
from jejak.web import i18n  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "src" / "jejak" / "web"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> set[str]:
    ids: set[str] = set()
    for path in sorted((WEB / "templates").glob("*.html")):
        with open(path, "rb") as fh:
            for _, msg, _, _ in babel_extract.extract(
                "jinja2",
                fh,
                keywords=KEYWORDS,
                options={"trim_blocks": "True", "lstrip_blocks": "True"},
            ):
                ids.add(msg[0] if isinstance(msg, tuple) else msg)
    for path in sorted(WEB.rglob("*.py")):
        with open(path, "rb") as fh:
            for _, msg, _, _ in babel_extract.extract("python", fh, keywords=KEYWORDS):
                ids.add(msg[0] if isinstance(msg, tuple) else msg)
    return ids


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_page_text_is_in_the_catalog(lang: str) -> None:
    with open(WEB / "locale" / lang / "LC_MESSAGES" / "workbench.po", "rb") as fh:
        cat = read_po(fh)
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in cat if m.id}
    missing = sorted(extracted() - ids)
    assert not missing, f"run `make locale` and translate: {missing[:10]}"
    if lang == "id":
        empty = [
            m.id
            for m in cat
            if m.id and not (m.string[0] if isinstance(m.string, tuple) else m.string)
        ]
        assert not empty, f"untranslated into Indonesian: {empty[:10]}"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_compiled_catalogs_are_current(lang: str) -> None:
    folder = WEB / "locale" / lang / "LC_MESSAGES"
    with open(folder / "workbench.po", "rb") as fh:
        cat = read_po(fh)
    with open(folder / "workbench.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for m in cat:
        if not m.id or isinstance(m.id, tuple) or not m.string:
            continue
        assert mo.gettext(m.id) == m.string, f"{lang}: {m.id!r} — run `make locale`"


def test_times_are_shown_in_the_zone_of_their_place() -> None:
    t = datetime(2016, 7, 18, 14, 14, tzinfo=UTC)
    assert i18n.when(t, "Asia/Jakarta") == "2016-07-18 21:14 WIB"
    assert i18n.when(t, "Asia/Makassar") == "2016-07-18 22:14 WITA"
    assert i18n.when(t, "Asia/Jayapura") == "2016-07-18 23:14 WIT"


def test_language_is_chosen_by_query_then_cookie_then_browser() -> None:
    assert i18n.negotiate("en", "id", "id") == "en"
    assert i18n.negotiate(None, "en", "id") == "en"
    assert i18n.negotiate(None, None, "en-GB,en;q=0.9,id;q=0.5") == "en"
    assert i18n.negotiate(None, None, "fr") == "id"
    assert i18n.negotiate("xx", None, None) == "id"


def test_the_views_table_is_in_the_docs() -> None:
    assert views_table() in (REPO / "docs" / "cases.md").read_text(encoding="utf-8")
