"""Every error jejak raises on purpose, in one tree.

The CLI turns a :class:`JejakError` into one line on standard error and an exit
status (``exit_code``); the web layer into an HTTP status (``http_status``).
Anything else that escapes is a bug and is shown with its traceback.

::

    JejakError                     exit 2 unless noted
    ├── UsageError                 a command was called wrongly
    │   └── InvalidNumberError     a given value cannot be a subscriber's number (HTTP 422)
    ├── InputError                 an input file cannot be used at all (exit 1)
    │   ├── UnknownKindError       the file name names no record kind
    │   └── UnreadableFileError    wrong encoding, truncated Parquet, bad gzip ...
    ├── StoreError                 the event store under --home
    │   ├── StoreLockedError       another writer holds the store
    │   ├── DiskFullError          the disk ran full: says where, and what was committed
    │   └── StoreCorruptError      the manifest or a data file does not match
    ├── NotFoundError              a subscriber, alert, case or record that is not there
    ├── RuleError                  a detection rule or the rule pack is invalid
    ├── EngineError                a query engine (DuckDB, Spark, PostgreSQL) failed or is missing
    ├── LedgerError                the transparency log
    │   └── VerificationError      a proof, signature, checkpoint or tile does not verify
    │       └── ForkError          the log would sign a fork or a roll-back of what it signed
    ├── CaseError                  the dispute workflow refused an action (HTTP 409)
    │   ├── ForbiddenError         that person or role may not do it (HTTP 403)
    │   ├── StateConflictError     the case's state does not allow it (HTTP 409)
    │   │   └── StaleVersionError  someone else changed the case first (HTTP 409)
    │   └── InvalidFieldError      a field of the action is missing or wrong (HTTP 422)
    ├── AuthError                  no valid credentials (HTTP 401)
    └── DeliveryError              a notification or billing message was not delivered

Example::

    >>> from jejak.errors import UnknownKindError
    >>> err = UnknownKindError("invoices.csv", "no record kind is named 'invoices'")
    >>> str(err)
    "invoices.csv: no record kind is named 'invoices'"
"""

from __future__ import annotations


class JejakError(Exception):
    """Base of every deliberate jejak error."""

    exit_code: int = 2
    http_status: int = 500

    def __init__(self, where: str | None = None, message: str | None = None) -> None:
        if message is None:
            where, message = None, where
        self.where = where
        self.message = message or self.__class__.__doc__ or "error"
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UsageError(JejakError):
    """A command was called wrongly."""

    exit_code = 2
    http_status = 400


class InvalidNumberError(UsageError):
    """A value given as a subscriber's number cannot be one (a wrong field: HTTP 422)."""

    http_status = 422


class InputError(JejakError):
    """An input file cannot be used at all."""

    exit_code = 1
    http_status = 422


class UnknownKindError(InputError):
    """The file name names no record kind."""


class UnreadableFileError(InputError):
    """The file cannot be read (encoding, truncation, compression)."""


class StoreError(JejakError):
    """The event store cannot do what was asked."""


class StoreLockedError(StoreError):
    """Another process is writing to the store."""


class DiskFullError(StoreError):
    """The disk ran full while writing; the message says where and whether anything was committed."""

    exit_code = 1
    http_status = 507

    http_status = 409


class StoreCorruptError(StoreError):
    """The store's manifest or files do not match."""


class NotFoundError(JejakError):
    """The thing asked for is not there."""

    exit_code = 1
    http_status = 404


class RuleError(JejakError):
    """A detection rule or the rule pack is invalid."""


class EngineError(JejakError):
    """A query engine failed or is not available."""


class LedgerError(JejakError):
    """The transparency log cannot do what was asked."""


class VerificationError(LedgerError):
    """A proof, signature, checkpoint or tile does not verify."""

    exit_code = 1
    http_status = 422


class ForkError(VerificationError):
    """The log would sign a checkpoint that does not extend one it signed, or one witnessed."""

    http_status = 409


class CaseError(JejakError):
    """The dispute workflow refused an action."""

    http_status = 409


class ForbiddenError(CaseError):
    """That person or role may not do this."""

    http_status = 403


class StateConflictError(CaseError):
    """The case's state does not allow this action."""

    http_status = 409


class StaleVersionError(StateConflictError):
    """Someone else changed the case since it was read: read it again and retry."""


class InvalidFieldError(CaseError):
    """A field of the action is missing or wrong."""

    http_status = 422


class AuthError(JejakError):
    """No valid credentials: unknown or revoked token, wrong password or second factor."""

    exit_code = 1
    http_status = 401


class DeliveryError(JejakError):
    """A notification or billing message was not delivered (``permanent``: retrying cannot help)."""

    exit_code = 1
    http_status = 502

    def __init__(
        self, where: str | None = None, message: str | None = None, *, permanent: bool = False
    ) -> None:
        super().__init__(where, message)
        self.permanent = permanent
