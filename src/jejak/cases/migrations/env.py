"""Alembic environment for the case database; run by :func:`jejak.cases.db.migrate`.

The connection comes from ``config.attributes["connection"]`` (the application's engine), so
that the migrations run in the schema and database the application uses.
"""

from __future__ import annotations

from alembic import context

from jejak.cases.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the case migrations through jejak.cases.db.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
