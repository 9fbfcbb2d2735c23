"""What a deployment gets from a clean checkout: `python -m build` makes the source distribution
and, from it, the wheel; the wheel goes into a fresh virtual environment outside the checkout,
and that installation alone upgrades a database, applies the demo tenant packs, serves the
portal and every file its pages load (htmx among them: a wheel once shipped without it, and the
SMS-code button did nothing), in Chinese and in English."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, wait_for

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _clean_checkout(dest: Path) -> Path:
    """The files a fresh clone has: tracked (or about to be), never what .gitignore hides."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _outside_env(var_dir: Path) -> dict[str, str]:
    """This process's environment without the test suite's settings or the checkout's venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GOVHALL_") and k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    env["GOVHALL_VAR_DIR"] = str(var_dir)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """(the fresh venv's bin directory, the environment to run it in), with a migrated database
    holding the demo tenants."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = _clean_checkout(tmp / "source")
    dist = tmp / "dist"
    env = _outside_env(tmp / "var")
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], cwd=tmp, env=env)
    wheels = list(dist.glob("govhall-*.whl"))
    assert len(wheels) == 1, list(dist.iterdir())

    base = Path(getattr(sys, "_base_executable", sys.executable))
    _run([str(base), "-m", "venv", str(tmp / "venv")], cwd=tmp, env=env)
    bin_dir = tmp / "venv" / "bin"
    _run([str(bin_dir / "pip"), "install", "-q", str(wheels[0])], cwd=tmp, env=env, timeout=600)
    yield bin_dir, env


IMPORT_ALL = """
import importlib, pkgutil, web
for top in ("core", "web", "workers", "plugins", "migrations"):
    for info in pkgutil.walk_packages(importlib.import_module(top).__path__, top + "."):
        if info.name != "migrations.env":  # runs only under Alembic
            importlib.import_module(info.name)
print(web.__file__)
"""


def test_every_module_imports_from_the_venv_not_the_checkout(installed) -> None:
    """Nothing the code imports is missing from the declared dependencies, and the modules
    are the installed ones."""
    bin_dir, env = installed
    out = _run([str(bin_dir / "python"), "-c", IMPORT_ALL], cwd=bin_dir.parent.parent, env=env)
    where = Path(out.strip().splitlines()[-1])
    assert where.is_relative_to(bin_dir.parent), where
    assert not where.is_relative_to(ROOT)


def test_the_wheel_migrates_applies_the_demo_packs_and_serves_the_portal(installed) -> None:
    bin_dir, env = installed
    cwd = bin_dir.parent.parent  # a temporary directory: the checkout is not on sys.path
    govhall = str(bin_dir / "govhall")

    assert "数据库已升级到最新版本" in _run([govhall, "db", "upgrade"], cwd=cwd, env=env)
    applied = _run([govhall, "tenants", "apply", str(ROOT / "tenants")], cwd=cwd, env=env)
    assert "hechi" in applied

    port = free_port()
    log = (cwd / "serve.log").open("wb")
    server = subprocess.Popen(
        [govhall, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            def up() -> bool:
                assert server.poll() is None, (cwd / "serve.log").read_text()
                try:
                    return http.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(up, timeout=60, what="govhall serve from the wheel")

            home = http.get("/t/hechi/")
            assert home.status_code == 200
            assert "河池市网上办事大厅" in home.text

            # every file the page loads, and the icon fonts its stylesheet loads
            assets = set(re.findall(r'(?:src|href)="(/static/[^"?#]+)"', home.text))
            assert "/static/vendor/htmx.min.js" in assets
            assets |= {
                "/static/vendor/echarts.min.js",
                "/static/vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
            }
            for asset in sorted(assets):
                response = http.get(asset)
                assert response.status_code == 200, asset
                assert response.content == (ROOT / "web" / asset.removeprefix("/")).read_bytes()

            # the English catalog travels too
            english = http.get("/t/hechi/login", headers={"Cookie": "lang=en"})
            assert english.status_code == 200
            assert "Sign in" in english.text
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        log.close()
