"""The few seconds' memory of reference data (core/db/_memo.py): what a user sees after a change.

Public pages read departments, categories, themes, plugin states, process definitions and the
matches of a search from a per-process memo. A change made through the services must show on
the very next page of this process; a transaction that wrote reference data reads its own
writes; a change this process cannot see (another process) shows within the memo's lifetime.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text

from core.catalog import create_item, list_items
from core.catalog.service import directory
from core.db import Database, remembered
from core.plugins import get_plugin_manager
from core.tenancy import OrgUnitKind, add_org_unit, scope_for
from tests.helpers import tenant


def test_a_new_department_shows_on_the_next_page(db: Database, client) -> None:
    suning = tenant(db, "suning")
    assert client.get("/t/suning/items").status_code == 200  # the directory is now remembered
    name = f"肃宁县档案馆{uuid.uuid4().hex[:4]}"
    with db.session(scope=scope_for(suning)) as s:
        add_org_unit(
            s, suning, code=f"SN-DA{uuid.uuid4().hex[:4]}", name=name, kind=OrgUnitKind.department
        )
        s.commit()
    assert name in client.get("/t/suning/items").text


def test_a_transaction_reads_its_own_reference_writes(db: Database) -> None:
    suning = tenant(db, "suning")
    code = f"SN-X{uuid.uuid4().hex[:4]}"
    with db.session(scope=scope_for(suning)) as s:
        before = directory(s, suning)["departments"]
        assert code not in before
        add_org_unit(s, suning, code=code, name="临时科室", kind=OrgUnitKind.department)
        s.flush()
        assert code in directory(s, suning)["departments"]
        s.rollback()
        assert code not in directory(s, suning)["departments"]  # nothing was kept or shared


def test_snapshots_cannot_be_changed_by_a_page(db: Database) -> None:
    suning = tenant(db, "suning")
    with db.session(scope=scope_for(suning)) as s:
        department = next(iter(directory(s, suning)["departments"].values()))
        with pytest.raises(AttributeError):
            department.name = "改名"


def test_a_search_shows_an_item_published_a_moment_ago(db: Database) -> None:
    cili = tenant(db, "cili")
    word = "琉璃"  # in no demo item
    with db.session(scope=scope_for(cili)) as s:
        assert list_items(s, cili, q=word).total == 0  # remembered: nothing
        create_item(
            s,
            cili,
            code=f"CL-M{uuid.uuid4().hex[:4]}",
            content={
                "name": f"{word}瓦当展示许可",
                "category": "xzxk",
                "department": "CL-RSJ",
                "legal_days": 20,
                "promised_days": 5,
            },
            publish=True,
        )
        s.commit()
        assert [i.name for i in list_items(s, cili, q=word).items] == [f"{word}瓦当展示许可"]


def test_plugin_state_changes_take_effect_at_once(db: Database) -> None:
    bozhou = tenant(db, "bozhou")
    manager = get_plugin_manager()
    name = "courier_post"
    with db.session(scope=scope_for(bozhou)) as s:
        was = manager.states(s, bozhou)[name].enabled
        manager.set_enabled(s, bozhou, name, not was)
        assert manager.states(s, bozhou)[name].enabled is (not was)  # inside the transaction
        s.commit()
    with db.session(scope=scope_for(bozhou)) as s:
        assert manager.states(s, bozhou)[name].enabled is (not was)  # the next request
        manager.set_enabled(s, bozhou, name, was)
        s.commit()
    with db.session(scope=scope_for(bozhou)) as s:
        assert manager.states(s, bozhou)[name].enabled is was


def test_a_change_from_elsewhere_shows_within_the_lifetime(db: Database) -> None:
    """Another process's write is invisible to this one's memo until the entry expires."""
    suning = tenant(db, "suning")
    key = ("test-memo", uuid.uuid4().hex)

    def count_departments(s):
        return s.execute(
            text("SELECT count(*) FROM org_units WHERE tenant_id = :t AND kind = 'department'"),
            {"t": suning.id.hex if db.dialect == "sqlite" else str(suning.id)},
        ).scalar_one()

    with db.session(scope=scope_for(suning)) as s:
        first = remembered(s, key, lambda: count_departments(s), ttl=0.5)
        # A raw write, as another process's would be: this process's memo does not see it.
        unit_id = uuid.uuid4()
        s.execute(
            text(
                "INSERT INTO org_units (tenant_id, id, code, name, kind, address, phone,"
                " office_hours, created_at) VALUES (:t, :i, :c, '外部科室', 'department', '', '',"
                " '', CURRENT_TIMESTAMP)"
            ),
            {
                "t": suning.id.hex if db.dialect == "sqlite" else str(suning.id),
                "i": unit_id.hex if db.dialect == "sqlite" else str(unit_id),
                "c": f"SN-E{uuid.uuid4().hex[:4]}",
            },
        )
        s.commit()
        assert remembered(s, key, lambda: count_departments(s), ttl=0.5) == first
        time.sleep(0.6)
        assert remembered(s, key, lambda: count_departments(s), ttl=0.5) == first + 1
