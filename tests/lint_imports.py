"""`make lint`: no import cycles inside core, counted module by module (imports inside
functions included), and the layers of docs/architecture.md (import-linter, configured in
pyproject.toml). Exits 1 naming each cycle."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import grimp

# the project's core, not tests/core (run as `python -m tests.lint_imports` from the root)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cycles(package: str) -> Iterator[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = grimp.build_graph(package, include_external_packages=False, cache_dir=None)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph.find_modules_directly_imported_by(node)):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    yield from found


def main() -> int:
    found = list(cycles("core"))
    for group in found:
        print("import cycle in core: " + " → ".join(group), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
