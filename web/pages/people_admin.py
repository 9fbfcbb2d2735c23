"""County administration in the browser: staff (工作人员), and a province admin entering and
leaving a county's administration. The rules live in :mod:`core.identity.staff_admin`; these
handlers parse, call them and render. Org units are in :mod:`web.pages.units_admin`, the
first sign-in in :mod:`web.pages.staff_setup`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.audit import record
from core.errors import Forbidden, GovhallError, NotFound
from core.identity import Principal, Role, staff_admin
from core.tenancy import Tenant, get_tenant_by_slug, scope_for
from web.auth import (
    enter_tenant,
    entered_from,
    leave_tenant,
    require_staff,
)
from web.flash import with_flash
from web.pages._county_admin import admin_of, admin_page, unit_choices
from web.params import Form


class PeopleAdminPages(Controller):
    path = "/t/{slug:str}/admin"
    include_in_schema = False

    # -- staff -------------------------------------------------------------------------------

    def _staff_list(
        self, request: Request[Any, Any, Any], db: Session, tenant: Tenant, me: Principal
    ) -> Template:
        unit_code = request.query_params.get("unit", "")
        role_value = request.query_params.get("role", "")
        role = Role(role_value) if role_value in {r.value for r in Role} else None
        rows = staff_admin.list_staff(db, tenant, unit_code=unit_code, role=role)
        return admin_page(
            request,
            db,
            tenant,
            "admin/staff.html",
            me,
            rows=rows,
            units=unit_choices(db, tenant),
            roles=staff_admin.offered_roles(tenant),
            unit_code=unit_code,
            role_value=role.value if role else "",
            masked=staff_admin.masked,
        )

    @get("/staff", name="people_staff", sync_to_thread=True)
    def staff_list(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = admin_of(principal, tenant)
        return self._staff_list(request, db, tenant, me)

    def _new_form(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        me: Principal,
        *,
        form: dict[str, str] | None = None,
        exc: GovhallError | None = None,
    ) -> Template:
        return admin_page(
            request,
            db,
            tenant,
            "admin/staff_new.html",
            me,
            form=form or {"unit": request.query_params.get("unit", "")},
            units=unit_choices(db, tenant),
            roles=staff_admin.offered_roles(tenant),
            field=exc.field if exc else "",
            field_error=exc.detail if exc else "",
            status_code=exc.status if exc else 200,
        )

    @get("/staff/new", name="people_staff_new", sync_to_thread=True)
    def staff_new(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = admin_of(principal, tenant)
        return self._new_form(request, db, tenant, me)

    @post("/staff", name="people_staff_create", sync_to_thread=True)
    def staff_create(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template:
        me = admin_of(principal, tenant)
        try:
            staff, password = staff_admin.create_member(
                db,
                tenant,
                me,
                username=data.get("username", ""),
                name=data.get("name", ""),
                phone=data.get("phone", ""),
                role=data.get("role", ""),
                unit_code=data.get("unit", ""),
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._new_form(request, db, tenant, me, form=data, exc=exc)
        return admin_page(
            request,
            db,
            tenant,
            "admin/staff_password.html",
            me,
            staff=staff,
            password=password,
            created=True,
        )

    def _member_page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        me: Principal,
        staff_id: uuid.UUID,
        *,
        form: dict[str, str] | None = None,
        exc: GovhallError | None = None,
        about: str = "",
    ) -> Template:
        staff = staff_admin.get_member(db, tenant, staff_id)
        return admin_page(
            request,
            db,
            tenant,
            "admin/staff_edit.html",
            me,
            staff=staff,
            held=staff_admin.roles_of(db, tenant, staff),
            units=unit_choices(db, tenant),
            roles=staff_admin.offered_roles(tenant),
            form=form or {"name": staff.name, "phone": staff.phone or ""},
            about=about,
            field=exc.field if exc else "",
            field_error=exc.detail if exc else "",
            is_self=me.id == staff.id and me.tenant_id == tenant.id,
            masked=staff_admin.masked,
            status_code=exc.status if exc else 200,
        )

    @get("/staff/{staff_id:uuid}", name="people_staff_edit", sync_to_thread=True)
    def staff_edit(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        staff_id: uuid.UUID,
    ) -> Template:
        me = admin_of(principal, tenant)
        return self._member_page(request, db, tenant, me, staff_id)

    def _back(self, tenant: Tenant, staff_id: uuid.UUID, msg: str = "", error: str = "") -> str:
        return with_flash(f"/t/{tenant.slug}/admin/staff/{staff_id}", msg=msg, error=error)

    @post("/staff/{staff_id:uuid}", name="people_staff_update", sync_to_thread=True)
    def staff_update(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        staff_id: uuid.UUID,
        data: Form,
    ) -> Template | Redirect:
        me = admin_of(principal, tenant)
        staff = staff_admin.get_member(db, tenant, staff_id)
        try:
            staff_admin.update_member(
                db, tenant, me, staff, name=data.get("name", ""), phone=data.get("phone", "")
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._member_page(
                request, db, tenant, me, staff_id, form=data, exc=exc, about="basics"
            )
        return Redirect(self._back(tenant, staff_id, msg="已保存"))

    @post("/staff/{staff_id:uuid}/roles", name="people_role_add", sync_to_thread=True)
    def role_add(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        staff_id: uuid.UUID,
        data: Form,
    ) -> Template | Redirect:
        me = admin_of(principal, tenant)
        staff = staff_admin.get_member(db, tenant, staff_id)
        try:
            staff_admin.add_role(
                db, tenant, me, staff, role=data.get("role", ""), unit_code=data.get("unit", "")
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._member_page(request, db, tenant, me, staff_id, exc=exc, about="roles")
        return Redirect(self._back(tenant, staff_id, msg="已添加角色，该工作人员需重新登录"))

    @post(
        "/staff/{staff_id:uuid}/roles/{role_id:uuid}/remove",
        name="people_role_remove",
        sync_to_thread=True,
    )
    def role_remove(
        self,
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        staff_id: uuid.UUID,
        role_id: uuid.UUID,
    ) -> Redirect:
        me = admin_of(principal, tenant)
        staff = staff_admin.get_member(db, tenant, staff_id)
        try:
            staff_admin.remove_role(db, tenant, me, staff, role_id)
            db.commit()
        except GovhallError as exc:
            db.rollback()
            if exc.status == 404:
                raise
            return Redirect(self._back(tenant, staff_id, error=exc.detail))
        return Redirect(self._back(tenant, staff_id, msg="已移除角色，该工作人员需重新登录"))

    @post("/staff/{staff_id:uuid}/{change:str}", name="people_staff_change", sync_to_thread=True)
    def staff_change(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        staff_id: uuid.UUID,
        change: str,
        data: Form,
    ) -> Template | Redirect:
        """停用, 启用, 重置密码, 要求动态口令 (or not), 强制下线."""
        me = admin_of(principal, tenant)
        staff = staff_admin.get_member(db, tenant, staff_id)
        msg = ""
        try:
            if change == "disable":
                staff_admin.set_enabled(db, tenant, me, staff, False)
                msg = "已停用，该工作人员已被强制下线"
            elif change == "enable":
                staff_admin.set_enabled(db, tenant, me, staff, True)
                msg = "已启用"
            elif change == "totp":
                required = data.get("required") == "on"
                staff_admin.set_totp_required(db, tenant, me, staff, required)
                msg = "已要求使用动态口令，下次登录时绑定" if required else "已不再要求动态口令"
            elif change == "sessions":
                staff_admin.end_member_sessions(db, tenant, me, staff)
                msg = "已强制下线，该工作人员在所有设备上的登录均已结束"
            elif change == "password":
                password = staff_admin.reset_password(db, tenant, me, staff)
                db.commit()
                return admin_page(
                    request,
                    db,
                    tenant,
                    "admin/staff_password.html",
                    me,
                    staff=staff,
                    password=password,
                    created=False,
                )
            else:
                raise NotFound("没有这个操作")
            db.commit()
        except GovhallError as exc:
            db.rollback()
            if exc.status == 404:
                raise
            return Redirect(self._back(tenant, staff_id, error=exc.detail))
        return Redirect(self._back(tenant, staff_id, msg=msg))

    # -- a province admin leaving a county -----------------------------------------------------

    @post("/leave", name="people_leave", sync_to_thread=True)
    def leave(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Redirect:
        """返回省级管理: the session is the province admin's own again, back at the console
        (recorded in the county's log, as entering was)."""
        if principal is not None and entered_from(principal, tenant):
            record(
                db,
                tenant,
                principal,
                "tenant.leave",
                target_type="tenant",
                target_id=tenant.slug,
                target_label=tenant.name,
            )
            db.commit()
        leave_tenant(request)
        province = db.get(Tenant, tenant.province_id)
        if province is None or province.id == tenant.id:
            return Redirect(f"/t/{tenant.slug}/")
        return Redirect(f"/t/{province.slug}/console")


class EnterCountyPages(Controller):
    """A province admin enters one of its counties' administration (recorded there)."""

    path = "/t/{slug:str}/console/enter"
    include_in_schema = False

    @post("/{county:str}", name="province_enter", sync_to_thread=True)
    def enter(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Form,
    ) -> Redirect:
        me = require_staff(principal, Role.province_admin)
        if not tenant.is_province or me.tenant_id != tenant.id:
            raise Forbidden("仅省级管理员可以进入下级地区的管理")
        try:
            target = get_tenant_by_slug(db, county)
        except GovhallError:
            raise NotFound("本省没有这个地区") from None
        if target.province_id != tenant.id or target.id == tenant.id:
            raise NotFound("本省没有这个地区")
        # the audit log is the province's: this session may write the county's entries
        with request.app.state.database.session(scope=scope_for(target)) as county_db:
            county_db.info.update(db.info)
            record(
                county_db,
                target,
                me,
                "tenant.enter",
                target_type="tenant",
                target_id=target.slug,
                target_label=target.name,
            )
            county_db.commit()
        enter_tenant(request, target)
        # straight to one admin page of the county (the wizard's 逐项选择认领), never elsewhere
        then = str(data.get("next") or "")
        if not (then.startswith("/admin/") and ".." not in then and "//" not in then):
            then = "/admin"
        return Redirect(f"/t/{target.slug}{then}")
