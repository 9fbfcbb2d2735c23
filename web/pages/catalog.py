"""The public catalog portal (晒权 + 一次性告知): browse, search, item guide, PDF checklist,
themes, change log and statistics."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get
from litestar.response import Response, Stream, Template
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.catalog import (
    DepartmentDuty,
    Item,
    ItemChange,
    ItemVersion,
    Theme,
    catalog_stats,
    get_item_by_code,
    list_items,
    overrides_of,
)
from core.catalog.availability import suspension
from core.catalog.favourites import is_favourite
from core.catalog.forms import form_of
from core.catalog.listing import AUDIENCES, province_stats
from core.catalog.pdf import checklist_pdf
from core.catalog.presentation import (
    FIELD_LABELS,
    LABELS,
    STEP_ROLE_LABELS,
    applies_online,
    fee_total,
    material_source,
    visits_needed,
)
from core.catalog.service import directory
from core.consult import public_faq
from core.errors import NotFound
from core.identity import Principal
from core.portal import hot_items
from core.storage import get_storage
from core.tenancy import OrgUnitKind, Tenant, list_org_units
from core.workflow import ProcessUnavailable, resolve_definition
from web.pages.portal import render

PAGE_SIZE = 20
#: item names suggested as one types
SUGGESTED = 8


def _process(content: dict[str, Any]) -> str:
    return str(content.get("process") or "short")


def _filters(db: Session, tenant: Tenant) -> dict[str, Any]:
    return {**directory(db, tenant), "labels": LABELS}


class CatalogController(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    @get("/items", name="catalog_items", sync_to_thread=True)
    def items(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        q: str | None = None,
        department: str | None = None,
        category: str | None = None,
        level: str | None = None,
        theme: str | None = None,
        audience: str | None = None,
        page: int = 1,
    ) -> Template:
        page = max(1, page)
        result = list_items(
            db,
            tenant,
            q=q,
            department=department or None,
            category=category or None,
            level=level or None,
            theme=theme or None,
            audience=audience if audience in AUDIENCES else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        name = (
            "catalog/_results.html" if request.headers.get("hx-request") else "catalog/items.html"
        )
        return render(
            request,
            db,
            tenant,
            name,
            result=result,
            q=q or "",
            selected={
                "department": department,
                "category": category,
                "level": level,
                "theme": theme,
                "audience": audience if audience in AUDIENCES else None,
            },
            page=page,
            pages=max(1, -(-result.total // PAGE_SIZE)),
            # nothing found: what others apply for, to try instead
            hot=hot_items(db, tenant, limit=6) if not result.total else [],
            **_filters(db, tenant),
        )

    @get("/items/suggest", name="catalog_suggest", sync_to_thread=True)
    def suggest(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, q: str = ""
    ) -> Template:
        """htmx: up to eight item names as one types (catalog/_suggest.html)."""
        q = q.strip()[:50]
        found = list_items(db, tenant, q=q, limit=SUGGESTED) if q else None
        return render(
            request,
            db,
            tenant,
            "catalog/_suggest.html",
            q=q,
            suggestions=found.items if found else [],
            total=found.total if found else 0,
        )

    @get("/items/{code:str}", name="catalog_item", sync_to_thread=True)
    def item(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        code: str,
        principal: Principal | None,
        msg: str = "",
        error: str = "",
    ) -> Template:
        item = get_item_by_code(db, tenant, code)
        if not item.effective:
            raise NotFound(f"no item '{code}'")
        content = item.effective
        # 暂停办理 (its plugin is missing): the guide says so instead of failing
        suspended = suspension(db, tenant, item.code, content)
        live = db.get(ItemVersion, (tenant.id, item.live_version_id))
        changes = list(
            db.scalars(
                select(ItemChange)
                .where(ItemChange.tenant_id == tenant.id, ItemChange.item_id == item.id)
                .order_by(ItemChange.created_at.desc())
            )
        )
        return render(
            request,
            db,
            tenant,
            "catalog/item.html",
            item=item,
            content=content,
            version=live,
            changes=changes,
            overrides=overrides_of(db, item),
            field_labels=FIELD_LABELS,
            free=fee_total(content) == 0,
            suspended=suspended,
            process=None if suspended else resolve_definition(db, tenant, _process(content)),
            role_labels=STEP_ROLE_LABELS,
            faqs=public_faq(db, tenant, item.code),
            online=applies_online(content),
            visits=visits_needed(content),
            source_of=material_source,
            halls=[u for u in list_org_units(db) if u.kind is OrgUnitKind.service_centre],
            item_code=item.code,
            is_favourite=is_favourite(
                db, principal.id if principal and principal.is_account else None, item.code
            ),
            msg=msg,
            error=error,
            **_filters(db, tenant),
        )

    @get("/items/{code:str}/checklist.pdf", name="catalog_checklist", sync_to_thread=True)
    def checklist(self, tenant: Tenant, db: Session, code: str) -> Response[bytes]:
        item = get_item_by_code(db, tenant, code)
        if not item.effective:
            raise NotFound(f"no item '{code}'")
        dept = directory(db, tenant)["departments"].get(item.department_code)
        live = db.get(ItemVersion, (tenant.id, item.live_version_id))
        try:
            process = resolve_definition(db, tenant, _process(item.effective))
            steps = [" / ".join(s.name for s in layer) for layer in process.layers()]
        except ProcessUnavailable:
            steps = ["（暂停办理：办理流程暂不可用）"]
        pdf = checklist_pdf(
            tenant.display_name,
            item.code,
            item.effective,
            dept.name if dept else item.department_code,
            live.number if live else 1,
            steps,
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{item.code}-checklist.pdf"'},
        )

    @get("/items/{code:str}/forms/{number:int}", name="catalog_form", sync_to_thread=True)
    def form(self, tenant: Tenant, db: Session, code: str, number: int) -> Stream:
        """Download a material's form template (表单下载); numbers start at 1."""
        key, name = form_of(get_item_by_code(db, tenant, code), number - 1)
        storage = get_storage()
        info = storage.stat(key)
        if info is None:
            raise NotFound("no form template")
        return Stream(
            storage.open(key),
            media_type=info.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/themes/{code:str}", name="catalog_theme", sync_to_thread=True)
    def theme(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, code: str
    ) -> Template:
        theme = db.scalar(select(Theme).where(Theme.tenant_id == tenant.id, Theme.code == code))
        if theme is None:
            raise NotFound(f"no theme '{code}'")
        by_code = {i.code: i for i in list_items(db, tenant, theme=code, limit=1000).items}
        chain = [by_code[c] for c in theme.item_codes if c in by_code]
        return render(
            request,
            db,
            tenant,
            "catalog/theme.html",
            theme=theme,
            chain=chain,
            **_filters(db, tenant),
        )

    @get("/catalog/changes", name="catalog_changes", sync_to_thread=True)
    def changes(self, request: Request[Any, Any, Any], tenant: Tenant, db: Session) -> Template:
        rows = db.execute(
            select(ItemChange, Item.name, Item.code)
            .join(Item, and_(Item.tenant_id == ItemChange.tenant_id, Item.id == ItemChange.item_id))
            .where(ItemChange.tenant_id == tenant.id)
            .order_by(ItemChange.effective_on.desc(), ItemChange.created_at.desc())
            .limit(200)
        ).all()
        return render(request, db, tenant, "catalog/changes.html", rows=rows, labels=LABELS)

    @get("/catalog/stats", name="catalog_stats", sync_to_thread=True)
    def stats(self, request: Request[Any, Any, Any], tenant: Tenant, db: Session) -> Template:
        filters = _filters(db, tenant)
        if tenant.is_province:
            return render(
                request,
                db,
                tenant,
                "catalog/province_stats.html",
                roll=province_stats(db, tenant),
                **filters,
            )
        duties = list(
            db.scalars(
                select(DepartmentDuty)
                .where(DepartmentDuty.tenant_id == tenant.id)
                .order_by(DepartmentDuty.department_code)
            )
        )
        return render(
            request,
            db,
            tenant,
            "catalog/stats.html",
            stats=catalog_stats(db, tenant),
            duties=duties,
            **filters,
        )
