"""The case policy: deadlines, the hold on disputed amounts, compensation, four eyes.

Read from a TOML or JSON file: ``$JEJAK_CASE_POLICY``, else ``<home>/policy.toml`` (or
``policy.json``) when present, else the defaults below, each documented in ``docs/cases.md``.

Example ``policy.toml``::

    decide_working_days = 10
    two_approver_amount = 2000000

Example::

    >>> Policy().decide_working_days, Policy().timezone
    (15, 'Asia/Jakarta')
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field

from jejak.policyfile import PolicyFile
from jejak.settings import settings


class Policy(PolicyFile):
    """The numbers the dispute workflow runs by (amounts in IDR)."""

    ack_working_days: int = Field(
        1, ge=0, description="Acknowledge within this many working days after the day of receipt."
    )
    decide_working_days: int = Field(
        15,
        ge=1,
        description="Decide within this many working days after the day of receipt (the service-quality standard's 15).",
    )
    timezone: str = Field("Asia/Jakarta", description="Where a day ends, for every deadline.")
    end_of_day: time = Field(time(23, 59, 59), description="When a deadline's last day ends.")
    deemed_accepted_days: int = Field(
        14,
        ge=1,
        description="Calendar days after a decision without the customer escalating, after which it is deemed accepted.",
    )
    bar_threshold: int = Field(
        100_000,
        ge=0,
        description="Undisputed arrears at or above which billing may bar a line that has an open case.",
    )
    compensation_per_day_barred: int = Field(
        50_000, ge=0, description="Compensation per started day a line was barred during its case."
    )
    two_approver_amount: int = Field(
        1_000_000,
        ge=0,
        description="Adjustments above this amount need two distinct approvers (neither the proposer).",
    )
    provisional_credit: bool = Field(
        True,
        description="Credit the disputed amount provisionally when the decision deadline passes undecided.",
    )
    show_staff_names: bool = Field(
        False,
        description="Show staff names in the customer's timeline (else only their role).",
    )
    default_language: str = Field(
        "id", description="Language of the customer's messages when the case names none (id, en)."
    )

    @classmethod
    def for_home(cls, home: str | Path) -> Policy:
        """``$JEJAK_CASE_POLICY``, else ``<home>/policy.toml`` or ``.json``, else the defaults."""
        given = settings().case_policy
        if given is not None:
            return cls.load(given)
        for name in ("policy.toml", "policy.json"):
            p = Path(home) / name
            if p.exists():
                return cls.load(p)
        return cls()
