"""The public catalog portal (晒权 + 一次性告知): browse, search, item guide, PDF checklist,
themes, change log and statistics."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from litestar import Controller, MediaType, Request, get
from litestar.response import Response, Stream, Template
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.cases import clock
from core.catalog import (
    DepartmentDuty,
    Item,
    ItemChange,
    Theme,
    catalog_stats,
    get_item_by_code,
    list_items,
    overrides_of,
)
from core.catalog.availability import suspended_items, suspension
from core.catalog.favourites import is_favourite
from core.catalog.forms import form_of
from core.catalog.listing import AUDIENCES, province_stats
from core.catalog.pdf import checklist_pdf
from core.catalog.presentation import (
    FIELD_LABELS,
    LABELS,
    applies_online,
    fee_total,
    visits_needed,
)
from core.catalog.service import directory, item_changes, item_with_live
from core.consult import public_faq
from core.db import utcnow
from core.errors import NotFound
from core.identity import Principal
from core.portal import hot_items
from core.storage import get_storage
from core.tenancy import Tenant
from core.workflow import ProcessUnavailable, resolve_definition
from web.pages._guide import conditional, guide_of, kept_checklist
from web.pages._kept import kept_page
from web.pages.portal import render
from web.paging import page_number
from web.templating import lang_of

PAGE_SIZE = 20
#: item names suggested as one types
SUGGESTED = 8


def _process(content: dict[str, Any]) -> str:
    return str(content.get("process") or "short")


def _filters(db: Session, tenant: Tenant) -> dict[str, Any]:
    return {**directory(db, tenant), "labels": LABELS}


#: when this process started: a page's Last-Modified is never earlier (its code and plugins
#: are those loaded then)
STARTED = utcnow()


def _aware(moment: datetime) -> datetime:
    """A stored time (SQLite returns them naive, in UTC) with its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _faq_time(faqs: list[Any]) -> datetime | None:
    """The newest answer's time as far as the page knows it (its day): the end of that day,
    or now while the day lasts — never a time before an answer the page shows."""
    days = [f.answered_on for f in faqs if f.answered_on]
    if not days:
        return None
    end = datetime.combine(max(days) + timedelta(days=1), time(), tzinfo=clock.TZ)
    return min(end, utcnow())


def _rendered(request: Request[Any, Any, Any], page: Template) -> bytes:
    """A page's bytes, rendered here (as Litestar would) so that its ETag can be computed."""
    engine = request.app.template_engine
    assert engine is not None and page.template_name is not None
    template = engine.get_template(page.template_name)
    return template.render(**page.create_template_context(request)).encode()


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
        principal: Principal | None = None,
    ) -> Response[bytes]:
        """办事事项: the search and the filters (the results alone for htmx). A signed-out
        visitor's view is kept for a few seconds (web/pages/_kept.py): a search many run at
        once is rendered once."""
        body, _ = kept_page(
            request,
            db,
            tenant,
            principal,
            "items-page",
            lambda: (
                _rendered(
                    request,
                    self._items(
                        request, tenant, db, q, department, category, level, theme, audience, page
                    ),
                ),
                None,
            ),
        )
        return Response(body, media_type=MediaType.HTML)

    def _items(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        q: str | None,
        department: str | None,
        category: str | None,
        level: str | None,
        theme: str | None,
        audience: str | None,
        page: int,
    ) -> Template:
        page = page_number(page)
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
            suspended=suspended_items(db, tenant),
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
    ) -> Response[bytes]:
        """The one-time guide. Its guide section is rendered once per live version and
        language and kept (web/pages/_guide.py); the page around it — who is signed in,
        whether the item can be applied for now, the answers, the change log — is assembled
        for a view, and a repeat view of the same page is answered 304. A signed-out
        visitor's page is the same for everyone but its CSRF token, so it is kept for the
        memo's seconds (:func:`_kept_page`) and a popular guide is rendered once, not once
        per visitor."""
        body, last_modified = kept_page(
            request,
            db,
            tenant,
            principal,
            "item-page",
            lambda: self._page(request, tenant, db, code, principal, msg, error),
        )
        return conditional(
            request,
            body,
            media_type=MediaType.HTML,
            etag=f'W/"{hashlib.sha256(body).hexdigest()[:32]}"',
            last_modified=last_modified,
            # by date alone only for visitors signed out: their page holds nothing of theirs
            # beyond the cookies it varies on
            since_allowed=principal is None and not msg and not error,
            headers={"Cache-Control": "private, no-cache", "Vary": "Cookie"},
        )

    def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        code: str,
        principal: Principal | None,
        msg: str,
        error: str,
    ) -> tuple[bytes, datetime]:
        """The item page's bytes and the newest time among what it shows."""
        item, live = item_with_live(db, tenant, code)
        if not item.effective:
            raise NotFound(f"no item '{code}'")
        content = item.effective
        # 暂停办理 (its plugin is missing): the guide says so instead of failing
        suspended = suspension(db, tenant, item.code, content)
        changes = item_changes(db, tenant, item)
        names = _filters(db, tenant)
        process = None if suspended else resolve_definition(db, tenant, _process(content))
        free, visits = fee_total(content) == 0, visits_needed(content)
        guide = guide_of(
            request,
            db,
            tenant,
            item,
            names=names,
            process=process,
            suspended=bool(suspended),
            lang=lang_of(request),
            free=free,
            visits=visits,
        )
        faqs = public_faq(db, tenant, item.code)
        page = render(
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
            free=free,
            suspended=suspended,
            guide=guide,
            faqs=faqs,
            online=applies_online(content),
            visits=visits,
            item_code=item.code,
            is_favourite=is_favourite(
                db, principal.id if principal and principal.is_account else None, item.code
            ),
            msg=msg,
            error=error,
            **names,
        )
        body = _rendered(request, page)
        # The page's own validator is its bytes (the ETag): it covers every part that differs
        # per visitor (name, CSRF token, language, elder mode, 暂停办理) without listing them.
        times = [
            item.updated_at,
            live.published_at if live else None,
            changes[0].created_at if changes else None,
            guide.rendered_at or utcnow(),
            _faq_time(faqs),
            STARTED,
        ]
        return body, max(_aware(t) for t in times if t is not None)

    @get("/items/{code:str}/checklist.pdf", name="catalog_checklist", sync_to_thread=True)
    def checklist(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, code: str
    ) -> Response[bytes]:
        """一次性告知单 as a PDF, made once per live version and kept; 304 for a repeat."""
        item, live = item_with_live(db, tenant, code)
        if not item.effective:
            raise NotFound(f"no item '{code}'")
        dept = directory(db, tenant)["departments"].get(item.department_code)
        try:
            process = resolve_definition(db, tenant, _process(item.effective))
            steps: list[str] | None = [
                " / ".join(s.name for s in layer) for layer in process.layers()
            ]
        except ProcessUnavailable:
            steps = None  # 暂停办理: said in this PDF, never kept
        department = dept.name if dept else item.department_code
        number = live.number if live else 1
        kept = kept_checklist(
            request,
            db,
            tenant,
            item,
            department=department,
            version=number,
            steps=steps,
            render=lambda: checklist_pdf(
                tenant.display_name,
                item.code,
                item.effective,
                department,
                number,
                steps if steps is not None else ["（暂停办理：办理流程暂不可用）"],
            ),
        )
        return conditional(
            request,
            kept.body,
            media_type="application/pdf",
            etag=f'"{kept.stamp[:32]}"',
            last_modified=_aware(kept.rendered_at),
            headers={
                "Content-Disposition": f'inline; filename="{item.code}-checklist.pdf"',
                "Cache-Control": "public, no-cache",
            },
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
