"""Resolve: the dispute workflow, from a complaint to its end, in the open (issue 10).

One module per concept::

    models.py       the tables (SQLAlchemy 2); migrations/ makes them (Alembic, run on opening)
    db.py           the engine: SQLite under the home, or $JEJAK_DATABASE_URL (PostgreSQL)
    policy.py       deadlines, the hold's threshold, compensation, four eyes (a TOML/JSON file)
    workdays.py     Indonesian working days (public and joint holidays)
    permissions.py  the one action x role x state table, enforced in one place
    service.py      open, act, can_bar, sync, list, timeline: the library the CLI and API call
    audit.py        every action (and access) into the transparency log, and verified there
    messages.py     what the customer is told at each state change (id, en)
    users.py        staff accounts and hashed API tokens
    cli.py          `jejak case ...`, `jejak can-bar`, `jejak users ...`

Example::

    >>> from jejak.cases import Cases                          # doctest: +SKIP
    >>> cases = Cases.open("./jejak-data")                     # doctest: +SKIP
    >>> case, created = cases.open_case("TCK-2017-0206-0001")  # doctest: +SKIP
"""

from __future__ import annotations

from jejak.cases.db import Database
from jejak.cases.policy import Policy
from jejak.cases.service import Cases, case_id_for

__all__ = ["Cases", "Database", "Policy", "case_id_for"]
