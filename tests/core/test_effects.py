"""The effects a commit has are listed in one place (core.effects), installed where the
application is put together, and none of them runs a plugin hook inside the commit."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import Database, clear_commit_effects, commit_effects
from core.effects import install
from core.plugins import PluginMeta, get_plugin_manager, hookimpl
from core.tenancy import scope_for
from tests.cases.conftest import Desk
from tests.helpers import tenant


def test_the_commit_effects_are_these_in_this_order() -> None:
    assert commit_effects() == [
        "assignment_texts",
        "department_events",
        "outbox_dispatch",
        "catalog_department_names",
    ]


def test_a_commit_without_the_effects_installed_fails_loudly(db: Database) -> None:
    clear_commit_effects()
    try:
        t = tenant(db, "hechi")
        with db.session(scope=scope_for(t)) as s, pytest.raises(RuntimeError) as refused:
            s.commit()
        assert "core.effects.install()" in str(refused.value)
    finally:
        install()


class Listener:
    """A department system's plugin that notes when it is asked, and whether a commit was
    under way on the session that queued the event."""

    meta = PluginMeta(name="listener", version="1.0", title="监听")
    calls: list[str] = []  # a test's notebook

    @hookimpl
    def forward_case_event(self, event: dict[str, Any]) -> list[dict[str, str]]:
        self.calls.append(event["action"])
        return []


def test_no_plugin_hook_runs_inside_a_commit(db: Database) -> None:
    hechi = Desk(db, "hechi")
    from sqlalchemy import select

    from core.cases.service import commit, submit_case
    from core.db import PLATFORM
    from core.notify.outbox import OutboxMessage
    from core.notify.relay import deliver

    Listener.calls.clear()
    manager = get_plugin_manager()
    manager.register(Listener())
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "listener", True, {})
        s.commit()
    try:
        number = hechi.apply(hechi.citizen("13800000001"), "HC-SC03", submit=False)
        with hechi.session() as s:
            submit_case(s, hechi.tenant, hechi.citizen("13800000001"), number)
            commit(s)
        assert Listener.calls == []  # the commit only queued the event
        with hechi.session() as s:
            rows = s.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.case_id == hechi.case(number).id,
                    OutboxMessage.channel == "event",
                )
                .order_by(OutboxMessage.created_at)  # as written (a table's own order is none)
            ).all()
        assert len(rows) == 5  # created, three materials uploaded, submitted
        for row in rows:
            with hechi.db.session(scope=PLATFORM) as s:
                assert deliver(s, row) == "sent"
                s.commit()
        assert Listener.calls[-1] == "submit"  # asked by the worker, after the commit
        assert len(Listener.calls) == 5
    finally:
        with hechi.session() as s:
            manager.set_enabled(s, hechi.tenant, "listener", False, {})
            s.commit()
        manager.unregister("listener")
