"""Everything the shipped code imports is either the standard library, our own packages, or a
distribution named in pyproject.toml's dependencies: `pip install .` in a clean environment
must give a working `govhall` (``packaging`` once came only with the test extras)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"core", "web", "workers", "plugins", "migrations", "tests"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for spec in project["dependencies"]:
        name = re.split(r"[\[<>=~!; ]", spec, maxsplit=1)[0]
        names.add(name.lower().replace("_", "-"))
    return names


def _imported() -> dict[str, str]:
    """Top-level module → a file importing it, for the shipped packages."""
    found: dict[str, str] = {}
    for package in ("core", "web", "workers", "plugins"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = _declared()
    providers = packages_distributions()
    missing = {}
    for module, where in _imported().items():
        if module in OURS or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        if not dists & declared:
            missing[module] = (where, sorted(dists))
    assert not missing, f"imported but not in [project].dependencies: {missing}"
