"""Audit: what the transparency log's entries mean, and the store checked against the log.

The log itself (:mod:`jejak.ledger`) is a pure C2SP tlog: it appends opaque
entries and proves things about them, and imports nothing of jejak but the
base. This package gives the entries their meaning, one module per concept::

    records.py  stored records -> log entries (what a store commit appends), leaf -> record
    lines.py    line sources: append-only files whose lines go to the log first, registered
                by their owners (detect's suppressions; next, the case database's actions)
    verify.py   the store and every line source against the log
    erasure.py  erasing a subscriber: a signed erasure entry first, then the data

:class:`jejak.Home` wires it: it registers :func:`~jejak.audit.records.commit_store`
and the line sources as the store's ``on_commit`` hook.

Example::

    >>> from jejak import Home                      # doctest: +SKIP
    >>> Home("./jejak-data").verify().ok            # doctest: +SKIP
    True
"""

from __future__ import annotations

from jejak.audit.erasure import Erasure, erase_subscriber, erased_leaves
from jejak.audit.lines import LineSource, add_line, commit_lines, line_entry, verify_lines
from jejak.audit.records import commit_store, leaf_of, locate
from jejak.audit.verify import verify

__all__ = [
    "Erasure",
    "LineSource",
    "add_line",
    "commit_lines",
    "commit_store",
    "erase_subscriber",
    "erased_leaves",
    "leaf_of",
    "line_entry",
    "locate",
    "verify",
    "verify_lines",
]
