"""The catalog: items (事项) with versions, status history, themes, duties and a search index."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned, new_id, utcnow


class ItemStatus(enum.StrEnum):
    """保留, 取消, 下放, 转移, 整合."""

    active = "active"
    cancelled = "cancelled"
    delegated = "delegated"
    transferred = "transferred"
    merged = "merged"


class VersionState(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"  # published with a validity window that has not begun
    published = "published"
    superseded = "superseded"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Category(Base):
    """The managed list of item categories (行政许可, 行政确认 … 公共服务); platform-wide."""

    __tablename__ = "item_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # power | public_service
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Item(TenantOwned, Base):
    """One service item of a tenant. Its content lives in versions; the columns here mirror
    the live version's effective values so that lists, filters and statistics are indexed."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_items_browse", "tenant_id", "status", "category", "department_code"),
        # Covers the default listing: count and page in code order without reading rows.
        Index("ix_items_listing", "tenant_id", "status", "code", "live_version_id"),
        Index("ix_items_standard", "standard_item_id"),
        # The home page counts 个人办事 and 法人办事 without reading rows.
        Index("ix_items_audience", "tenant_id", "status", "audience"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64))
    #: The province item this county item adopts (its content falls back to it), if any.
    standard_item_id: Mapped[uuid.UUID | None] = mapped_column()
    standard_tenant_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[ItemStatus] = mapped_column(
        _enum(ItemStatus, "item_status"), default=ItemStatus.active
    )
    live_version_id: Mapped[uuid.UUID | None] = mapped_column()
    # -- effective values of the live version (denormalised) --
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default="power")
    category: Mapped[str] = mapped_column(String(32), default="")
    department_code: Mapped[str] = mapped_column(String(40), default="")
    legal_days: Mapped[int] = mapped_column(Integer, default=0)
    promised_days: Mapped[int] = mapped_column(Integer, default=0)
    levels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: 服务对象: "person", "enterprise" or "person enterprise" (an item naming none: person)
    audience: Mapped[str] = mapped_column(String(32), default="person", server_default="person")
    #: The live version's effective content (adopted items: the province's, with overrides).
    effective: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ItemVersion(TenantOwned, Base):
    """A version of an item: full content for the tenant's own items, only the changed fields
    (overrides) for an item adopted from the province."""

    __tablename__ = "item_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "item_id", "number"),
        ForeignKeyConstraint(
            ["tenant_id", "item_id"], ["items.tenant_id", "items.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    item_id: Mapped[uuid.UUID] = mapped_column()
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[VersionState] = mapped_column(
        _enum(VersionState, "version_state"), default=VersionState.draft
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Set on publication: the full content in force under this version, which cases pin.
    effective: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class ItemChange(TenantOwned, Base):
    """The public change log: publication and status changes, with reason and date."""

    __tablename__ = "item_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "item_id"], ["items.tenant_id", "items.id"], ondelete="CASCADE"
        ),
        Index("ix_item_changes_recent", "tenant_id", "effective_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    item_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[str] = mapped_column(String(20))  # publish|cancel|delegate|transfer|merge
    reason: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str] = mapped_column(String(200), default="")
    effective_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Theme(TenantOwned, Base):
    """A life event (办事专题): an ordered chain of item codes."""

    __tablename__ = "themes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    item_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class DepartmentDuty(TenantOwned, Base):
    """Department-level duties: main duties, boundary duties, in-process supervision rules."""

    __tablename__ = "department_duties"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_department_duties_dept", "tenant_id", "department_code", "kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    department_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # main_duty | boundary | supervision_rule
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class ItemTerm(TenantOwned, Base):
    """The Chinese search index: unigrams and bigrams of the effective text, plus words.

    Each posting carries what a result list filters and sorts on (the item's code, status,
    department, category, audience and levels), so a search reads the postings of its terms
    and then only the rows of the page it shows — never the items of every match."""

    __tablename__ = "item_terms"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "item_id"], ["items.tenant_id", "items.id"], ondelete="CASCADE"
        ),
        # Re-indexing an item deletes its terms: without this, each publication read every
        # term of the tenant (the primary key leads with the term), so imports grew quadratic.
        Index("ix_item_terms_item", "tenant_id", "item_id"),
        # A search: one range read per term, already in code order for the usual status.
        Index("ix_item_terms_search", "tenant_id", "term", "status", "code"),
    )

    term: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # -- the item's listing columns, kept equal to its own (core/catalog/search.py) --
    code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(32), default="active", server_default="active")
    department_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    category: Mapped[str] = mapped_column(String(32), default="", server_default="")
    audience: Mapped[str] = mapped_column(String(32), default="person", server_default="person")
    #: the item's levels between spaces (" county township "), for a LIKE that needs no JSON
    levels: Mapped[str] = mapped_column(String(64), default="", server_default="")


class ItemGuide(TenantOwned, Base):
    """An item's guide as rendered once for its live version (一次性告知): the guide section
    of the item page per language (``html``, zlib-compressed) and the checklist PDF (``pdf``).
    ``stamp`` digests everything the rendering read — the version, the department and
    category names, the process, the service halls, the tenant's name, the templates — so a
    row whose stamp differs from the one computed now is never served (see
    core/catalog/guides.py)."""

    __tablename__ = "item_guides"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "item_id"], ["items.tenant_id", "items.id"], ondelete="CASCADE"
        ),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # html | pdf
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    version_id: Mapped[uuid.UUID] = mapped_column()
    stamp: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    rendered_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogImport(TenantOwned, Base):
    """An import run from the admin page: the worker reports progress here."""

    __tablename__ = "catalog_imports"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # running|done|failed
    phase: Mapped[str] = mapped_column(String(16), default="check")  # check | write
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
