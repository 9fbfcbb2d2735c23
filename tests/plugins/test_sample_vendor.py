"""A vendor's plugin shipped as its own package (tests/sample_vendor, pip-installed by
``make setup``): discovered through its entry point, listed by ``govhall plugins list``, and
enabled for one county without any other county seeing it."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

from click.testing import CliRunner

from web.cli import main


def test_the_installed_package_is_discovered_and_enabled_for_one_county_only(client) -> None:
    found = {ep.name: ep for ep in entry_points(group="govhall")}
    assert found["sample_vendor"].dist.name == "govhall-sample-vendor"  # an installed package

    listed = CliRunner().invoke(main, ["plugins", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    plugins = {p["name"]: p for p in json.loads(listed.output)}
    assert plugins["sample_vendor"]["version"] == "1.2.0"

    notice = "河池已接入示例服务商：短信与公告。"
    enabled = CliRunner().invoke(
        main,
        [
            "plugins",
            "enable",
            "--tenant",
            "hechi",
            "sample_vendor",
            "--config",
            json.dumps({"notice": notice}),
        ],
    )
    assert enabled.exit_code == 0, enabled.output
    try:
        assert notice in client.get("/t/hechi/").text
        assert notice not in client.get("/t/bozhou/").text
        assert "示例服务商" not in client.get("/t/bozhou/").text
        states = CliRunner().invoke(main, ["plugins", "list", "--json", "--tenant", "bozhou"])
        assert {p["name"]: p for p in json.loads(states.output)}["sample_vendor"][
            "enabled"
        ] is False
    finally:
        CliRunner().invoke(main, ["plugins", "disable", "--tenant", "hechi", "sample_vendor"])
    assert notice not in client.get("/t/hechi/").text
