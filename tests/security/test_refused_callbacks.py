"""A vendor callback refused for a missing or wrong token (403) is no failure of the vendor:
anyone can send one, so it neither counts toward the plugin's health (异常 after a few) nor
shows among its errors — the admin's banner cannot be raised from outside."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from core.plugins import get_plugin_manager
from core.plugins.models import PluginHealth
from core.tenancy import scope_for
from tests.helpers import tenant


@pytest.mark.parametrize("kind", ["inbound", "receipts"])
def test_a_refused_callback_is_not_the_vendor_s_failure(
    client, db, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    suning = tenant(db, "suning")
    url = f"/api/v1/t/suning/sms/console/{kind}"
    with caplog.at_level(logging.WARNING, logger="govhall.sms"):
        for headers in ({}, {"x-console-token": "wrong"}, {}, {}):
            refused = client.post(url, json=[], headers=headers)
            assert refused.status_code == 403, refused.text
    assert any("refused SMS" in r.getMessage() for r in caplog.records)  # logged apart
    with db.session(scope=scope_for(suning)) as s:
        errors = [
            e
            for e in get_plugin_manager().recent_errors(s, suning)
            if e.plugin == "sms_console" and e.hook.startswith("read_sms")
        ]
        health = s.scalars(
            select(PluginHealth).where(
                PluginHealth.tenant_id == suning.id, PluginHealth.plugin == "sms_console"
            )
        ).all()
    assert errors == []
    assert all(not h.hook.startswith("read_sms") or h.failures == 0 for h in health)
