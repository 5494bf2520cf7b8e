"""The Alembic migrations make exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import jejak.cases.customer.models  # the customer side's codes and contacts, in the same database
import jejak.web.models  # noqa: F401  (the workbench's sessions table lives in the same database)
from jejak.cases.db import Database
from jejak.cases.models import Base


def test_migrations_match_the_models(tmp_path: Path, backend: str | None) -> None:
    db = Database.open(tmp_path / "home")
    try:
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == [], diff
        assert set(Base.metadata.tables) <= set(db.tables())
        db.migrate()  # at the newest already: nothing to do, nothing fails
    finally:
        db.dispose()
