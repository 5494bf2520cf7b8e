"""What every browser test shares: Debian's Chromium, the flags it needs here, and the rule that
a machine without it skips (with a message) but CI does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
#: without the background-networking flags Chromium's own connections are refused, many at a time
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip the calling test module when there is no browser; under ``CI=true`` fail instead."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{CHROMIUM} is missing: under CI=true the browser tests must run")
    pytest.skip(
        f"no browser at {CHROMIUM}: install Debian's chromium to run these", allow_module_level=True
    )
