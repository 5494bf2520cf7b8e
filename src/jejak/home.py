"""The composition root: one operator's jejak home, and the one place its parts are wired.

A home is a folder (default ``./jejak-data``, the setting ``home``) holding the
event store (:mod:`jejak.store`), the transparency log (:mod:`jejak.ledger`),
the alerts (:mod:`jejak.detect`) and the case database (:mod:`jejak.cases`, ``Home.cases``). :class:`Home`
opens them and connects them, so that none of them needs to know the others:

- the store gets an ``on_commit`` hook (run under its writer lock when a writer
  opens it, for crash catch-up, and after each commit) that commits the new
  batches (:func:`jejak.audit.records.commit_store`) and the lines waiting for
  each registered line source (:func:`jejak.audit.lines.commit_lines`: the log
  first, then the file) to the log;
- line sources are registered here by their owners' declarations
  (:meth:`register_line_source`): detect's suppressions and alert triage;
- the writes that touch several parts are methods here: :meth:`erase` (a
  signed erasure entry in the log, then the records, the lines that name the number, the
  derived alerts and lookup index) and
  :meth:`refresh_alerts` (detection, stored);
- reads never write: :meth:`investigate` reads the stored alerts and says in
  the report when they are older than the data (``alerts_source: stale``).

Example::

    >>> home = Home("./jejak-data")                          # doctest: +SKIP
    >>> home.ingest(["shared/scenarios/seed-2016"]).loaded   # doctest: +SKIP
    645
    >>> home.refresh_alerts().alerts[0].rule                 # doctest: +SKIP
    'JJK-001'
    >>> home.investigate("6281100000001").verdict.hypothesis  # doctest: +SKIP
    'credential_misuse'
    >>> home.verify().ok                                     # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from jejak import detect as D
from jejak.audit.erasure import Erasure, erase_subscriber, migrate_legacy
from jejak.audit.lines import LineSource, commit_lines
from jejak.audit.records import commit_store, leaf_of
from jejak.audit.verify import verify as verify_home
from jejak.detect.suppress import LINE_SOURCE as SUPPRESSIONS
from jejak.detect.triage import LINE_SOURCE as TRIAGE
from jejak.errors import NotFoundError, UsageError
from jejak.ingest import IngestResult, Progress
from jejak.investigate import Report, investigate
from jejak.investigate.agent import AgentActivity, agent_activity, find_alert
from jejak.investigate.audience import audience as audience_of
from jejak.investigate.lookup import LookupIndex
from jejak.investigate.render_html import forget_reports
from jejak.ledger.log import Log
from jejak.ledger.note import Verifier
from jejak.ledger.tiles import TileReader
from jejak.ledger.verify import Report as VerifyReport
from jejak.numbers import msisdn as normal_msisdn
from jejak.schema import KINDS
from jejak.settings import Settings, settings
from jejak.sqlq import ident
from jejak.store import Store, quiet

if TYPE_CHECKING:
    from jejak.cases import Cases
    from jejak.cases.policy import Policy as CasePolicy


class Home:
    """One operator's jejak home: ``Home(path)``, ``Home(Settings(...))`` or ``Home()`` (settings).

    Attributes: ``path`` (the folder), ``settings``, ``store`` (:class:`jejak.store.Store`),
    ``log`` (:class:`jejak.ledger.log.Log`), ``line_sources`` (name -> :class:`LineSource`).
    """

    def __init__(
        self,
        where: str | Path | Settings | None = None,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.settings = where if isinstance(where, Settings) else settings()
        self.path = Path(where) if isinstance(where, str | Path) else self.settings.home
        self.store = Store(
            self.path,
            memory_limit=memory_limit or self.settings.memory_limit,
            threads=threads or self.settings.threads,
        )
        self.log = Log(self.path, origin=self.settings.ledger_origin)
        self.line_sources: dict[str, LineSource] = {}
        self.register_line_source(SUPPRESSIONS)
        self.register_line_source(TRIAGE)
        self.store.on_commit.append(self._commit_to_log)
        self._cases: Cases | None = None

    def __repr__(self) -> str:
        return f"Home({str(self.path)!r})"

    @property
    def cases(self) -> Cases:
        """The case database (:mod:`jejak.cases`), opened (migrated, and any interrupted log
        commit finished) on first use, over this home's store and log."""
        if self._cases is None:
            from jejak.cases import Cases  # SQLAlchemy: imported when a case database is used

            self._cases = Cases.open(self.path, store=self.store, log=self.log)
        return self._cases

    def has_cases(self) -> bool:
        """Whether this home has a case database (without opening one)."""
        from jejak.cases.db import has_database

        return self._cases is not None or has_database(self.path)

    # ------------------------------------------------------------ wiring

    def register_line_source(self, source: LineSource) -> None:
        """Have the log commit to every line of ``source``'s file (see :mod:`jejak.audit.lines`).

        The owner of an append-only file declares it as a :class:`LineSource`; once registered,
        its owner adds lines with :func:`jejak.audit.lines.add_line` (never by writing the file),
        the store's commit hooks put them in the log and then in the file, and :meth:`verify`
        names any line of the file the log does not hold.
        """
        known = self.line_sources.get(source.name)
        if known is not None and known != source:
            raise UsageError("line source", f"{source.name!r} is registered already")
        self.line_sources[source.name] = source

    def _commit_to_log(self, con: duckdb.DuckDBPyConnection | None) -> None:
        commit_store(self.store, self.log, con)
        for source in self.line_sources.values():
            commit_lines(self.log, source)

    def writer(self) -> Any:
        """The store's one-writer lock (a context manager); commit hooks run when it opens.

        A part that adds a line to a registered line source calls
        :func:`jejak.audit.lines.add_line` (which takes this lock and runs the hooks).
        """
        return self.store.writer()

    # ------------------------------------------------------------ writes

    def ingest(
        self, paths: Iterable[str | Path], *, progress: Progress | None = None
    ) -> IngestResult:
        """Load export files and folders as one batch (:meth:`jejak.store.Store.ingest`), logged."""
        return self.store.ingest(paths, progress=progress)

    def refresh_alerts(self, **options: Any) -> D.DetectionResult:
        """Run the rule pack over the store and store its alerts (the explicit write that
        :meth:`investigate` never does); ``options`` as :func:`jejak.detect.detect`'s."""
        return D.detect(self.store, save=True, **options)

    def refresh_lookups(self) -> int:
        """Index the batches that have no lookup index (a home made by an earlier version; every
        ingest indexes its own batch); return how many data files were indexed."""
        return LookupIndex(self.store).ensure()

    def erase(self, msisdn: str, *, by: str, basis: str) -> Erasure:
        """Erase a subscriber: first a signed log entry (which leaves, when, ``by`` whom, on what
        legal ``basis``), then their records and secret, the lines of the line sources that name
        them (rewritten with ``[erased]``), and every copy derived from them (the stored alerts
        about them, the lookup index of every file rewritten, the HTML reports about them, their
        rows in the quarantine and the conflicts); every proof of the log stays valid."""
        msisdn = normal_msisdn(msisdn)
        with self.store.writer():
            done = erase_subscriber(
                self.store,
                self.log,
                msisdn,
                by=by,
                basis=basis,
                sources=self.line_sources.values(),
            )
            D.forget_subscriber(self.store, msisdn)
            forget_reports(self.path, msisdn)
            # remembered as a keyed hash (a re-ingest refuses the records); the quarantine and
            # the conflicts keep their rows with the number scrubbed
            self.store.forget(msisdn)
        return done

    def migrate_erasures(self, *, by: str, basis: str) -> list[int]:
        """Turn the unsigned ``ledger/erasures.json`` of earlier versions into a signed erasure
        entry (:func:`jejak.audit.erasure.migrate_legacy`); the leaves it covers."""
        with self.store.writer():
            return migrate_legacy(self.store, self.log, by=by, basis=basis)

    # ------------------------------------------------------------- reads

    def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        """The stored alerts as outputs.md dicts, filtered without running detection (filters:
        ``msisdn`` as typed, ``agent_id``, ``outlet_id``, ``rules``, ``severities``,
        ``min_severity``, ``since``, ``until``, ``include_suppressed``; see
        :func:`jejak.detect.alerts.stored_alerts_table`)."""
        return D.load_alerts(self.store, **filters)

    def alerts_table(self, **filters: Any) -> Any:
        """The same as a typed Arrow table (``at`` a UTC timestamp); ``.to_pandas()`` for a frame."""
        return D.stored_alerts_table(self.store, **filters)

    def agent(self, agent_id: str) -> AgentActivity:
        """Everything one user ID did and whom it touched (:func:`jejak.investigate.agent.agent_activity`)."""
        return agent_activity(self.store, agent_id)

    def alert(self, alert_id: str) -> dict[str, Any]:
        """One stored alert by its id (NotFoundError if it is not stored)."""
        return find_alert(self.store, alert_id)

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """A query over the store's views, its whole result as a typed Arrow table
        (``.to_pandas()`` for a frame).

        The result is fetched in full on a cursor of its own, which is then closed, so that the
        next query on the same home never waits for it. ``at`` is a keyword in DuckDB: quote it
        (``SELECT "at" FROM provisioning``).
        """
        cur = self.store.con.cursor()
        try:
            quiet(cur)
            result: pa.Table = cur.sql(sql, params=params or None).to_arrow_table()
            return result
        finally:
            cur.close()

    def records(self, kind: str) -> pa.Table:
        """Every stored record of one kind, in the schema's types, as an Arrow table."""
        if kind not in KINDS:
            raise NotFoundError(kind, f"no record kind of that name (one of: {', '.join(KINDS)})")
        return self.query(f"SELECT * FROM {ident(kind)}")

    def alerts_stale(self) -> bool:
        """Whether the stored alerts are missing or older than the data."""
        return not D.alerts_current(self.store)

    def investigate(
        self,
        msisdn: str | None = None,
        *,
        complaint_id: str | None = None,
        as_of: str | datetime | None = None,
        policy: Any = None,
        alerts: list[Any] | None = None,
        audience: str = "staff",
    ) -> Report:
        """The evidence report (:func:`jejak.investigate.investigate`); writes nothing.

        ``audience="customer"``: the report to hand to the subscriber, showing staff names only
        when this home's case policy does (``show_staff_names``, :mod:`jejak.cases.policy`)."""
        reader = audience_of(audience)
        if reader.customer:
            reader = audience_of("customer", show_staff_names=self.case_policy().show_staff_names)
        return investigate(
            self.store,
            msisdn,
            complaint_id=complaint_id,
            as_of=as_of,
            policy=policy,
            alerts=alerts,
            audience=reader,
        )

    def case_policy(self) -> CasePolicy:
        """The case policy in force for this home (``$JEJAK_CASE_POLICY``, ``<home>/policy.toml``
        or ``.json``, else the defaults): the one the case workflow and the customer pages read."""
        from jejak.cases.policy import Policy

        if self._cases is not None:
            return self._cases.policy
        return Policy.for_home(self.path)

    def verify(self, verifier: Verifier | None = None, *, records: bool = True) -> VerifyReport:
        """The log against its checkpoint, then every stored record, logged line and case action
        against it (each case action named in ``report.named``)."""
        cases = self.cases if records and self.has_cases() else None  # opening finishes a commit
        report = verify_home(
            self.store, self.log, self.line_sources.values(), verifier, records=records
        )
        if cases is not None and report.size:
            cases.verify(TileReader(self.log.dir, report.size), report)
        return report

    def leaf_of(self, kind: str, key: str) -> int:
        """The leaf index a stored record was committed as."""
        return leaf_of(self.store, self.log, kind, key)

    def close(self) -> None:
        if self._cases is not None:
            self._cases.close()
        self.store.close()


__all__ = ["Home"]
