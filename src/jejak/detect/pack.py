"""The rule pack: one SQL file per rule in ``src/jejak/rules/``, its metadata in a header.

A rule file starts with a block of ``-- key: value`` comment lines (a value may
continue on following ``--   `` lines), then one DuckDB ``SELECT``::

    -- id: JJK-010
    -- title: Activation without verified consent
    -- severity: high
    -- meaning: ...
    -- evidence: event_id, consent_id
    -- false_positives: ...
    -- references: ...
    -- triage: ...
    -- slice: agent_id within 0
    SELECT ... AS at, agent_id, msisdn, outlet_id, record_ids, explanation FROM ...

``record_ids`` is a ``;``-separated text of evidence record ids (portable
across engines; split and sorted in Python). The pack is validated as a whole:
unique ids, known severities, every required header, a SELECT that sqlglot
parses and returns the required columns, a version lock in ``versions.json``
whose sha256 matches the SQL, and fixtures for every rule.

Example::

    >>> pack = load_pack()
    >>> pack.get("JJK-010").severity
    'high'
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import sqlglot
from sqlglot import exp

from jejak.detect.slices import TABLES, Slice, parse_slice
from jejak.errors import NotFoundError, RuleError

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
FIXTURES_DIR = RULES_DIR / "fixtures"
VERSIONS_PATH = RULES_DIR / "versions.json"

SEVERITIES = ("low", "medium", "high", "critical")
REQUIRED_HEADERS = (
    "id",
    "title",
    "severity",
    "meaning",
    "evidence",
    "false_positives",
    "references",
    "triage",
    "slice",
)
REQUIRED_COLUMNS = ("at", "agent_id", "msisdn", "outlet_id", "record_ids", "explanation")
OPTIONAL_COLUMNS = ("severity",)
ENGINES = ("duckdb", "spark", "postgres")
_HEADER = re.compile(r"^--\s?([a-z_]+):\s*(.*)$")
_CONT = re.compile(r"^--\s{2,}(.*)$")
_ID = re.compile(r"^JJK-\d{3}$")


def severity_rank(severity: str) -> int:
    """0 for low … 3 for critical."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Rule:
    """One detection rule: its header and its SQL (DuckDB dialect)."""

    id: str
    title: str
    severity: str
    meaning: str
    evidence: str
    false_positives: str
    references: str
    triage: str
    slice: str
    sql: str
    path: Path
    headers: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def sha256(self) -> str:
        """Content hash of the rule file (header and SQL): a change needs a version bump."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @cached_property
    def ast(self) -> exp.Query:
        try:
            tree = sqlglot.parse_one(self.sql, read="duckdb")
        except sqlglot.errors.ParseError as exc:
            raise RuleError(str(self.path), f"the SQL does not parse: {exc}") from exc
        if not isinstance(tree, exp.Query):
            raise RuleError(str(self.path), "a rule must be one SELECT")
        return tree

    def transpile(self, engine: str) -> str:
        """The rule's SQL for ``engine`` (``duckdb``, ``spark`` or ``postgres``)."""
        if engine == "duckdb":
            return self.sql
        if engine not in ENGINES:
            raise RuleError(self.id, f"unknown engine {engine!r}")
        try:
            return self.ast.sql(dialect=engine, unsupported_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.UnsupportedError as exc:
            raise RuleError(self.id, f"cannot transpile to {engine}: {exc}") from exc

    @property
    def fixtures(self) -> Path:
        return FIXTURES_DIR / self.id

    @cached_property
    def scope(self) -> Slice:
        """The parsed ``slice`` header (:mod:`jejak.detect.slices`)."""
        return parse_slice(self.slice, str(self.path))

    @cached_property
    def tables(self) -> tuple[str, ...]:
        """The tables (record kinds and derived tables) the SQL reads, sorted."""
        ctes = {c.alias_or_name for c in self.ast.find_all(exp.CTE)}
        return tuple(sorted({t.name for t in self.ast.find_all(exp.Table)} - ctes))

    def with_tables(self, names: dict[str, str]) -> str:
        """The rule's SQL (DuckDB) reading ``names[t]`` wherever it reads table ``t``."""
        ctes = {c.alias_or_name for c in self.ast.find_all(exp.CTE)}
        tree = self.ast.copy()
        for t in tree.find_all(exp.Table):
            if t.name in names and t.name not in ctes:
                if not t.alias:
                    t.set("alias", exp.TableAlias(this=exp.to_identifier(t.name)))
                t.set("this", exp.to_identifier(names[t.name]))
        return tree.sql(dialect="duckdb")


def parse_rule(path: Path) -> Rule:
    """Read one rule file; raises :class:`RuleError` naming the file on any defect."""
    text = path.read_text(encoding="utf-8")
    headers: dict[str, str] = {}
    last: str | None = None
    body: list[str] = []
    in_header = True
    for line in text.splitlines():
        if in_header:
            m = _HEADER.match(line)
            if m:
                last = m.group(1)
                if last in headers:
                    raise RuleError(str(path), f"header {last!r} given twice")
                headers[last] = m.group(2).strip()
                continue
            c = _CONT.match(line)
            if c and last:
                headers[last] = (headers[last] + " " + c.group(1).strip()).strip()
                continue
            if not line.strip() or line.strip() == "--":
                continue
            in_header = False
        body.append(line)
    missing = [h for h in REQUIRED_HEADERS if not headers.get(h)]
    if missing:
        raise RuleError(str(path), f"missing header(s): {', '.join(missing)}")
    if not _ID.match(headers["id"]):
        raise RuleError(str(path), f"rule id {headers['id']!r} is not like JJK-001")
    if headers["severity"] not in SEVERITIES:
        raise RuleError(str(path), f"unknown severity {headers['severity']!r}")
    sql = "\n".join(body).strip().rstrip(";")
    if not sql:
        raise RuleError(str(path), "no SQL after the header")
    known = {h: headers[h] for h in REQUIRED_HEADERS}
    rule = Rule(**known, sql=sql, path=path, headers=headers)
    _check_columns(rule)
    _check_slice(rule)
    return rule


def _check_columns(rule: Rule) -> None:
    tree = rule.ast
    names = [s.alias_or_name for s in tree.selects]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise RuleError(str(rule.path), f"the SELECT lacks column(s): {', '.join(missing)}")
    extra = [n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if extra:
        raise RuleError(str(rule.path), f"the SELECT returns unknown column(s): {', '.join(extra)}")


def _check_slice(rule: Rule) -> None:
    scope = rule.scope
    unknown = [t for t in rule.tables if t not in TABLES]
    if unknown:
        raise RuleError(str(rule.path), f"reads table(s) no slice knows: {', '.join(unknown)}")
    unread = [t for t in scope.whole if t not in rule.tables]
    if unread:
        raise RuleError(
            str(rule.path), f"slice names table(s) it does not read: {', '.join(unread)}"
        )
    if not scope.everything and not any(scope.keyed(t) for t in rule.tables):
        raise RuleError(str(rule.path), f"no table it reads has the slice key {scope.key!r}")


@dataclass
class RulePack:
    """Every rule in the pack, validated as a whole."""

    rules: list[Rule]
    versions: dict[str, dict[str, str]]

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise NotFoundError(rule_id, "no such rule in the pack")

    def select(self, ids: list[str] | None) -> list[Rule]:
        return list(self.rules) if not ids else [self.get(i) for i in ids]

    def version(self, rule_id: str) -> str:
        return self.versions[rule_id]["version"]

    def stale(self) -> list[str]:
        """Rules whose file no longer matches the sha256 in ``versions.json``."""
        return [
            r.id
            for r in self.rules
            if r.id not in self.versions or self.versions[r.id]["sha256"] != r.sha256
        ]

    def missing_fixtures(self) -> list[str]:
        """``<rule>/positive`` or ``<rule>/negative`` folders that are absent or lack expect.json."""
        out = []
        for r in self.rules:
            for side in ("positive", "negative"):
                d = r.fixtures / side
                if not (d / "expect.json").is_file() or not any(d.glob("*.csv")):
                    out.append(f"{r.id}/{side}")
        return out


_PARSED: dict[tuple[Path, int, int], Rule] = {}


def _parsed(path: Path) -> Rule:
    """:func:`parse_rule`, once per file content (by name, size and modification time): a
    process that detects often parses the pack once."""
    st = path.stat()
    key = (path.resolve(), st.st_size, st.st_mtime_ns)
    rule = _PARSED.get(key)
    if rule is None:
        rule = _PARSED[key] = parse_rule(path)
    return rule


def load_pack(directory: Path | None = None, *, strict: bool = True) -> RulePack:
    """Discover, parse and validate every ``*.sql`` rule under ``directory``.

    ``strict`` also demands that every rule is in the version lock.
    """
    directory = directory or RULES_DIR
    paths = sorted(directory.glob("*.sql"))
    if not paths:
        raise RuleError(str(directory), "no rules found")
    rules = [_parsed(p) for p in paths]
    seen: dict[str, Path] = {}
    for r in rules:
        if r.id in seen:
            raise RuleError(str(r.path), f"rule id {r.id} is also used by {seen[r.id].name}")
        seen[r.id] = r.path
    vpath = directory / "versions.json"
    versions = json.loads(vpath.read_text(encoding="utf-8")) if vpath.exists() else {}
    if strict:
        unlocked = [r.id for r in rules if r.id not in versions]
        if unlocked:
            raise RuleError(str(vpath), f"rule(s) without a version: {', '.join(unlocked)}")
    return RulePack(rules=rules, versions=versions)


def lock_versions(
    directory: Path | None = None, *, same: frozenset[str] | set[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """Rewrite ``versions.json``: bump the version of every rule whose content changed.

    A rule named in ``same`` keeps its version and is locked at its new content: for a change
    that alters no finding (a faster formulation of the same query, a header line), so that its
    alert ids stay what they were. The fixtures, the engine comparison and the evidence
    benchmark are what show that no finding changed.

    A maintenance helper (``python -m jejak.detect.pack [--same JJK-001 ...]``), never run by
    detection.
    """
    directory = directory or RULES_DIR
    pack = load_pack(directory, strict=False)
    unknown = sorted(set(same) - {r.id for r in pack.rules})
    if unknown:
        raise RuleError(str(directory), f"no such rule(s): {', '.join(unknown)}")
    out: dict[str, dict[str, str]] = {}
    for r in pack.rules:
        old = pack.versions.get(r.id)
        if old and old["sha256"] == r.sha256:
            out[r.id] = old
        elif old and r.id in same:
            out[r.id] = {"version": old["version"], "sha256": r.sha256}
        else:
            n = int(old["version"]) + 1 if old else 1
            out[r.id] = {"version": str(n), "sha256": r.sha256}
    (directory / "versions.json").write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import argparse

    ap = argparse.ArgumentParser(description="Lock the rule pack's versions.")
    ap.add_argument("--same", nargs="*", default=[], help="rules whose findings did not change")
    for rid, v in lock_versions(same=set(ap.parse_args().same)).items():
        print(rid, v["version"], v["sha256"][:12])
