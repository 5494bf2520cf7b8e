"""Subscriber numbers as people type them, made into the one form the store holds.

The operator export (``shared/spec/operator-export.md``) keeps an ``msisdn`` as E.164
digits without the ``+`` (ITU-T E.164: a country code that does not start with 0, at most
15 digits). Care staff and analysts type numbers as they see them: ``+62 811-0000-0001``,
``0811 0000 0001`` (a national number with its trunk prefix ``0``), ``(0811) 000.000.01``,
or ``0062 811 …`` (international prefix ``00``). Every input that takes a number — command
options and library calls — goes through :func:`msisdn`, so that each of those finds the
same subscriber; what cannot be a number is refused with one line that says why.

Example::

    >>> msisdn("+62 811-0000-0001")
    '6281100000001'
    >>> msisdn("081100000001")
    '6281100000001'
    >>> msisdn("0062 811 0000 0001")
    '6281100000001'
    >>> msisdn("62811x")
    Traceback (most recent call last):
    ...
    jejak.errors.InvalidNumberError: msisdn: '62811x' is not a phone number (only digits, spaces, dashes, dots, brackets and a leading + are allowed)
"""

from __future__ import annotations

import re

from jejak.errors import InvalidNumberError

#: the country code a national number (trunk prefix ``0``) is in: Indonesia, the seed operator's
DEFAULT_COUNTRY = "62"
#: E.164 digits as the export holds them (the same pattern ``validate`` checks at ingest)
E164_RE = re.compile(r"^[1-9]\d{6,14}$")
_SEPARATORS = re.compile(r"[\s\-.()/\u00a0]")


def msisdn(text: str, *, where: str = "msisdn", country: str = DEFAULT_COUNTRY) -> str:
    """``text`` as E.164 digits without ``+``; :class:`InvalidNumberError` naming ``where`` if it is no
    number. ``+CC…`` and ``00CC…`` are international, ``0…`` is national in ``country``."""
    raw = str(text)
    s = _SEPARATORS.sub("", raw.strip())
    if s.startswith("+"):
        digits = s[1:]
    elif s.startswith("00"):
        digits = s[2:]
    elif s.startswith("0"):
        digits = country + s[1:]
    else:
        digits = s
    if not digits or not digits.isascii() or not digits.isdigit():
        raise InvalidNumberError(
            where,
            f"{raw!r} is not a phone number (only digits, spaces, dashes, dots, brackets "
            "and a leading + are allowed)",
        )
    if not E164_RE.match(digits):
        raise InvalidNumberError(
            where,
            f"{raw!r} is not an E.164 number (a country code not starting with 0, "
            f"7 to 15 digits in all; read as {digits})",
        )
    return digits


def maybe_msisdn(text: str | None, *, where: str = "msisdn") -> str | None:
    """:func:`msisdn` of ``text``, or ``None`` when none is given."""
    return None if text is None or text == "" else msisdn(text, where=where)


__all__ = ["DEFAULT_COUNTRY", "E164_RE", "maybe_msisdn", "msisdn"]
