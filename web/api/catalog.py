"""API: the catalog — items, versions, diffs, change log, themes, statistics; and, for a
tenant admin, drafts, publication, adoption and status changes."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.openapi import ResponseSpec
from litestar.response import Response
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.catalog import (
    Item,
    ItemChange,
    Theme,
    adopt_item,
    catalog_stats,
    change_status,
    create_item,
    diff_versions,
    get_item_by_code,
    list_items,
    overrides_of,
    publish_item,
    save_draft,
    versions_of,
)
from core.catalog.adoption import adopt_standard
from core.catalog.listing import province_stats
from core.db import remembered
from core.errors import NotFound
from core.forms import json_schema, parse_form
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.api.scoped import anyone, needs
from web.auth import require_staff
from web.paging import clamp_window


class ItemSummary(msgspec.Struct):
    code: str
    name: str
    kind: str
    category: str
    department: str
    status: str
    legal_days: int
    promised_days: int
    levels: list[str]
    adopted_from_province: bool


class ItemOut(msgspec.Struct):
    code: str
    status: str
    version: int | None
    content: dict[str, Any]
    local_overrides: dict[str, Any]
    adopted_from_province: bool


class ItemListOut(msgspec.Struct):
    total: int
    items: list[ItemSummary]


class VersionOut(msgspec.Struct):
    number: int
    state: str
    valid_from: date | None
    valid_to: date | None
    note: str
    content: dict[str, Any]
    effective: dict[str, Any] | None


class DiffEntry(msgspec.Struct):
    field: str
    old: Any
    new: Any


class ChangeOut(msgspec.Struct):
    item_code: str
    item_name: str
    action: str
    reason: str
    target: str
    effective_on: date


class ThemeOut(msgspec.Struct):
    code: str
    name: str
    description: str
    items: list[str]


class ItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    content: dict[str, Any]
    publish: bool = False


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    content: dict[str, Any]
    note: str = ""


class PublishIn(msgspec.Struct, forbid_unknown_fields=True):
    valid_from: date | None = None
    reason: str = ""


class AdoptIn(msgspec.Struct, forbid_unknown_fields=True):
    standard_code: str
    overrides: dict[str, Any]
    code: str | None = None


class AdoptManyIn(msgspec.Struct, forbid_unknown_fields=True):
    """Which standard items to adopt (null: every one not adopted yet) and the department
    mapping: a province department's code (or exact name) → the county's org-unit code."""

    codes: list[str] | None = None
    departments: dict[str, str] = {}


class AdoptProblemOut(msgspec.Struct):
    code: str
    name: str
    message: str


class AdoptReportOut(msgspec.Struct):
    adopted: list[str]
    skipped: list[str]
    problems: list[AdoptProblemOut]
    departments: dict[str, str]


class StatusIn(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    reason: str
    target: str = ""
    effective_on: date | None = None


def _summary(item: Item) -> ItemSummary:
    return ItemSummary(
        code=item.code,
        name=item.name,
        kind=item.kind,
        category=item.category,
        department=item.department_code,
        status=item.status.value,
        legal_days=item.legal_days,
        promised_days=item.promised_days,
        levels=list(item.levels or []),
        adopted_from_province=item.standard_item_id is not None,
    )


def _item_out(db: Session, item: Item) -> ItemOut:
    live = next((v for v in versions_of(db, item) if v.id == item.live_version_id), None)
    return ItemOut(
        code=item.code,
        status=item.status.value,
        version=live.number if live else None,
        content=dict(item.effective or {}),
        local_overrides=overrides_of(db, item),
        adopted_from_province=item.standard_item_id is not None,
    )


def _version_out(v: Any) -> VersionOut:
    return VersionOut(
        number=v.number,
        state=v.state.value,
        valid_from=v.valid_from,
        valid_to=v.valid_to,
        note=v.note,
        content=dict(v.content),
        effective=dict(v.effective) if v.effective else None,
    )


class CatalogApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["catalog"]

    @get(
        "/items", summary="List, filter and search published items", sync_to_thread=True, **anyone()
    )
    def search(
        self,
        db: Session,
        tenant: Tenant,
        q: str | None = None,
        department: str | None = None,
        category: str | None = None,
        level: str | None = None,
        theme: str | None = None,
        status: str = "active",
        limit: int = 20,
        offset: int = 0,
    ) -> ItemListOut:
        if status not in ("active", "cancelled", "delegated", "transferred", "merged", "all"):
            from core.errors import InvalidInput

            raise InvalidInput(f"没有「{status}」这种状态", field="status")
        limit, offset = clamp_window(limit, offset, most=200)

        def load() -> ItemListOut:
            page = list_items(
                db,
                tenant,
                q=q,
                department=department,
                category=category,
                level=level,
                theme=theme,
                status=None if status == "all" else status,
                limit=limit,
                offset=offset,
            )
            return ItemListOut(total=page.total, items=[_summary(i) for i in page.items])

        # the same for every caller (published items only): the answer itself is remembered
        # for the memo's seconds, as the search's codes already were (core/db/_memo.py); a
        # catalog change forgets it
        key = ("api-items", tenant.id, q, department, category, level, theme, status)
        return remembered(db, (*key, limit, offset), load)

    @get(
        "/items/{code:str}",
        summary="One item: its effective content and local changes",
        sync_to_thread=True,
        **anyone(),
    )
    def item(self, db: Session, tenant: Tenant, code: str) -> ItemOut:
        item = get_item_by_code(db, tenant, code)
        if not item.live_version_id:
            raise NotFound(f"没有编码为 {code} 的事项")
        return _item_out(db, item)

    @get(
        "/items/{code:str}/form",
        summary="The item's application form as JSON Schema (draft 2020-12), with layout hints",
        description="Standard keywords validate shapes; `x-govhall-layout` gives the order and "
        "group headings, `x-govhall-type` our field type (id_number, mobile, credit_code, "
        "address, money …), `x-govhall-show-when` the conditions, `x-govhall-prefill` where a "
        "value may come from. The server's validation (checksums, county codes) stays the judge.",
        sync_to_thread=True,
        **anyone(),
    )
    def form(self, request: Request[Any, Any, Any], db: Session, tenant: Tenant, code: str) -> Any:
        item = get_item_by_code(db, tenant, code)
        if not item.live_version_id:
            raise NotFound(f"没有编码为 {code} 的事项")
        content = item.effective or {}
        schema = json_schema(
            parse_form(content.get("form") or []),
            title=f"{content.get('name', item.code)}申请表",
            schema_id=str(request.url),
        )
        return Response(schema, media_type="application/schema+json")

    @get(
        "/items/{code:str}/versions",
        summary="Every version of an item (staff)",
        sync_to_thread=True,
        **needs("catalog:write"),
    )
    def versions(
        self, db: Session, tenant: Tenant, principal: Principal | None, code: str
    ) -> list[VersionOut]:
        item = get_item_by_code(db, tenant, code)
        published = [v for v in versions_of(db, item) if v.state.value != "draft"]
        if principal is not None and principal.is_staff:
            published = versions_of(db, item)
        return [_version_out(v) for v in published]

    @get(
        "/items/{code:str}/diff",
        summary="What changed between two versions",
        sync_to_thread=True,
        **anyone(),
    )
    def diff(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        code: str,
        from_version: int,
        to_version: int,
    ) -> list[DiffEntry]:
        item = get_item_by_code(db, tenant, code)
        by_number = {
            v.number: v
            for v in versions_of(db, item)
            if v.state.value != "draft" or (principal and principal.is_staff)
        }
        if from_version not in by_number or to_version not in by_number:
            raise NotFound("没有这个版本")
        old, new = by_number[from_version], by_number[to_version]
        return [
            DiffEntry(field=f, old=a, new=b)
            for f, a, b in diff_versions(old.effective or old.content, new.effective or new.content)
        ]

    @get("/catalog/changes", summary="The public change log", sync_to_thread=True, **anyone())
    def changes(self, db: Session, tenant: Tenant, limit: int = 100) -> list[ChangeOut]:
        rows = db.execute(
            select(ItemChange, Item.code, Item.name)
            .join(Item, and_(Item.tenant_id == ItemChange.tenant_id, Item.id == ItemChange.item_id))
            .where(ItemChange.tenant_id == tenant.id)
            .order_by(ItemChange.effective_on.desc(), ItemChange.created_at.desc())
            .limit(max(1, min(limit, 1000)))
        ).all()
        return [
            ChangeOut(
                item_code=code,
                item_name=name,
                action=c.action,
                reason=c.reason,
                target=c.target,
                effective_on=c.effective_on,
            )
            for c, code, name in rows
        ]

    @get(
        "/catalog/stats",
        summary="Catalog statistics (a province: with its counties)",
        sync_to_thread=True,
        **anyone(),
    )
    def stats(self, db: Session, tenant: Tenant) -> dict[str, Any]:
        if tenant.is_province:
            return province_stats(db, tenant)
        return catalog_stats(db, tenant)

    @get("/themes", summary="Life-event themes (办事专题)", sync_to_thread=True, **anyone())
    def themes(self, db: Session, tenant: Tenant) -> list[ThemeOut]:
        return [
            ThemeOut(code=t.code, name=t.name, description=t.description, items=list(t.item_codes))
            for t in db.scalars(
                select(Theme).where(Theme.tenant_id == tenant.id).order_by(Theme.code)
            )
        ]

    # -- administration -------------------------------------------------------------------

    @post(
        "/items",
        summary="Create an item of this tenant (tenant admin)",
        sync_to_thread=True,
        **needs("catalog:write"),
    )
    def create(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: ItemCreate
    ) -> ItemOut:
        me = require_staff(principal, Role.tenant_admin, Role.province_admin)
        item = create_item(
            db, tenant, code=data.code, content=data.content, publish=data.publish, actor=me
        )
        db.commit()
        return _item_out(db, item)

    @put(
        "/items/{code:str}/draft",
        summary="Save the item's draft (tenant admin)",
        sync_to_thread=True,
        **needs("catalog:write"),
    )
    def draft(
        self, db: Session, tenant: Tenant, principal: Principal | None, code: str, data: DraftIn
    ) -> VersionOut:
        me = require_staff(principal, Role.tenant_admin, Role.province_admin)
        version = save_draft(
            db, tenant, get_item_by_code(db, tenant, code), data.content, data.note, actor=me
        )
        db.commit()
        return _version_out(version)

    @post(
        "/items/{code:str}/publish",
        summary="Publish the draft (tenant admin)",
        sync_to_thread=True,
        status_code=200,
        **needs("catalog:write"),
    )
    def publish(
        self, db: Session, tenant: Tenant, principal: Principal | None, code: str, data: PublishIn
    ) -> ItemOut:
        me = require_staff(principal, Role.tenant_admin, Role.province_admin)
        item = get_item_by_code(db, tenant, code)
        publish_item(db, tenant, item, valid_from=data.valid_from, reason=data.reason, actor=me)
        db.commit()
        return _item_out(db, item)

    @post(
        "/items/adopt",
        summary="Adopt a province item with local overrides (county admin)",
        sync_to_thread=True,
        **needs("catalog:write"),
    )
    def adopt(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: AdoptIn
    ) -> ItemOut:
        require_staff(principal, Role.tenant_admin)
        item = adopt_item(db, tenant, data.standard_code, overrides=data.overrides, code=data.code)
        db.commit()
        return _item_out(db, item)

    @post(
        "/catalog/adopt",
        summary="Adopt the province's standard items in bulk (county admin)",
        description="`codes` null adopts every standard item not adopted yet; items already "
        "adopted are skipped. Each keeps the province's code. `departments` maps a province "
        "department (code or exact name) to the county's; departments whose names agree "
        "(市场监督管理局 ↔ 县市场监督管理局) are mapped without being named. All or nothing: "
        "when any item cannot be adopted the answer is 422 with every problem, in Chinese, "
        "and nothing is adopted. One audit entry `catalog.adopt` lists the codes.",
        sync_to_thread=True,
        status_code=200,
        responses={
            422: ResponseSpec(
                data_container=AdoptReportOut,
                description="Nothing adopted: `problems` names each item that cannot be",
            )
        },
        **needs("catalog:write"),
    )
    def adopt_many(
        self, db: Session, tenant: Tenant, principal: Principal | None, data: AdoptManyIn
    ) -> Response[AdoptReportOut]:
        who = require_staff(principal, Role.tenant_admin)
        report = adopt_standard(db, tenant, who, codes=data.codes, departments=data.departments)
        body = AdoptReportOut(
            adopted=report.adopted,
            skipped=report.skipped,
            problems=[AdoptProblemOut(p.code, p.name, p.message) for p in report.problems],
            departments=report.departments,
        )
        if not report.ok:
            db.rollback()
            return Response(body, status_code=422)
        db.commit()
        return Response(body, status_code=200)

    @post(
        "/items/{code:str}/status",
        summary="Cancel, delegate, transfer or merge (admin)",
        sync_to_thread=True,
        status_code=200,
        **needs("catalog:write"),
    )
    def status(
        self, db: Session, tenant: Tenant, principal: Principal | None, code: str, data: StatusIn
    ) -> ItemOut:
        me = require_staff(principal, Role.tenant_admin, Role.province_admin)
        item = get_item_by_code(db, tenant, code)
        change_status(
            db,
            tenant,
            item,
            data.action,
            reason=data.reason,
            target=data.target,
            effective_on=data.effective_on,
            actor=me,
        )
        db.commit()
        return _item_out(db, item)
