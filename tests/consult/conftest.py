"""The consultation tests act as the demo people of Hechi (see tests/cases/conftest.py)."""

from tests.cases.conftest import _clock_runs, hechi  # noqa: F401
