"""API: the tenant itself, the caller, org units, staff, plugins, and a province's tenants."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post, put
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import ORIGIN_KEY, local_time
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity import Principal, Role, Staff, StaffRole
from core.identity.sessions import end_access, set_active, set_password
from core.plugins import get_plugin_manager
from core.plugins.secrets import keep_secrets
from core.tenancy import (
    OrgUnit,
    OrgUnitKind,
    Tenant,
    TenantKind,
    TenantStatus,
    list_org_units,
    onboarding,
)
from core.tenancy import units as org_units
from core.tenancy.service import (
    KIND_LABELS,
    STATUS_LABELS,
    get_tenant_by_slug,
    manages,
    scope_for,
    tenant_tree,
)
from web.api.schemas import (
    CheckOut,
    MeOut,
    OrgUnitCreate,
    OrgUnitOut,
    OrgUnitUpdate,
    PluginOut,
    PluginUpdate,
    StaffOut,
    StaffUpdate,
    TenantCreate,
    TenantOut,
    TenantStatusUpdate,
)
from web.api.scoped import ANY_API_SCOPE, anyone, needs
from web.auth import require, require_staff
from web.deps import forget_tenants


def tenant_out(tenant: Tenant, parent_slug: str | None = None) -> TenantOut:
    return TenantOut(
        slug=tenant.slug,
        name=tenant.name,
        display_name=tenant.display_name,
        kind=tenant.kind.value,
        division_code=tenant.division_code,
        status=tenant.status.value,
        parent=parent_slug,
        kind_label=KIND_LABELS[tenant.kind],
        status_label=STATUS_LABELS[tenant.status],
    )


def unit_out(unit: OrgUnit) -> OrgUnitOut:
    return OrgUnitOut(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        kind=unit.kind.value,
        parent_id=unit.parent_id,
        address=unit.address,
        phone=unit.phone,
        office_hours=unit.office_hours,
    )


def _unit(db: Session, tenant: Tenant, unit_id: uuid.UUID) -> OrgUnit:
    unit = db.get(OrgUnit, (tenant.id, unit_id))
    if unit is None:
        raise NotFound("没有这个机构")
    return unit


def _staff(db: Session, tenant: Tenant, staff_id: uuid.UUID) -> Staff:
    staff = db.get(Staff, (tenant.id, staff_id))
    if staff is None:
        raise NotFound("没有这名工作人员")
    return staff


def _plugins_out(db: Session, tenant: Tenant) -> list[PluginOut]:
    manager = get_plugin_manager()
    errors = manager.recent_errors(db, tenant, limit=100)
    return [
        PluginOut(
            name=name,
            title=state.meta.title,
            version=state.meta.version,
            core_compat=state.meta.core_compat,
            compatible=state.meta.compatible(),
            enabled=state.enabled,
            config=state.meta.redact(state.raw_config),
            config_schema=state.meta.config_schema(),
            recent_errors=[
                f"{local_time(e.created_at)[:16]} {e.hook}: {e.message}"  # Beijing time
                for e in errors
                if e.plugin == name
            ][:5],
        )
        for name, state in manager.states(db, tenant).items()
    ]


class TenantApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["tenant"]

    @get("/", summary="This tenant's public profile", sync_to_thread=True, **anyone())
    def profile(self, tenant: Tenant, db: Session) -> TenantOut:
        parent = db.get(Tenant, tenant.parent_id) if tenant.parent_id else None
        return tenant_out(tenant, parent.slug if parent else None)

    @get(
        "/me",
        summary="Who the bearer token belongs to",
        sync_to_thread=True,
        **needs(ANY_API_SCOPE),
    )
    def me(self, tenant: Tenant, principal: Principal | None) -> MeOut:
        me = require(principal)
        return MeOut(
            kind=me.kind, id=me.id, name=me.name, roles=me.role_names(), tenant=tenant.slug
        )

    # -- org units ------------------------------------------------------------------------

    @get(
        "/org-units",
        summary="Departments, centres, stations and windows",
        sync_to_thread=True,
        **anyone(),
    )
    def list_units(self, db: Session) -> list[OrgUnitOut]:
        return [unit_out(u) for u in list_org_units(db)]

    @get("/org-units/{unit_id:uuid}", summary="One org unit", sync_to_thread=True, **anyone())
    def get_unit(self, db: Session, tenant: Tenant, unit_id: uuid.UUID) -> OrgUnitOut:
        return unit_out(_unit(db, tenant, unit_id))

    @post(
        "/org-units",
        summary="Add an org unit (tenant admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def create_unit(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: OrgUnitCreate
    ) -> OrgUnitOut:
        require_staff(principal, Role.tenant_admin)
        parent = _unit(db, tenant, data.parent_id) if data.parent_id else None
        if db.scalar(
            select(OrgUnit.id).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == data.code)
        ):
            raise Conflict(f"编码 {data.code} 已被使用", field="code")
        # the same rules and audit entry as the admin page (a code of letters and digits)
        unit = org_units.create_unit(
            db,
            tenant,
            principal,
            code=data.code,
            name=data.name,
            kind=OrgUnitKind(data.kind),
            parent_code=parent.code if parent else None,
            address=data.address,
            phone=data.phone,
            office_hours=data.office_hours,
        )
        db.commit()
        return unit_out(unit)

    @patch(
        "/org-units/{unit_id:uuid}",
        summary="Change an org unit (tenant admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def update_unit(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        unit_id: uuid.UUID,
        data: OrgUnitUpdate,
    ) -> OrgUnitOut:
        require_staff(principal, Role.tenant_admin)
        unit = _unit(db, tenant, unit_id)
        values = {
            field: value
            for field in ("name", "address", "phone", "office_hours")
            if (value := getattr(data, field)) is not None
        }
        org_units.update_unit(db, tenant, principal, unit, **values)
        db.commit()
        return unit_out(unit)

    # -- staff ----------------------------------------------------------------------------

    @get(
        "/staff",
        summary="Staff and their roles (tenant admin)",
        sync_to_thread=True,
        **needs(("admin", "supervision")),
    )
    def list_staff(
        self, db: Session, tenant: Tenant, principal: Principal | None
    ) -> list[StaffOut]:
        require_staff(principal, Role.tenant_admin, Role.supervisor)
        return [self._staff_out(db, s) for s in db.scalars(select(Staff).order_by(Staff.username))]

    @get(
        "/staff/{staff_id:uuid}",
        summary="One staff member (tenant admin)",
        sync_to_thread=True,
        **needs(("admin", "supervision")),
    )
    def get_staff(
        self, db: Session, tenant: Tenant, principal: Principal | None, staff_id: uuid.UUID
    ) -> StaffOut:
        require_staff(principal, Role.tenant_admin, Role.supervisor)
        return self._staff_out(db, _staff(db, tenant, staff_id))

    @patch(
        "/staff/{staff_id:uuid}",
        summary="Disable or enable a staff member, or set a new password (tenant admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def update_staff(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        staff_id: uuid.UUID,
        data: StaffUpdate,
    ) -> StaffOut:
        require_staff(principal, Role.tenant_admin)
        staff = _staff(db, tenant, staff_id)
        if data.password is not None:
            set_password(staff, data.password)
        if data.active is not None:
            set_active(staff, data.active)
        db.commit()
        return self._staff_out(db, staff)

    @post(
        "/staff/{staff_id:uuid}/end-sessions",
        summary="End every session and revoke every token of a staff member (tenant admin)",
        status_code=204,
        sync_to_thread=True,
        **needs("admin"),
    )
    def end_staff_sessions(
        self, db: Session, tenant: Tenant, principal: Principal | None, staff_id: uuid.UUID
    ) -> None:
        require_staff(principal, Role.tenant_admin)
        end_access(_staff(db, tenant, staff_id))
        db.commit()

    @staticmethod
    def _staff_out(db: Session, staff: Staff) -> StaffOut:
        roles = db.scalars(select(StaffRole).where(StaffRole.staff_id == staff.id)).all()
        return StaffOut(
            id=staff.id,
            username=staff.username,
            name=staff.name,
            active=staff.active,
            roles=[
                {"role": r.role.value, "org_unit_id": str(r.org_unit_id) if r.org_unit_id else None}
                for r in roles
            ],
        )

    # -- plugins --------------------------------------------------------------------------

    @get(
        "/plugins",
        summary="Plugins: enabled state, config, schema, errors (tenant admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def list_plugins(
        self, db: Session, tenant: Tenant, principal: Principal | None
    ) -> list[PluginOut]:
        require_staff(principal, Role.tenant_admin)
        return _plugins_out(db, tenant)

    @put(
        "/plugins/{name:str}",
        summary="Enable, disable or configure a plugin (tenant admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def update_plugin(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        name: str,
        data: PluginUpdate,
    ) -> PluginOut:
        me = require_staff(principal, Role.tenant_admin)
        manager = get_plugin_manager()
        config = data.config
        if config is not None:  # a secret sent back as the mask keeps its saved value
            state = manager.states(db, tenant)[manager.meta(name).name]
            config = keep_secrets(state.meta.config_schema(), config, state.raw_config)
        manager.set_enabled(db, tenant, name, data.enabled, config, actor=me)
        db.commit()
        return next(p for p in _plugins_out(db, tenant) if p.name == name)

    @post(
        "/plugins/{name:str}/check",
        summary="Run a plugin's self-check (tenant admin)",
        sync_to_thread=True,
        status_code=200,
        **needs("admin"),
    )
    def check_plugin(
        self, db: Session, tenant: Tenant, principal: Principal | None, name: str
    ) -> CheckOut:
        require_staff(principal, Role.tenant_admin)
        problems = get_plugin_manager().self_check(db, tenant, name)
        return CheckOut(name=name, healthy=not problems, problems=problems)

    # -- a province's tenants -------------------------------------------------------------

    @get(
        "/tenants",
        summary="The tenants below this province or city, in tree order (its admin)",
        description=(
            "Filters: `kind` (city, county, district), `status` (onboarding, active, "
            "suspended), `parent` (a parent's slug). Each tenant names its parent's slug."
        ),
        sync_to_thread=True,
        **needs("admin"),
    )
    def list_children(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        kind: str | None = None,
        status: str | None = None,
        parent: str | None = None,
    ) -> list[TenantOut]:
        _console_admin(principal, tenant)
        slugs = {tenant.id: tenant.slug}
        tree = tenant_tree(db, tenant)
        slugs |= {t.id: t.slug for t, _ in tree}
        parent_row = next((t for t, _ in tree if t.slug == parent), None)
        if parent == tenant.slug:
            parent_row = tenant
        if parent and parent_row is None:
            return []
        try:
            rows = tenant_tree(
                db,
                tenant,
                kind=TenantKind(kind) if kind else None,
                status=TenantStatus(status) if status else None,
                parent=parent_row,
            )
        except ValueError:
            raise InvalidInput("筛选条件无效", field="kind" if kind else "status") from None
        return [tenant_out(t, slugs.get(t.parent_id) if t.parent_id else None) for t, _ in rows]

    @post(
        "/tenants",
        summary="Onboard a city, county or district (province or city admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def onboard(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: TenantCreate
    ) -> TenantOut:
        me = _console_admin(principal, tenant)
        parent: Tenant | None = tenant
        if data.parent and data.parent != tenant.slug:
            cities = tenant_tree(db, tenant, kind=TenantKind.city)
            parent = next((c for c, _ in cities if c.slug == data.parent), None)
        if parent is None:
            raise InvalidInput("上级地区不在本省（市）范围内", field="parent")
        try:
            child = onboarding.onboard(
                db,
                actor_tenant=tenant,
                actor=me,
                parent=parent,
                slug=data.slug,
                name=data.name,
                division_code=data.division_code,
                kind=TenantKind(data.kind),
            )
        except Forbidden as exc:
            raise InvalidInput(exc.detail, field="division_code") from None
        db.commit()
        forget_tenants()
        return tenant_out(child, parent.slug)

    @patch(
        "/tenants/{child:str}",
        summary="Activate, suspend or reactivate a tenant below (province or city admin)",
        sync_to_thread=True,
        **needs("admin"),
    )
    def set_status(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        child: str,
        data: TenantStatusUpdate,
    ) -> TenantOut:
        me = _console_admin(principal, tenant)
        try:
            target = get_tenant_by_slug(db, child)
        except NotFound:
            raise NotFound("没有这个地区") from None
        if not manages(tenant, target):
            raise NotFound("没有这个地区")
        database = request.app.state.database
        with database.session(scope=scope_for(target)) as session:
            session.info[ORIGIN_KEY] = request.client.host if request.client else ""
            fresh = session.get(Tenant, target.id)
            assert fresh is not None
            status = TenantStatus(data.status)
            onboarding.change_status(session, fresh, me, status, reason=data.reason)
            session.commit()
            parent = session.get(Tenant, fresh.parent_id) if fresh.parent_id else None
            out = tenant_out(fresh, parent.slug if parent else None)
        forget_tenants()
        return out


def _console_admin(principal: Principal | None, tenant: Tenant) -> Principal:
    """A province's admin, or a city's admin for its own districts."""
    if tenant.kind is TenantKind.city:
        return require_staff(principal, Role.province_admin, Role.tenant_admin)
    return require_staff(principal, Role.province_admin)
