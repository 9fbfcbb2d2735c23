"""The case tests' desk (a tenant seen through fresh sessions) and pinned clock."""

from tests.cases.conftest import _clock_runs, hechi  # noqa: F401
