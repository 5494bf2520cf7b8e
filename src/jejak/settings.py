"""Settings, declared once: each one typed, defaulted and documented here.

Every setting can be given as an environment variable ``JEJAK_<NAME>`` (for
example ``JEJAK_HOME=/srv/jejak``); a command-line option, where one exists,
wins over the environment. ``docs/settings.md`` lists them all, and a test
fails when one is missing there.

Example::

    >>> from jejak.settings import Settings
    >>> Settings(home="/srv/jejak").memory_limit
    '1GB'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """jejak's settings (environment prefix ``JEJAK_``)."""

    model_config = SettingsConfigDict(env_prefix="JEJAK_", extra="ignore", frozen=True)

    home: Path = Field(
        Path("./jejak-data"),
        description="Folder holding one operator's store, alerts, cases and ledger.",
    )
    memory_limit: str = Field(
        "1GB",
        description="Most memory DuckDB may use for one command; it spills to disk beyond it.",
    )
    threads: int | None = Field(None, description="Threads DuckDB may use; default: one per core.")
    pg_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/test",
        description="PostgreSQL URL for `jejak detect --engine postgres` (and the case database in production).",
    )
    spark_master: str = Field(
        "local[*]", description="Spark master URL for `jejak detect --engine spark`."
    )
    spark_driver_memory: str = Field(
        "2g", description="Memory of the Spark driver for `jejak detect --engine spark`."
    )
    ledger_origin: str = Field(
        "jejak.example/operator",
        description="The transparency log's origin line: the name its checkpoints are signed for.",
    )
    shift_tolerance_minutes: int = Field(
        15,
        ge=0,
        description="Minutes before a shift starts or after it ends (and around opening hours) "
        "in which detection treats work as ordinary: staff log in early and finish the last customer.",
    )
    shift_tolerance_max_minutes: int = Field(
        60,
        ge=0,
        description="Most a person's own habit (the 75th percentile of her early log-ins and late "
        "log-outs over at least five shifts) may widen her shift tolerance.",
    )
    database_url: str | None = Field(
        None,
        description="The case database (SQLAlchemy URL, e.g. postgresql+psycopg://...); default: SQLite at <home>/cases/cases.db.",
    )
    case_policy: Path | None = Field(
        None,
        description="The case policy file (TOML or JSON); default: <home>/policy.toml if present, else the documented defaults.",
    )
    debug: bool = Field(False, description="Show full tracebacks instead of one-line errors.")
    crash_at: str | None = Field(
        None,
        description="For the crash tests only: kill the process at the named crash point (jejak.fsio.crash_point).",
    )
    notify_adapter: Literal["file", "smtp", "webhook"] = Field(
        "file",
        description="How messages to customers are delivered: `file` (JSONL under <home>/outbox), `smtp` or `webhook` (an SMS gateway).",
    )
    notify_file: Path | None = Field(
        None,
        description="The JSONL file the `file` adapter appends customer messages to; default: <home>/outbox/notifications.jsonl.",
    )
    notify_webhook_url: str | None = Field(
        None, description="The URL the `webhook` adapter POSTs customer messages to."
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server for the `smtp` adapter.")
    smtp_port: int = Field(25, description="Port of the SMTP server.")
    smtp_sender: str = Field(
        "jejak@localhost", description="The From address of messages sent by SMTP."
    )
    smtp_recipient_domain: str | None = Field(
        None,
        description="Domain of an e-mail-to-SMS gateway: a customer's number N is mailed to N@domain.",
    )
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = Field(None, description="SMTP user name, when the server asks.")
    smtp_password: str | None = Field(None, description="SMTP password, when the server asks.")
    billing_adapter: Literal["file", "webhook"] = Field(
        "file",
        description="How approved adjustments reach billing: `file` (JSONL under <home>/outbox) or `webhook`.",
    )
    billing_file: Path | None = Field(
        None,
        description="The JSONL file billing reads approved adjustments from; default: <home>/outbox/billing.jsonl.",
    )
    billing_webhook_url: str | None = Field(
        None, description="The URL the `webhook` adapter POSTs approved adjustments to."
    )
    webhook_token: str | None = Field(
        None,
        description="Bearer token sent with every webhook POST (customer messages and billing).",
    )
    webhook_timeout: float = Field(5.0, description="Seconds to wait for a webhook's answer.")
    webhook_retries: int = Field(
        3, description="Retries of one webhook POST within a drain, with exponential backoff."
    )
    api_accepts_times: bool = Field(
        False,
        description="Let API clients give an action's time (`at`), to replay a past case; never in production.",
    )
    delivery_max_attempts: int = Field(
        5,
        description="Drains that may try one message before it is marked failed with its last reason.",
    )


_made: tuple[tuple[tuple[str, str], ...], Settings] | None = None


def settings() -> Settings:
    """The settings in force now: read from the environment, made again whenever a ``JEJAK_``
    variable changed since the last call (building them costs milliseconds; looking at the
    environment, microseconds: the log's hot path asks on every append)."""
    global _made
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k[:6].upper() == "JEJAK_"))
    made = _made
    if made is None or made[0] != env:
        made = _made = (env, Settings())
    return made[1]
