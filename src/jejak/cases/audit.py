"""Case actions (and staff access to subscriber records) as entries of the transparency log.

Each action writes its timeline entry and a ``ledger_outbox`` row in one database transaction.
:func:`drain` appends the outbox rows to the log, as a batch, and writes their leaf index back;
it runs right after each action and whenever the case database is opened. A crash between the
log's append and the write-back is repaired by the next drain from the log's own record of the
append (its line in ``appends.jsonl``: ``{"source": "cases", "outbox": [[first_id, last_id], ...]}``), so an
action is, after a restart, in both the database and the log or in neither.

The leaf holds a keyed commitment to the entry, never the entry (it may name a subscriber), in
the format of :mod:`jejak.ledger.lines`::

    entry = "case" || 0x20 || SHA-256( store secret || 0x1F || canonical JSON of the entry )

:func:`verify_cases` recomputes every logged entry against its leaf and names each one, so that
``jejak ledger verify`` reports an edited, removed or unlogged case action.

**Group commit.** Each log append costs a few fsyncs (about 10 ms here) however many entries it
holds, so one append per action would cap a server at about a hundred actions a second. An
action therefore waits only until *its own* outbox rows are in the log (:func:`drain` with
``through``): one thread of the process appends everything pending while the others queue
behind it, and each of them, when its turn comes, usually finds its rows already appended by
the one before and returns at once. Between processes (``jejak serve --workers N``) the log's
own lock does the same. A caller that finds nothing pending never touches the log.

**Drained soon, by a thread of the process** (:class:`Drainer`). Reading a case records the
access in the database (access log and outbox row, one transaction) before anything is shown;
a request that only reads need not wait for the log as well: it calls :meth:`Drainer.soon` and
returns, and the process's drain thread appends whatever is pending, many readers' records in one
append. The record is in the database when the response leaves, and in the log a drain later
(:attr:`Drainer.LINGER`, a quarter of a second); a crash in between is the case above (the next drain — every open of the case
database runs one — appends it). The thread holds nothing but a wake-up flag: what is pending is
read from the outbox, so any worker's thread appends any worker's rows.

**Access records** (``source`` ``access2``) commit to the reason given for opening a
subscriber's records too; rows logged by an earlier release (``access``) keep the form they
were logged in, so they still verify.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ARRAY, BigInteger, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from jejak.audit.lines import line_entry
from jejak.cases.db import Prepared
from jejak.cases.models import AccessLog, LedgerOutbox, TimelineEntry
from jejak.commitments import store_secret
from jejak.ledger import merkle as M
from jejak.ledger.log import Log

if TYPE_CHECKING:
    from jejak.cases.db import Database
    from jejak.ledger.tiles import TileReader
    from jejak.ledger.verify import Report

logger = logging.getLogger("jejak.cases.audit")
SOURCE = "cases"  # the appends' source name
BATCH = 20_000


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def canonical_entry(e: TimelineEntry | Any) -> bytes:
    """The bytes of a timeline entry (an ORM object or a row of ``timeline_entries``) that the
    log commits to (not its ``ledger_index``)."""
    doc = {
        "case_id": e.case_id,
        "seq": e.seq,
        "at": _iso(e.at),
        "action": e.action,
        "actor": e.actor,
        "actor_role": e.actor_role,
        "public": e.public,
        "text": e.text,
        "payload": e.payload,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_access(a: AccessLog | Any, *, with_reason: bool = True) -> bytes:
    """The bytes of an access record that the log commits to; ``with_reason=False`` for rows
    an earlier release logged (outbox source ``access``), which did not commit to the reason."""
    doc: dict[str, Any] = {
        "at": _iso(a.at),
        "user": a.user_name,
        "role": a.role,
        "msisdn": a.msisdn,
        "case_id": a.case_id,
        "what": a.what,
        "via": a.via,
    }
    if with_reason:
        doc["reason"] = a.reason
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


#: the outbox sources: a timeline entry, an access record (with its reason), an older one
CASE, ACCESS, ACCESS_V1 = "case", "access2", "access"


_OUTBOX_INSERT = Prepared(insert(LedgerOutbox).returning(LedgerOutbox.id))


def enqueue(s: Session, source: str, ref: int, at: datetime) -> int:
    """Queue the timeline entry or access record ``ref`` for the log, in the caller's
    transaction; the outbox id is kept in the session (:func:`queued`)."""
    oid = _OUTBOX_INSERT.insert(s, {"source": source, "ref": ref, "created_at": at})
    queued_as(s, oid)
    return oid


def queued_as(s: Session, oid: int) -> None:
    """Keep the outbox id ``oid``, written by the caller in this transaction, as queued."""
    s.info.setdefault("ledger_outbox", []).append(oid)


def queued(s: Session) -> list[int]:
    """The outbox ids this session's transaction queued (to wait for with ``drain(through=…)``)."""
    return list(s.info.get("ledger_outbox", ()))


def _runs(ids: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] + 1 == i:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _expand(runs: Iterable[list[int]]) -> list[int]:
    return [i for a, b in runs for i in range(a, b + 1)]


def _contents(s: Any, rows: Sequence[Any]) -> dict[int, bytes | None]:
    """outbox id -> the canonical bytes of what it points at (None when that is gone).

    The rows are read as plain rows (Core), not ORM objects: the canonical forms read
    attributes only, and a drain runs once per group of actions on the hot path."""
    conn = s.connection()
    case_refs = [r.ref for r in rows if r.source == CASE]
    access_refs = [r.ref for r in rows if r.source != CASE]
    entries: dict[int, Any] = {}
    access: dict[int, Any] = {}
    te, al = TimelineEntry.__table__, AccessLog.__table__
    for chunk in range(0, len(case_refs), 5000):
        ids = case_refs[chunk : chunk + 5000]
        entries.update({e.id: e for e in conn.execute(select(te).where(te.c.id.in_(ids)))})
    for chunk in range(0, len(access_refs), 5000):
        ids = access_refs[chunk : chunk + 5000]
        access.update({a.id: a for a in conn.execute(select(al).where(al.c.id.in_(ids)))})
    out: dict[int, bytes | None] = {}
    for r in rows:
        if r.source == CASE:
            e = entries.get(r.ref)
            out[r.id] = canonical_entry(e) if e is not None else None
        else:
            a = access.get(r.ref)
            out[r.id] = (
                canonical_access(a, with_reason=r.source != ACCESS_V1) if a is not None else None
            )
    return out


def _write_back(db: Database, pairs: list[tuple[Any, int]]) -> None:
    """Record each outbox row's leaf index in it and in the timeline entry it names."""
    if not pairs:
        return
    outbox = [(r.id, li) for r, li in pairs]
    entries = [(r.ref, li) for r, li in pairs if r.source == CASE]
    with db.write() as s:
        conn = s.connection()
        for name, rows in (("ledger_outbox", outbox), ("timeline_entries", entries)):
            if not rows:
                continue
            if conn.dialect.name == "postgresql":
                # one statement for the batch: an UPDATE per row cost psycopg more CPU than
                # the actions it logs (docs/benchmarks.md, issue 10)
                conn.execute(_INDEXES_FROM_ARRAYS[name], _arrays(rows))
            else:
                conn.execute(_INDEX_BY_ID[name], [{"rid": i, "li": li} for i, li in rows])


def _index_updates() -> tuple[dict[str, Any], dict[str, Any]]:
    by_id: dict[str, Any] = {}
    from_arrays: dict[str, Any] = {}
    for table in (cast(Table, LedgerOutbox.__table__), cast(Table, TimelineEntry.__table__)):
        by_id[table.name] = (
            update(table).where(table.c.id == bindparam("rid")).values(ledger_index=bindparam("li"))
        )
        pairs = select(
            func.unnest(bindparam("rids", type_=ARRAY(BigInteger))).label("rid"),
            func.unnest(bindparam("lis", type_=ARRAY(BigInteger))).label("li"),
        ).subquery("v")
        from_arrays[table.name] = (
            update(table).where(table.c.id == pairs.c.rid).values(ledger_index=pairs.c.li)
        )
    return by_id, from_arrays


#: ``UPDATE … SET ledger_index = :li WHERE id = :rid``, run for many; PostgreSQL: ``UPDATE …
#: FROM (SELECT unnest(:rids), unnest(:lis)) v WHERE id = v.rid``, one statement for them all
_INDEX_BY_ID, _INDEXES_FROM_ARRAYS = _index_updates()


def _arrays(rows: list[tuple[int, int]]) -> dict[str, list[int]]:
    return {"rids": [i for i, _ in rows], "lis": [li for _, li in rows]}


def _pending(db: Database, limit: int) -> list[Any]:
    """The outbox rows (``id``, ``source``, ``ref``) not in the log yet, oldest first."""
    t = LedgerOutbox
    with db.read() as s:
        return list(
            s.execute(
                select(t.id, t.source, t.ref)
                .where(t.ledger_index.is_(None))
                .order_by(t.id)
                .limit(limit)
            )
        )


def _recover(db: Database, log: Log, pending: list[Any]) -> list[Any]:
    """Write back the leaf index of outbox rows the log took before a crash stopped the
    write-back; return the rest of ``pending`` (what the log does not hold)."""
    if not pending:
        return pending
    by_id = {r.id: r for r in pending}
    low = pending[0].id
    pairs: list[tuple[Any, int]] = []
    for a in reversed(log.appends()):
        if a.get("source") != SOURCE:
            continue
        ids = _expand(a["outbox"])
        for k, oid in enumerate(ids):
            if oid in by_id:
                pairs.append((by_id[oid], a["first"] + k))
        if ids and ids[-1] < low:
            break
    if not pairs:
        return pending
    _write_back(db, pairs)
    done = {r.id for r, _ in pairs}
    return [r for r in pending if r.id not in done]


#: one appending thread per process; the others wait here for it (group commit)
_appender = threading.Lock()
#: outbox ids this process's drains appended and whose callers have not asked about them yet
#: (guarded by ``_appender``): a waiting thread whose rows the drain before it took along
#: returns without reading the database; bounded, oldest forgotten first (a forgotten id is
#: only asked about in the database, never taken for unlogged)
_appended: dict[tuple[str, str | None, int], None] = {}
_APPENDED_MAX = 100_000


def _took(db: Database, ids: Iterable[int]) -> None:
    url, schema = db.url, db.schema
    for i in ids:
        _appended[(url, schema, i)] = None
    while len(_appended) > _APPENDED_MAX:
        del _appended[next(iter(_appended))]


def _taken(db: Database, ids: Sequence[int]) -> bool:
    """Whether this process's drains appended all of ``ids`` (forgotten once asked)."""
    url, schema = db.url, db.schema
    if not all((url, schema, i) in _appended for i in ids):
        return False
    for i in ids:
        del _appended[(url, schema, i)]
    return True


def _unlogged(db: Database, ids: Sequence[int] | None) -> bool:
    """Whether any outbox row (of ``ids``, when given) is still waiting for the log."""
    t = LedgerOutbox
    q = select(func.count()).select_from(t).where(t.ledger_index.is_(None))
    if ids is not None:
        q = q.where(t.id.in_(list(ids)))
    with db.read() as s:
        return bool(s.scalar(q))


def drain(
    db: Database, log: Log, *, limit: int = BATCH, through: Sequence[int] | None = None
) -> int:
    """Append every outbox row the log does not hold yet; return how many were appended.

    With ``through`` (outbox ids), return as soon as those rows are in the log: when a thread
    appending before this one took them along, without appending anything.
    """
    if through is not None and not through:
        return 0
    with _appender:
        if through is not None and _taken(db, through):
            return 0
        if not _unlogged(db, through):
            return 0
        return _drain(db, log, limit)


def _drain(db: Database, log: Log, limit: int) -> int:
    home = log.home
    done = 0
    with log.writer() as w:
        rows = _recover(db, log, _pending(db, limit))
        secret = store_secret(Path(home))
        while rows:
            with db.read() as s:
                contents = _contents(s, rows)
                # what goes into the log must be on the database's disk first (commits do not
                # wait for it: jejak.cases.db); one flush for the whole batch, at the commit of
                # this transaction on PostgreSQL
                db.make_durable(s)
            entries = []
            for r in rows:
                data = contents[r.id]
                if data is None:  # the outbox names an entry that is gone: nothing to commit
                    raise RuntimeError(f"ledger outbox row {r.id} names a missing {r.source} row")
                entries.append(line_entry(_entry_source(r.source), secret, data))
            first, _ = w.append(entries, {"source": SOURCE, "outbox": _runs([r.id for r in rows])})
            _write_back(db, [(r, first + k) for k, r in enumerate(rows)])
            _took(db, (r.id for r in rows))
            done += len(rows)
            # fewer than a batch: rows queued since are taken by their own callers' drains
            rows = _pending(db, limit) if len(rows) == limit else []
    return done


class Drainer:
    """One thread of this process appending the outbox to the log soon after each :meth:`soon`.

    Example::

        >>> drainer = Drainer(db, log)        # doctest: +SKIP
        >>> drainer.soon()                    # returns at once; the thread drains
        >>> drainer.close()                   # the thread stops; nothing is left pending
    """

    #: seconds before a failed drain is tried again (its rows stay queued meanwhile)
    RETRY = 2.0
    #: seconds the thread waits after a wake-up, so that one append takes the records of
    #: every request in between (each append costs a few fsyncs, whatever it holds)
    LINGER = 0.25

    def __init__(self, db: Database, log: Log) -> None:
        self.db, self.log = db, log
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False

    def soon(self) -> None:
        """Have the outbox appended to the log shortly, without waiting for it."""
        with self._guard:
            if self._closed:  # no thread any more: the caller drains
                drain(self.db, self.log)
                return
            alive = self._thread is not None and self._thread.is_alive()
            if not alive or self._pid != os.getpid():  # a forked child has no thread
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="jejak-log-drain", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.wait(self.LINGER):
                return
            self._wake.clear()  # before draining: a row committed from now on wakes it again
            try:
                drain(self.db, self.log)
            except Exception:  # the rows stay queued: try again a little later
                logger.exception("appending the case outbox to the log failed; retrying")
                self._stop.wait(self.RETRY)
                self._wake.set()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread, then append what it left pending (nothing to do when none ran)."""
        with self._guard:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        if thread is not threading.current_thread():
            thread.join(timeout)
        drain(self.db, self.log)


def _entry_source(source: str) -> str:
    return "case" if source == CASE else "access"


def verify_cases(
    db: Database, log: Log, reader: TileReader, report: Report
) -> list[dict[str, Any]]:
    """Re-hash every logged case action and access against its leaf; problems go to ``report``.

    Returns one ``{leaf, case_id, seq, action}`` (or ``{leaf, access, msisdn}``) per entry.
    """
    from jejak.ledger.verify import Problem

    home = log.home
    covered: dict[int, int] = {}
    for a in log.appends():
        if a.get("source") == SOURCE:
            for k, oid in enumerate(_expand(a["outbox"])):
                covered[oid] = a["first"] + k
    secret = store_secret(Path(home))
    named: list[dict[str, Any]] = []
    where = "cases"
    with db.read() as s:
        rows = {r.id: r for r in s.scalars(select(LedgerOutbox).order_by(LedgerOutbox.id))}
        contents = _contents(s, list(rows.values()))
        entries = {e.id: e for e in s.scalars(select(TimelineEntry))}
        access = {a.id: a for a in s.scalars(select(AccessLog))}
        for oid, leaf in covered.items():
            if leaf >= reader.size:
                continue
            r = rows.get(oid)
            data = contents.get(oid) if r is not None else None
            if r is None or data is None:
                report.problems.append(
                    Problem(
                        "deleted", where, f"logged case record (outbox {oid}) is gone", leaf=leaf
                    )
                )
                continue
            name = _name(r, entries, access)
            got = M.leaf_hash(line_entry(_entry_source(r.source), secret, data))
            if got != reader.leaf_hash(leaf):
                report.problems.append(
                    Problem(
                        "edited", where, f"{_label(name)} does not match leaf {leaf}", leaf=leaf
                    )
                )
            elif r.ledger_index is not None and r.ledger_index != leaf:
                report.problems.append(
                    Problem(
                        "edited",
                        where,
                        f"{_label(name)} says leaf {r.ledger_index}, is {leaf}",
                        leaf=leaf,
                    )
                )
            report.records += 1
            named.append({"leaf": leaf, **name})
        logged_refs = {(r.source, r.ref) for r in rows.values()}
        for r in rows.values():
            if r.id not in covered:
                report.problems.append(
                    Problem(
                        "unlogged", where, f"{_label(_name(r, entries, access))} is not in the log"
                    )
                )
        for e in entries.values():
            if (CASE, e.id) not in logged_refs:
                report.problems.append(
                    Problem("unlogged", where, f"{e.case_id} #{e.seq} {e.action} has no log record")
                )
    named.sort(key=lambda n: n["leaf"])
    return named


def _name(
    r: LedgerOutbox, entries: dict[int, TimelineEntry], access: dict[int, AccessLog]
) -> dict[str, Any]:
    if r.source == CASE:
        e = entries.get(r.ref)
        if e is None:
            return {"outbox": r.id}
        return {"case_id": e.case_id, "seq": e.seq, "action": e.action}
    a = access.get(r.ref)
    if a is None:
        return {"outbox": r.id}
    return {"access": a.what, "user": a.user_name, "case_id": a.case_id}


def _label(name: dict[str, Any]) -> str:
    if "seq" in name:
        return f"{name['case_id']} #{name['seq']} {name['action']}"
    if "access" in name:
        return f"access {name['access']} by {name['user']}"
    return f"outbox row {name.get('outbox')}"
