"""The ``govhall`` command: the composition root that wires core, web and workers.

Each sub-module adds its commands to the one group, ``main``.
"""

import sys

# httpx imports its own command-line client (httpx._main) whenever rich, pygments and click
# are installed, as Litestar's CLI installs them: 3 MB of modules in every govhall process,
# never run. Marked absent here, before anything imports httpx, it is not loaded (httpx then
# makes httpx.main a stub saying the client is not installed). docs/performance.md, "Memory
# under load".
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from web.cli import (  # noqa: E402, F401 - registers
    audit,
    cases,
    catalog,
    people,
    plugins,
    processes,
    tenants,
)
from web.cli._base import main  # noqa: E402

__all__ = ["main"]

if __name__ == "__main__":
    main()
