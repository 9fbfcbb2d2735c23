"""Org units (组织机构) in the county administration: the tree, create with a parent chooser,
edit, move, close when empty. The rules live in :mod:`core.tenancy.units`; these handlers
parse, call them and render."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.catalog.service import items_of_department
from core.errors import Conflict, GovhallError
from core.identity import Principal, staff_admin
from core.tenancy import OrgUnitKind, Tenant
from core.tenancy import units as org_units
from core.tenancy.models import UNIT_KIND_LABELS
from web.flash import with_flash
from web.pages._county_admin import admin_of, admin_page, unit_choices
from web.params import Form


class UnitAdminPages(Controller):
    path = "/t/{slug:str}/admin"
    include_in_schema = False

    @get("/units", name="people_units", sync_to_thread=True)
    def units(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        me = admin_of(principal, tenant)
        nodes = org_units.flatten(org_units.unit_tree(db, tenant))
        return admin_page(request, db, tenant, "admin/units.html", me, nodes=nodes)

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
        return admin_page(
            request,
            db,
            tenant,
            "admin/unit_new.html",
            me,
            form=form,
            kinds=[(k.value, UNIT_KIND_LABELS[k]) for k in OrgUnitKind],
            parents=unit_choices(db, tenant),
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
        me = admin_of(principal, tenant)
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
        me = admin_of(principal, tenant)
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
        return Redirect(with_flash(url, msg="已新增机构"))  # never typed text: web/flash.py

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
        return admin_page(
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
        me = admin_of(principal, tenant)
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
        me = admin_of(principal, tenant)
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
        me = admin_of(principal, tenant)
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
        me = admin_of(principal, tenant)
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
        return Redirect(with_flash(url, msg="已撤销机构"))
