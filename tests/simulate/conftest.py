"""Fixtures for the simulator's tests: small operators, named for what they give."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jejak.simulate import SimulationResult, simulate
from jejak.store import Store


@dataclass
class Simulated:
    """A simulated export, its truth and the store it was ingested into."""

    result: SimulationResult
    store: Store
    ingest: Any

    def cases(self, kind: str) -> list[dict[str, Any]]:
        found = [c for c in self.result.cases if c["kind"] == kind]
        assert found, f"no {kind} case was planted"
        return found

    def rows(self, kind: str, ids: list[str]) -> list[dict[str, Any]]:
        from jejak.schema import KINDS

        if not ids:
            return []
        key = KINDS[kind].key[0]
        marks = ", ".join("?" for _ in ids)
        return self.store.sql(f'SELECT * FROM {kind} WHERE "{key}" IN ({marks}) ORDER BY 1', ids)


@pytest.fixture(scope="session")
def small_operator(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """300 subscribers over 14 days with every scenario planted, ingested into a store."""
    root = tmp_path_factory.mktemp("simulated")
    result = simulate(root / "export", subscribers=300, days=14, seed=3)
    store = Store(root / "home")
    ingest = store.ingest([root / "export"])
    return Simulated(result, store, ingest)


@pytest.fixture(scope="session")
def mid_operator(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """2,500 subscribers over 21 days (several cases of each kind), ingested into a store."""
    root = tmp_path_factory.mktemp("simulated-mid")
    result = simulate(root / "export", subscribers=2500, days=21, seed=11, start=None)
    store = Store(root / "home")
    ingest = store.ingest([root / "export"])
    return Simulated(result, store, ingest)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
