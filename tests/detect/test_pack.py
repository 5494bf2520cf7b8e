"""The rule pack as a whole: parses, is versioned, has fixtures, transpiles, is documented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jejak.detect.pack import (
    ENGINES,
    REQUIRED_HEADERS,
    RULES_DIR,
    load_pack,
    lock_versions,
)
from jejak.errors import RuleError

PACK = load_pack()
DOCS = Path(__file__).resolve().parents[2] / "docs"

REQUIRED_BEHAVIOURS = {
    # the list of rules that must exist, by rule id
    "not rostered": "JJK-001",
    "closed, no on-call": "JJK-002",
    "outside networks": "JJK-003",
    "terminal of another person": "JJK-004",
    "two places at once": "JJK-005",
    "impossible travel": "JJK-006",
    "no verified consent": "JJK-007",
    "handset far away": "JJK-008",
    "ID status / validity": "JJK-009",
    "peer outlier": "JJK-010",
    "high-value outlier": "JJK-016",
    "charge after deactivation": "JJK-011",
    "charge during promo": "JJK-012",
    "charge above price": "JJK-013",
    "bar over dispute": "JJK-014",
    "dangling reference": "JJK-015",
}


def test_the_pack_holds_every_required_rule() -> None:
    ids = {r.id for r in PACK.rules}
    missing = {k: v for k, v in REQUIRED_BEHAVIOURS.items() if v not in ids}
    assert not missing


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    assert PACK.missing_fixtures() == []


def test_missing_fixtures_are_reported(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES_DIR / "007_no_verified_consent.sql", rules)
    pack = load_pack(rules, strict=False)
    # fixtures are looked up in the real pack's folder by id; point the rule elsewhere
    object.__setattr__(pack.rules[0], "id", "JJK-999")
    assert pack.missing_fixtures() == ["JJK-999/positive", "JJK-999/negative"]


def test_every_rule_is_locked_at_its_current_content() -> None:
    stale = PACK.stale()
    assert not stale, (
        f"rules changed without a version bump: {stale}; run python -m jejak.detect.pack"
    )


def test_a_changed_rule_needs_a_version_bump(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("fixtures"))
    path = rules / "007_no_verified_consent.sql"
    path.write_text(path.read_text().replace("INTERVAL 1 DAY", "INTERVAL 2 DAY"))
    assert load_pack(rules).stale() == ["JJK-007"]
    locked = lock_versions(rules)
    assert locked["JJK-007"]["version"] == str(int(PACK.version("JJK-007")) + 1)
    assert locked["JJK-001"] == PACK.versions["JJK-001"]
    assert load_pack(rules).stale() == []


@pytest.mark.parametrize("rule", PACK.rules, ids=lambda r: r.id)
@pytest.mark.parametrize("engine", ENGINES)
def test_every_rule_transpiles(rule, engine: str) -> None:  # type: ignore[no-untyped-def]
    sql = rule.transpile(engine)
    assert "SELECT" in sql.upper()


@pytest.mark.parametrize("rule", PACK.rules, ids=lambda r: r.id)
def test_every_rule_has_its_metadata(rule) -> None:  # type: ignore[no-untyped-def]
    for h in REQUIRED_HEADERS:
        assert getattr(rule, h).strip(), h


BAD_RULES = [
    ("-- id: JJK-1\n", "not like JJK-001"),
    ("-- severity: urgent\n", "unknown severity"),
    ("-- title:\n", "missing header"),
    ("SELECT 1 AS x\n", "lacks column"),
    ("SELEC broken\n", "one SELECT"),
    ("SELECT (\n", "does not parse"),
]


@pytest.mark.parametrize(("change", "message"), BAD_RULES)
def test_a_defective_rule_is_refused(tmp_path: Path, change: str, message: str) -> None:
    good = (RULES_DIR / "007_no_verified_consent.sql").read_text()
    lines = good.splitlines(keepends=True)
    key = change.split(":")[0] if change.startswith("--") else None
    if key:
        lines = [change if ln.startswith(key + ":") else ln for ln in lines]
    else:
        head = [ln for ln in lines if ln.startswith("--")]
        lines = [*head, change]
    (tmp_path / "bad.sql").write_text("".join(lines))
    with pytest.raises(RuleError, match=message):
        load_pack(tmp_path, strict=False)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    src = RULES_DIR / "007_no_verified_consent.sql"
    shutil.copy(src, tmp_path / "a.sql")
    shutil.copy(src, tmp_path / "b.sql")
    with pytest.raises(RuleError, match="also used"):
        load_pack(tmp_path, strict=False)


def test_every_not_in_the_pack_is_null_safe() -> None:
    """``NOT IN`` over a subquery is false for every row when the subquery yields a NULL."""
    for r in PACK.rules:
        assert " NOT IN " not in r.sql.upper(), f"{r.id}: use NOT EXISTS, NOT IN is not NULL-safe"


def test_versions_file_names_only_existing_rules() -> None:
    versions = json.loads((RULES_DIR / "versions.json").read_text())
    assert set(versions) == {r.id for r in PACK.rules}


def test_every_rule_is_documented() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    for r in PACK.rules:
        assert f"## {r.id}" in text, f"{r.id} is missing from docs/rules.md"
        assert r.title in text, f"docs/rules.md has an old title for {r.id}"


def test_rules_md_is_generated_from_the_pack() -> None:
    from jejak.detect.docs import render_rules_md

    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert text == render_rules_md(), "regenerate: python -m jejak.detect.docs > docs/rules.md"
