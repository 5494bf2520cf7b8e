"""Data on a terminal: shown as text, never obeyed as markup or as a control sequence.

A record's fields come from an operator's export, and an export can hold
anything: an escape sequence that clears the screen or sets the window title,
a bidirectional override that reorders what the reader sees, or rich markup
(``[link=https://...]``, ``[/]``) that would become a live hyperlink or crash the
printing. Every value from data that a command prints goes through
:func:`safe` (for rich markup strings: tables, panels, messages) or
:func:`clean` (for :class:`rich.text.Text`, which takes no markup).

Example::

    >>> clean("a\\x1b[2Jb")
    'a\\\\x1b[2Jb'
    >>> safe("[link=https://example.org]x[/link]")
    '\\\\[link=https://example.org]x\\\\[/link]'
"""

from __future__ import annotations

import re

from rich.markup import escape

#: C0 and C1 controls, DEL, and the Unicode bidirectional controls (the "Trojan Source" set)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def clean(value: object) -> str:
    """``value`` as text with every control character written out (``\\x1b``), never sent."""
    return _CONTROL.sub(_visible, str(value))


def safe(value: object) -> str:
    """``value`` as text for a rich markup string: controls written out, markup escaped."""
    return escape(clean(value))


__all__ = ["clean", "safe"]
