"""The front-end libraries the pages load are committed (a clean checkout, and so a wheel built
from it, has them: they were once git-ignored and copied by npm at set-up) and are the versions
package.json pins."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "web" / "static" / "vendor"

# file under web/static/vendor → (npm package, how the file names its own version)
PINNED = {
    "htmx.min.js": ("htmx.org", 'version:"{}"'),
    "echarts.min.js": ("echarts", 'version="{}"'),
    "bootstrap.min.css": ("bootstrap", "Bootstrap  v{} "),
    "bootstrap.bundle.min.js": ("bootstrap", "Bootstrap v{} "),
    "bootstrap-icons/bootstrap-icons.min.css": ("bootstrap-icons", "Bootstrap Icons v{} "),
    "swagger-ui/swagger-ui-bundle.js": ("swagger-ui-dist", '"{}"'),
}


def _tracked(under: str) -> set[str]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "--", under], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def _loaded_by_pages() -> set[str]:
    """Every /static/vendor/… file a template, a stylesheet or a script of ours names, and the
    fonts the vendored stylesheets name."""
    names: set[str] = set()
    ours = [*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "web" / "static").rglob("*")]
    for path in ours:
        if path.suffix not in {".html", ".css", ".js"} or VENDOR in path.parents:
            continue
        names |= set(re.findall(r"/static/vendor/([\w./-]+)", path.read_text(encoding="utf-8")))
    for css in VENDOR.rglob("*.css"):
        for url in re.findall(r"url\(\"?([^\")?#]+)", css.read_text(encoding="utf-8")):
            if not url.startswith("data:"):
                names.add((css.parent / url).resolve().relative_to(VENDOR).as_posix())
    return names


def test_every_library_a_page_loads_is_committed() -> None:
    tracked = _tracked("web/static/vendor")
    loaded = _loaded_by_pages()
    assert {"htmx.min.js", "bootstrap.min.css", "echarts.min.js"} <= loaded
    missing = sorted(n for n in loaded if f"web/static/vendor/{n}" not in tracked)
    assert not missing, f"pages load these, but a clean checkout has none of them: {missing}"


def test_the_committed_libraries_are_the_versions_package_json_pins() -> None:
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    wrong = {}
    for name, (package, marker) in PINNED.items():
        text = (VENDOR / name).read_text(encoding="utf-8")
        if marker.format(pins[package]) not in text:
            wrong[name] = f"{package} is pinned at {pins[package]}: run `make vendor`"
    assert not wrong, wrong


def test_each_library_ships_with_its_licence() -> None:
    tracked = _tracked("web/static/vendor/licenses")
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    for package in pins:
        assert f"web/static/vendor/licenses/{package}.txt" in tracked, package
