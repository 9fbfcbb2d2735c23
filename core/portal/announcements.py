"""Announcements (公告): a county admin writes, publishes, pins and unpublishes them; the
portal lists the published ones, pinned first, newest first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Snapshot, platform_scope, snapshot
from core.errors import InvalidInput, NotFound
from core.portal.models import Announcement
from core.tenancy import Tenant

__all__ = [
    "Announcement",
    "AnnouncementNotFound",
    "create_announcement",
    "get_announcement",
    "list_announcements",
    "published_announcement",
    "published_announcements",
    "update_announcement",
]

TITLE_MAX = 120
BODY_MAX = 20_000


class AnnouncementNotFound(NotFound):
    pass


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _stamp(moment: datetime | None) -> float:
    """A time to sort by (SQLite gives stored times back naive, in UTC)."""
    moment = moment or _EPOCH
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _checked(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not title:
        raise InvalidInput("请填写公告标题", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"公告标题不能超过 {TITLE_MAX} 个字", field="title")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"公告正文不能超过 {BODY_MAX} 个字", field="body")
    return title, body


def _publish(row: Announcement, published: bool) -> None:
    from core.cases import clock

    row.published = published
    if published and row.published_at is None:
        row.published_at = clock.now()


def create_announcement(
    session: Session,
    tenant: Tenant,
    *,
    title: str,
    body: str,
    published: bool = False,
    pinned: bool = False,
) -> Announcement:
    title, body = _checked(title, body)
    row = Announcement(tenant_id=tenant.id, title=title, body=body, pinned=pinned)
    _publish(row, published)
    session.add(row)
    session.flush()
    return row


def get_announcement(session: Session, tenant: Tenant, announcement_id: uuid.UUID) -> Announcement:
    """One of the tenant's announcements (another tenant's is not found)."""
    row = session.get(Announcement, (tenant.id, announcement_id))
    if row is None or row.tenant_id != tenant.id:
        raise AnnouncementNotFound("没有这条公告")
    return row


def update_announcement(
    session: Session,
    tenant: Tenant,
    announcement_id: uuid.UUID,
    *,
    title: str | None = None,
    body: str | None = None,
    published: bool | None = None,
    pinned: bool | None = None,
) -> Announcement:
    row = get_announcement(session, tenant, announcement_id)
    if title is not None or body is not None:
        row.title, row.body = _checked(
            row.title if title is None else title, row.body if body is None else body
        )
    if pinned is not None:
        row.pinned = pinned
    if published is not None:
        _publish(row, published)
    session.flush()
    return row


def list_announcements(session: Session, tenant: Tenant) -> list[Announcement]:
    """Every announcement of the tenant, for its admin: newest first."""
    return list(
        session.scalars(
            select(Announcement)
            .where(Announcement.tenant_id == tenant.id)
            .order_by(Announcement.created_at.desc())
        )
    )


def published_announcements(
    session: Session, tenant: Tenant, limit: int | None = None
) -> list[Snapshot]:
    """The published ones — the tenant's own and its province's (and city's), each marked
    with its ``tenant_id`` — pinned first, then newest first. Copies, read-only."""
    stmt = (
        select(Announcement)
        .where(Announcement.tenant_id == tenant.id, Announcement.published.is_(True))
        .order_by(Announcement.pinned.desc(), Announcement.published_at.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [snapshot(r) for r in session.scalars(stmt)]
    above = tenant.above
    if above:
        with platform_scope(session) as s:
            wider = (
                select(Announcement)
                .where(Announcement.tenant_id.in_(above), Announcement.published.is_(True))
                .order_by(Announcement.pinned.desc(), Announcement.published_at.desc())
            )
            if limit is not None:
                wider = wider.limit(limit)
            rows += [snapshot(r) for r in s.scalars(wider)]
    rows.sort(key=lambda r: (not r.pinned, -_stamp(r.published_at)))
    return rows[:limit] if limit is not None else rows


def published_announcement(
    session: Session, tenant: Tenant, announcement_id: uuid.UUID
) -> Snapshot:
    """One published announcement shown on ``tenant``'s portal: its own or its province's
    (or city's); anything else is not found."""
    for owner in (tenant.id, *tenant.above):
        with platform_scope(session) as s:
            row = s.get(Announcement, (owner, announcement_id))
            if row is not None and row.published:
                return snapshot(row)
    raise AnnouncementNotFound("没有这条公告")
