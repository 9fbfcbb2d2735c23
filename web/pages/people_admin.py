"""County administration in the browser: staff (工作人员) and org units (组织机构), the first
sign-in after a temporary password (or with a dynamic code to enrol), and a province admin
entering a county's administration. The rules live in :mod:`core.identity.staff_admin` and
:mod:`core.tenancy.units`; these handlers parse, call them and render."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.audit import record
from core.catalog.service import items_of_department
from core.errors import Conflict, Forbidden, GovhallError, NotFound
from core.identity import Principal, Role, staff_admin
from core.identity.service import staff_principal
from core.tenancy import OrgUnitKind, Tenant, get_tenant_by_slug, scope_for
from core.tenancy import units as org_units
from core.tenancy.models import UNIT_KIND_LABELS
from web.auth import (
    enter_tenant,
    entered_from,
    leave_tenant,
    require_staff,
    setup_subject,
    setup_value,
    sign_in_session,
)
from web.flash import with_flash
from web.pages.portal import render
from web.params import Form

__all__ = ["EnterCountyPages", "PeopleAdminPages", "StaffSetupPages"]


def _admin(principal: Principal | None, tenant: Tenant) -> Principal:
    """A tenant admin of ``tenant`` (a province's own admin in the province, too)."""
    if tenant.is_province:
        return require_staff(principal, Role.tenant_admin, Role.province_admin)
    return require_staff(principal, Role.tenant_admin)


def _flash(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {
        "msg": request.query_params.get("msg", ""),
        "error": request.query_params.get("error", ""),
    }


def _page(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    name: str,
    me: Principal,
    **ctx: Any,
) -> Template:
    """An admin page with the entered-province banner's facts and the redirect's message."""
    entered = entered_from(me, tenant)
    for key, value in _flash(request).items():
        ctx.setdefault(key, value)
    return render(request, db, tenant, name, entered=entered, **ctx)


def _qr_data_uri(text: str, size: int = 180) -> str:
    """A QR code of ``text`` as an SVG data URI, for an authenticator app's camera."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(text)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    svg = renderSVG.drawToString(drawing)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _unit_choices(db: Session, tenant: Tenant) -> list[tuple[str, str]]:
    """(code, name indented by depth) of every open unit, tree order, for a chooser."""
    nodes = org_units.flatten(org_units.unit_tree(db, tenant, include_closed=False))
    return [(n.unit.code, "\u3000" * n.depth + n.unit.name) for n in nodes]


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
        return _page(
            request,
            db,
            tenant,
            "admin/staff.html",
            me,
            rows=rows,
            units=_unit_choices(db, tenant),
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
        me = _admin(principal, tenant)
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
        return _page(
            request,
            db,
            tenant,
            "admin/staff_new.html",
            me,
            form=form or {"unit": request.query_params.get("unit", "")},
            units=_unit_choices(db, tenant),
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
        me = _admin(principal, tenant)
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
        me = _admin(principal, tenant)
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
        return _page(
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
        return _page(
            request,
            db,
            tenant,
            "admin/staff_edit.html",
            me,
            staff=staff,
            held=staff_admin.roles_of(db, tenant, staff),
            units=_unit_choices(db, tenant),
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
        me = _admin(principal, tenant)
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
        me = _admin(principal, tenant)
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
        me = _admin(principal, tenant)
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
        me = _admin(principal, tenant)
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
        me = _admin(principal, tenant)
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
                return _page(
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

    # -- org units ---------------------------------------------------------------------------

    @get("/units", name="people_units", sync_to_thread=True)
    def units(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = _admin(principal, tenant)
        nodes = org_units.flatten(org_units.unit_tree(db, tenant))
        return _page(request, db, tenant, "admin/units.html", me, nodes=nodes)

    def _unit_form(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        me: Principal,
        *,
        form: dict[str, str],
        exc: GovhallError | None = None,
    ) -> Template:
        return _page(
            request,
            db,
            tenant,
            "admin/unit_new.html",
            me,
            form=form,
            kinds=[(k.value, UNIT_KIND_LABELS[k]) for k in OrgUnitKind],
            parents=_unit_choices(db, tenant),
            field=exc.field if exc else "",
            field_error=exc.detail if exc else "",
            status_code=exc.status if exc else 200,
        )

    @get("/units/new", name="people_unit_new", sync_to_thread=True)
    def unit_new(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = _admin(principal, tenant)
        form = {"parent": request.query_params.get("parent", ""), "kind": "department"}
        return self._unit_form(request, db, tenant, me, form=form)

    @post("/units", name="admin_unit_add", sync_to_thread=True)
    def unit_create(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        """Add a department, centre, station or window under a parent chosen from the tree."""
        me = _admin(principal, tenant)
        try:
            unit = org_units.create_unit(
                db,
                tenant,
                me,
                code=data.get("code", ""),
                name=data.get("name", ""),
                kind=data.get("kind", ""),
                parent_code=data.get("parent", ""),
                address=data.get("address", ""),
                phone=data.get("phone", ""),
                office_hours=data.get("office_hours", ""),
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._unit_form(request, db, tenant, me, form=data, exc=exc)
        url = f"/t/{tenant.slug}/admin/units#unit-{quote(unit.code)}"
        return Redirect(with_flash(url, msg=f"已新增机构：{unit.name}"))

    def _unit_page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        me: Principal,
        code: str,
        *,
        form: dict[str, str] | None = None,
        exc: GovhallError | None = None,
        about: str = "",
    ) -> Template:
        unit = org_units.get_unit(db, tenant, code)
        below = org_units.descendants(db, tenant, unit)
        everything = org_units.flatten(org_units.unit_tree(db, tenant))
        parent = next((n.unit for n in everything if n.unit.id == unit.parent_id), None)
        parents = [  # never under itself or a unit below it; never a closed one
            (n.unit.code, "\u3000" * n.depth + n.unit.name)
            for n in everything
            if n.unit.closed_at is None and n.unit.id != unit.id and n.unit.id not in below
        ]
        return _page(
            request,
            db,
            tenant,
            "admin/unit_edit.html",
            me,
            unit=unit,
            parent=parent,
            parents=parents,
            kinds=[(k.value, UNIT_KIND_LABELS[k]) for k in OrgUnitKind],
            form=form
            or {
                "name": unit.name,
                "kind": unit.kind.value,
                "address": unit.address,
                "phone": unit.phone,
                "office_hours": unit.office_hours,
            },
            about=about,
            field=exc.field if exc else "",
            field_error=exc.detail if exc else "",
            status_code=exc.status if exc else 200,
        )

    @get("/units/{code:str}", name="people_unit_edit", sync_to_thread=True)
    def unit_edit(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
    ) -> Template:
        me = _admin(principal, tenant)
        return self._unit_page(request, db, tenant, me, code)

    @post("/units/{code:str}", name="people_unit_update", sync_to_thread=True)
    def unit_update(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Form,
    ) -> Template | Redirect:
        me = _admin(principal, tenant)
        unit = org_units.get_unit(db, tenant, code)
        try:
            fields = ("name", "kind", "address", "phone", "office_hours")
            org_units.update_unit(db, tenant, me, unit, **{k: data.get(k, "") for k in fields})
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._unit_page(request, db, tenant, me, code, form=data, exc=exc, about="edit")
        return Redirect(with_flash(f"/t/{tenant.slug}/admin/units/{quote(code)}", msg="已保存"))

    @post("/units/{code:str}/move", name="people_unit_move", sync_to_thread=True)
    def unit_move(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Form,
    ) -> Template | Redirect:
        me = _admin(principal, tenant)
        unit = org_units.get_unit(db, tenant, code)
        try:
            org_units.move_unit(db, tenant, me, unit, data.get("parent", ""))
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._unit_page(request, db, tenant, me, code, exc=exc, about="move")
        return Redirect(
            with_flash(f"/t/{tenant.slug}/admin/units/{quote(code)}", msg="已调整上级机构")
        )

    @post("/units/{code:str}/close", name="people_unit_close", sync_to_thread=True)
    def unit_close(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
    ) -> Template | Redirect:
        me = _admin(principal, tenant)
        unit = org_units.get_unit(db, tenant, code)
        try:
            if items := items_of_department(db, tenant, unit.code):
                raise Conflict(
                    f"还有 {items} 个事项由该机构实施，请先在事项管理中把它们改给其他部门或取消"
                )
            staff_admin.close_unit(db, tenant, me, unit)
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._unit_page(request, db, tenant, me, code, exc=exc, about="close")
        url = f"/t/{tenant.slug}/admin/units#unit-{quote(code)}"
        return Redirect(with_flash(url, msg=f"已撤销机构：{unit.name}"))

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


class StaffSetupPages(Controller):
    """The first sign-in after a temporary password: choose one's own password and, when the
    administrator requires it, enrol a dynamic code (动态口令) — then one is signed in."""

    path = "/t/{slug:str}/staff/setup"
    include_in_schema = False

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        *,
        exc: GovhallError | None = None,
    ) -> Template | Redirect:
        staff = setup_subject(request, db, tenant)
        if staff is None:
            return Redirect(f"/t/{tenant.slug}/staff/login")
        secret, uri = "", ""
        if staff.totp_required and not staff.totp_secret:
            secret = setup_value(request, "totp") or setup_value(
                request, "totp", staff_admin.new_totp_secret()
            )
            uri = staff_admin.totp_uri(staff, secret, tenant.display_name)
        return render(
            request,
            db,
            tenant,
            "auth/staff_setup.html",
            staff=staff,
            secret=secret,
            uri=uri,
            qr=_qr_data_uri(uri) if uri else "",
            field=exc.field if exc else "",
            field_error=exc.detail if exc else "",
            status_code=exc.status if exc else 200,
        )

    @get("/", name="staff_setup", sync_to_thread=True)
    def show(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session
    ) -> Template | Redirect:
        return self._page(request, db, tenant)

    @post("/", name="staff_setup_post", sync_to_thread=True)
    def finish(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, data: Form
    ) -> Template | Redirect:
        staff = setup_subject(request, db, tenant)
        if staff is None:
            return Redirect(f"/t/{tenant.slug}/staff/login")
        try:
            staff_admin.finish_setup(
                staff,
                password=data.get("password", ""),
                confirm=data.get("confirm", ""),
                totp_secret=setup_value(request, "totp"),
                code=data.get("code", ""),
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._page(request, db, tenant, exc=exc)
        sign_in_session(request, tenant, staff_principal(db, tenant, staff))
        return Redirect(f"/t/{tenant.slug}/workbench")
