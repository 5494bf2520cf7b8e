"""Schemathesis against /openapi.json: random requests to every operation never get a 5xx, and
every response matches the schema the document gives for it (bounded: a few examples each)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jejak.auth import service as auth
from jejak.cases.users import add_user
from jejak.home import Home
from jejak.web.app import create_app

#: examples per operation: enough to reach every status each can give, small enough for CI
EXAMPLES = 12
TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def openapi_app(_seed_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("openapi") / "home"
    shutil.copytree(_seed_home, home)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JEJAK_HOME", str(home))
        owner = Home(home)
        cases = owner.cases
        add_user(cases.db, "sari", "supervisor")
        TOKEN["sari"] = auth.issue_token(
            cases.db, "sari", ["cases:read", "cases:write", "can-bar", "complaints:push"]
        )[1]
        cases.open_case("TCK-2017-0206-0001", at="2017-02-06T10:15:00+07:00")
        yield create_app(owner)
        owner.close()


@pytest.fixture(scope="module")
def api_schema(openapi_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", openapi_app)


OPERATIONS = [
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{case_id}"),
    ("POST", "/api/v1/cases/{case_id}/actions"),
    ("GET", "/api/v1/cases/{case_id}/timeline"),
    ("GET", "/api/v1/can-bar"),
    ("POST", "/api/v1/complaints"),
]


def test_the_document_lists_exactly_these_operations(api_schema: Any) -> None:
    listed = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_answers_within_its_schema(api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {TOKEN['sari']}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        # a schema-valid request may still be refused with 422 on its meaning (an adjustment
        # that is not there, a time the server does not accept): that check is left out
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
