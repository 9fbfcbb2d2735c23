"""An item's guide, rendered once per live version and kept (core/catalog/guides.py holds
it), and the conditional answers (ETag, Last-Modified, 304) of the pages that show it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request
from litestar.response import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from core.catalog import Item
from core.catalog import pdf as pdf_module
from core.catalog.guides import (
    GUIDE_HTML,
    GUIDE_PDF,
    KeptGuide,
    guide_stamp,
    halls,
    keep_guide,
    kept_guide,
)
from core.catalog.presentation import LABELS, STEP_ROLE_LABELS, material_source
from core.tenancy import Tenant
from web.i18n import CATALOGS
from web.templating import TEMPLATES, _callables

__all__ = ["Guide", "conditional", "guide_of", "kept_checklist"]

GUIDE_TEMPLATE = "catalog/_guide.html"
#: where the page puts its 常见问题 (answers change apart from the version)
MARKER = Markup("<!--gh-guide-faq-->")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """What else a kept guide was rendered with: the templates, the English catalog, the
    labels and the PDF's layout — a deployment changing any of them renders guides anew."""
    digest = hashlib.sha256()
    for path in (
        TEMPLATES / GUIDE_TEMPLATE,
        TEMPLATES / "_ui.html",
        CATALOGS / "en.po",
        Path(pdf_module.__file__),
    ):
        digest.update(path.read_bytes())
    digest.update(repr((LABELS, STEP_ROLE_LABELS)).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Guide:
    """The guide section of an item page, split where the page shows its 常见问题."""

    before_faq: Markup
    after_faq: Markup
    #: when it was rendered (None: rendered for this view only, an item that is 暂停办理)
    rendered_at: datetime | None


def _parts(
    tenant: Tenant, content: dict[str, Any], names: dict[str, Any], process: Any, rooms: list[Any]
) -> tuple[Any, ...]:
    """What a guide reads besides its version, as comparable values."""
    department = names["departments"].get(content.get("department"))
    category = names["categories"].get(content.get("category"))
    return (
        department.name if department else content.get("department", ""),
        category.name if category else "",
        msgspec.json.encode(process) if process is not None else b"",
        [(h.name, h.address, h.phone, h.office_hours) for h in rooms],
        fingerprint(),
    )


def guide_of(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    item: Item,
    *,
    names: dict[str, Any],
    process: Any,
    suspended: bool,
    lang: str,
    free: bool,
    visits: int,
) -> Guide:
    """The guide of ``item``'s live version in ``lang``: the kept one when its stamp still
    holds, else rendered now and kept — unless the item is 暂停办理, whose guide (without its
    process) is rendered for this view only."""
    content = item.effective
    rooms = halls(db, tenant)
    stamp = ""
    if not suspended and item.live_version_id is not None:
        parts = _parts(tenant, content, names, process, rooms)
        stamp = guide_stamp(tenant, item.live_version_id, GUIDE_HTML, lang, *parts)
        kept = kept_guide(db, tenant, item.id, GUIDE_HTML, lang, stamp)
        if kept is not None:
            return _split(kept.body.decode(), kept.rendered_at)
    department = names["departments"].get(content.get("department"))
    category = names["categories"].get(content.get("category"))
    gettext, ngettext = _callables(lang)
    engine = request.app.template_engine
    assert engine is not None
    html = engine.get_template(GUIDE_TEMPLATE).render(
        content=content,
        item_code=item.code,
        department=department.name if department else content.get("department", ""),
        category=category.name if category else "",
        labels=LABELS,
        free=free,
        visits=visits,
        halls=rooms,
        process=process,
        role_labels=STEP_ROLE_LABELS,
        source_of=material_source,
        base=f"/t/{tenant.slug}",
        lang=lang,
        _=gettext,
        gettext=gettext,
        ngettext=ngettext,
        MARKER=MARKER,
    )
    if not stamp:
        return _split(html, None)
    assert item.live_version_id is not None
    kept = keep_guide(
        request.app.state.database,
        tenant,
        item.id,
        item.live_version_id,
        GUIDE_HTML,
        lang,
        stamp,
        html.encode(),
    )
    return _split(html, kept.rendered_at)


def _split(html: str, rendered_at: datetime | None) -> Guide:
    before, _, after = html.partition(MARKER)
    return Guide(Markup(before), Markup(after), rendered_at)  # noqa: S704 — rendered by Jinja


def kept_checklist(
    request: Request[Any, Any, Any],
    db: Session,
    tenant: Tenant,
    item: Item,
    *,
    department: str,
    version: int,
    steps: list[str] | None,
    render: Any,
) -> KeptGuide:
    """The checklist PDF of ``item``'s live version: kept, or made by ``render()`` and kept.
    ``steps`` None: the process is unavailable (暂停办理), and the PDF is made for this
    download only."""
    assert item.live_version_id is not None
    parts = (department, version, steps, fingerprint())
    stamp = guide_stamp(tenant, item.live_version_id, GUIDE_PDF, "zh", *parts)
    if steps is None:
        return KeptGuide(stamp, render(), datetime.now(UTC))
    kept = kept_guide(db, tenant, item.id, GUIDE_PDF, "zh", stamp)
    if kept is not None:
        return kept
    database = request.app.state.database
    return keep_guide(
        database, tenant, item.id, item.live_version_id, GUIDE_PDF, "zh", stamp, render()
    )


# -- conditional requests -----------------------------------------------------------------------


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _not_modified_since(request: Request[Any, Any, Any], last_modified: datetime) -> bool:
    header = request.headers.get("if-modified-since")
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.astimezone(UTC).replace(microsecond=0) <= since


def conditional(
    request: Request[Any, Any, Any],
    body: bytes,
    *,
    media_type: str,
    etag: str,
    last_modified: datetime,
    since_allowed: bool = True,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """``body`` with its validators, or 304 Not Modified when the request's If-None-Match
    names ``etag`` — or, sent without If-None-Match, its If-Modified-Since is not before
    ``last_modified`` (and ``since_allowed``)."""
    validators = {
        "ETag": etag,
        "Last-Modified": _http_date(last_modified),
        **(headers or {}),
    }
    match = request.headers.get("if-none-match")
    if match is not None:
        fresh = etag in {t.strip() for t in match.split(",")} or match.strip() == "*"
    else:
        fresh = since_allowed and _not_modified_since(request, last_modified)
    if fresh:
        return Response(b"", status_code=304, headers=validators, media_type=media_type)
    return Response(body, media_type=media_type, headers=validators)
