"""The ``govhall`` command: the composition root that wires core, web and workers.

Each sub-module adds its commands to the one group, ``main``.
"""

from web.cli import (  # noqa: F401 - registers
    audit,
    cases,
    catalog,
    people,
    plugins,
    processes,
    tenants,
)
from web.cli._base import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
