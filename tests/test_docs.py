"""Docs that cannot drift: every setting, command and kind is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from jejak.schema import KINDS
from jejak.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in text and f"JEJAK_{name.upper()}" in text, (
            f"setting {name} is not in docs/settings.md"
        )


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_the_store_doc_names_every_lookup() -> None:
    text = (DOCS / "store.md").read_text()
    for method in (
        "Store.subscriber",
        "Store.provisioning_by",
        "Store.sessions_by",
        "Store.rostered",
        "Store.connect",
    ):
        assert method in text


def test_every_kind_is_in_the_schema_in_spec_order() -> None:
    spec = Path(__file__).resolve().parents[2] / "shared" / "spec" / "operator-export.md"
    if not spec.exists():
        pytest.skip(f"no spec at {spec}")
    text = spec.read_text()
    order = [text.index(f"### {name}") for name in KINDS]
    assert order == sorted(order)
    for name, kind in KINDS.items():
        section = text[text.index(f"### {name}") :].split("\n### ", 1)[0]
        for field in kind.names:
            assert f"| {field}" in section or f"{field}," in section or f", {field} |" in section, (
                name,
                field,
            )


def test_the_cli_reference_is_current() -> None:
    from jejak.clidoc import render

    assert (DOCS / "cli.md").read_text() == render(), "docs/cli.md is stale: run `make docs`"


def test_make_bench_runs_every_benchmark() -> None:
    import importlib.util

    bench = Path(__file__).resolve().parents[1] / "bench"
    spec = importlib.util.spec_from_file_location("bench_run", bench / "run.py")
    assert spec and spec.loader
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    scripts = {s for s, _full, _quick in runner.BENCHMARKS.values()}
    on_disk = {p.name for p in bench.glob("bench_*.py")}
    assert on_disk <= scripts, f"bench/run.py does not run {sorted(on_disk - scripts)}"


def test_the_copies_of_shared_data_are_current() -> None:
    """The repository keeps copies of shared/ data so that a clone tests on its own."""
    import filecmp

    repo = Path(__file__).resolve().parents[1]
    shared = repo.parent / "shared"
    if not shared.exists():
        pytest.skip(f"no shared/ beside the repository at {shared}")
    pairs = [
        (shared / "vectors", repo / "tests" / "ledger" / "vectors"),
        (shared / "scenarios" / "seed-2016", repo / "src" / "jejak" / "simulate" / "seed_2016"),
    ]
    for original, copy in pairs:
        names = sorted(str(p.relative_to(original)) for p in original.rglob("*") if p.is_file())
        assert names == sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
        _match, mismatch, errors = filecmp.cmpfiles(original, copy, names, shallow=False)
        assert not mismatch and not errors, (copy, mismatch, errors)
