"""Tenant isolation, enforced twice: ORM criteria (both backends) and row-level security
(PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update

from core.db import Database, TenantScopeError
from core.identity import Account, Staff
from core.models import owned_tables
from core.tenancy import OrgUnit, OrgUnitKind, scope_for
from tests.helpers import tenant


def test_a_query_without_a_tenant_scope_raises(db: Database) -> None:
    with db.session(scope=None) as session, pytest.raises(TenantScopeError):
        session.scalars(select(OrgUnit)).all()


def test_a_scoped_session_sees_only_its_tenants_rows(db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    with db.session(scope=scope_for(hechi)) as session:
        tenants_seen = {u.tenant_id for u in session.scalars(select(OrgUnit))}
        # Even naming the other tenant's id explicitly returns nothing.
        leaked = session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == bozhou.id)).all()
        assert session.get(OrgUnit, (bozhou.id, _any_unit(db, bozhou))) is None
    assert tenants_seen == {hechi.id}
    assert leaked == []


def _any_unit(db: Database, t):
    with db.session(scope=scope_for(t)) as session:
        return session.scalars(select(OrgUnit.id)).first()


def test_citizens_are_visible_across_the_province_but_not_beyond(db: Database) -> None:
    hechi, guangxi, bozhou = tenant(db, "hechi"), tenant(db, "guangxi"), tenant(db, "bozhou")
    with db.session(scope=scope_for(hechi)) as session:
        provinces = {a.province_id for a in session.scalars(select(Account))}
    assert provinces == {guangxi.id}
    with db.session(scope=scope_for(bozhou)) as session:
        assert guangxi.id not in {a.province_id for a in session.scalars(select(Account))}


def test_writing_into_another_tenant_is_refused(db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    with db.session(scope=scope_for(hechi)) as session:
        session.add(OrgUnit(tenant_id=bozhou.id, code="X-1", name="越权", kind=OrgUnitKind.window))
        with pytest.raises(TenantScopeError):
            session.flush()


def test_an_orm_update_cannot_reach_another_tenant(db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    with db.session(scope=scope_for(hechi)) as session:
        result = session.execute(
            update(Staff).where(Staff.tenant_id == bozhou.id).values(name="被改")
        )
        session.commit()
    assert getattr(result, "rowcount", None) == 0
    with db.session(scope=scope_for(bozhou)) as session:
        assert "被改" not in set(session.scalars(select(Staff.name)))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_row_level_security_hides_other_tenants_from_raw_sql(db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as session:
        # Raw SQL skips the ORM's criteria entirely: only the database protects here.
        ids = set(session.execute(text("SELECT DISTINCT tenant_id FROM staff")).scalars())
        updated: Any = session.execute(
            text("UPDATE staff SET name = 'x' WHERE tenant_id <> :t"), {"t": hechi.id}
        )
        changed = updated.rowcount
        session.rollback()
    assert ids == {hechi.id}
    assert changed == 0
    with db.engine.connect() as conn:
        # No scope at all: no rows, not every row.
        assert conn.execute(text("SELECT count(*) FROM staff")).scalar() == 0


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_row_level_security_refuses_inserting_for_another_tenant(db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    with (
        db.session(scope=scope_for(hechi)) as session,
        pytest.raises(Exception, match="row-level security"),
    ):
        session.execute(
            text(
                "INSERT INTO org_units (tenant_id, id, code, name, kind, address, phone, "
                "office_hours, created_at) VALUES (:t, :i, 'X', 'x', 'window', '', '', '', now())"
            ),
            {"t": bozhou.id, "i": hechi.id},
        )


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_every_tenant_owned_table_has_row_level_security(db: Database) -> None:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        ).all()
    protected = {name for name, enabled, forced in rows if enabled and forced}
    assert set(owned_tables()) <= protected
