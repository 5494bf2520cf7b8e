"""The customer pages' catalog: every text of ``web/customer.py`` and ``templates/customer/`` is
in it and translated into Indonesian, and the compiled ``.mo`` says what the ``.po`` says
(``make locale`` refreshes both)."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest

babel_extract = pytest.importorskip("babel.messages.extract")
from babel.messages.pofile import read_po  # noqa: E402

WEB = Path(__file__).resolve().parents[2] / "src" / "jejak" / "web"
KEYWORDS = {"_": None, "tr": None, "tr_noop": None}


def extracted() -> set[str]:
    ids: set[str] = set()
    sources = [("jinja2", p) for p in sorted((WEB / "templates" / "customer").glob("*.html"))]
    sources.append(("python", WEB / "customer.py"))
    for method, path in sources:
        options = {"trim_blocks": "True", "lstrip_blocks": "True"} if method == "jinja2" else {}
        with open(path, "rb") as fh:
            for _, msg, _, _ in babel_extract.extract(
                method, fh, keywords=KEYWORDS, options=options
            ):
                ids.add(msg[0] if isinstance(msg, tuple) else msg)
    return ids


def _catalog(lang: str) -> object:
    with open(WEB / "locale" / lang / "LC_MESSAGES" / "customer.po", "rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_customer_text_is_in_the_catalog(lang: str) -> None:
    cat = _catalog(lang)
    ids = {m.id for m in cat if m.id}  # type: ignore[attr-defined]
    missing = sorted(extracted() - ids)
    assert not missing, f"run `make locale` and translate: {missing[:10]}"
    if lang == "id":
        empty = [m.id for m in cat if m.id and not m.string]  # type: ignore[attr-defined]
        assert not empty, f"untranslated into Indonesian: {empty[:10]}"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_compiled_customer_catalogs_are_current(lang: str) -> None:
    with open(WEB / "locale" / lang / "LC_MESSAGES" / "customer.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for m in _catalog(lang):  # type: ignore[attr-defined]
        if m.id and m.string and not isinstance(m.id, tuple):
            assert mo.gettext(m.id) == m.string, f"{lang}: {m.id!r} — run `make locale`"
