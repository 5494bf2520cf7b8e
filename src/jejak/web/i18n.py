"""The workbench in Indonesian and English: gettext catalogs, the language of a request, local times.

Every text of the workbench's pages is a ``_("...")`` in a template or a view; the catalogs live in
``web/locale/<lang>/LC_MESSAGES/workbench.po`` and are compiled to ``.mo`` beside them (``make
locale`` extracts with Babel, updates both catalogs and compiles; a test fails when a compiled
catalog is older than its source or a message is missing). The language of a request is, in order,
``?lang=``, the ``jejak_lang`` cookie, the browser's ``Accept-Language``, then Indonesian.

Times are shown in the zone of the place they happened — an outlet's ``timezone`` — and labelled
WIB, WITA or WIT (Asia/Jakarta, Asia/Makassar, Asia/Jayapura); a case's deadlines in the policy's
zone.

Example::

    >>> gettext_for("id")("Cases")
    'Kasus'
    >>> from datetime import UTC, datetime
    >>> when(datetime(2016, 7, 18, 14, 14, tzinfo=UTC), "Asia/Makassar")
    '2016-07-18 22:14 WITA'
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

LANGS = ("id", "en")
DEFAULT_LANG = "id"
DOMAIN = "workbench"
LOCALE_DIR = Path(__file__).parent / "locale"
LANG_COOKIE = "jejak_lang"
#: the zone a time is shown in when its place names none
DEFAULT_ZONE = "Asia/Jakarta"


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (read once per process; the files never change at run time)."""
    if lang not in LANGS:
        lang = DEFAULT_LANG
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=lang == "en")


def gettext_for(lang: str) -> Callable[[str], str]:
    """``_`` for ``lang``."""
    return translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    """``ngettext`` for ``lang``."""
    return translations(lang).ngettext


def negotiate(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a request: ``?lang=``, then the cookie, then Accept-Language, then ``id``."""
    for choice in (query, cookie):
        if choice in LANGS:
            return choice
    best, best_q = None, -1.0
    for part in (accept or "").split(","):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if base in LANGS and q > best_q:
            best, best_q = base, q
    return best or DEFAULT_LANG


def zone(tz: str | None) -> ZoneInfo:
    """The IANA zone ``tz``, or Jakarta's when it names none or an unknown one."""
    try:
        return ZoneInfo(tz or DEFAULT_ZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def when(at: datetime | str | None, tz: str | None = None, *, seconds: bool = False) -> str:
    """``2016-07-18 21:14 WIB``: a moment in the zone of its place (WIB, WITA or WIT)."""
    if at is None or at == "":
        return "–"
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo("UTC"))
    t = at.astimezone(zone(tz))
    return f"{t:%Y-%m-%d %H:%M:%S %Z}" if seconds else f"{t:%Y-%m-%d %H:%M %Z}"


def day(d: date | datetime | str | None, lang: str) -> str:
    """A date with its weekday in ``lang``: ``Sen 2016-07-18``."""
    if d is None:
        return "–"
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    if isinstance(d, datetime):
        d = d.date()
    names = {
        "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "id": ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"),
    }[lang if lang in LANGS else DEFAULT_LANG]
    return f"{names[d.weekday()]} {d.isoformat()}"


def idr(amount: int | None) -> str:
    """``Rp 500.000``: rupiah as Indonesians write them (the same in both languages)."""
    if amount is None:
        return "–"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")
