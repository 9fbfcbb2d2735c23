"""schemathesis against the published OpenAPI schema: whatever it sends — anonymous, as a
county's admin, as its supervisor — no route answers with a server error (a 5xx). Examples
are derandomized, so a failure reproduces."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.helpers import bearer, staff_token  # noqa: E402


def _probe(operation: Any, headers: dict[str, str], record: Callable[[Any, Any], None]) -> None:
    from schemathesis.core.failures import Failure

    @settings(
        max_examples=6,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        if "slug" in case.path_parameters:
            case.path_parameters["slug"] = "hechi"
        record(case, case.call(headers=headers))

    with contextlib.suppress(Failure):
        check()


def test_no_route_answers_with_a_server_error(app, db) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    seen: dict[int, int] = {}

    def record(case: Any, response: Any) -> None:
        seen[response.status_code // 100] = seen.get(response.status_code // 100, 0) + 1
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} {case.query!r:.200}: "
                f"{response.status_code} {response.text[:200]}"
            )

    people = [
        {},
        bearer(staff_token(db, "hechi", "hechi-admin")),
        bearer(staff_token(db, "hechi", "hechi-supervisor")),
    ]
    operations = [r.ok() for r in schema.get_all_operations()]
    for operation in operations:
        for headers in people:
            _probe(operation, headers, record)
    assert len(operations) > 60 and seen.get(2, 0) > 100 and seen.get(4, 0) > 100, seen
    assert failures == []


def test_a_nul_character_is_bad_input_not_a_server_error(client) -> None:
    for url in ("/api/v1/t/hechi/items?q=%00社保", "/api/v1/t/hechi/progress?number=%00&code=1"):
        assert client.get(url).status_code < 500, url
