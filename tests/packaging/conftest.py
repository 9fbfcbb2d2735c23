"""The packaging tests build and install govhall as a deployment would; the slow one is marked
``packaging`` (`make test` runs it, `make test-fast` leaves it out)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds the wheel and installs it in a fresh virtual environment"
    )
