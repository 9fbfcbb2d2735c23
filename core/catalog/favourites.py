"""Favourites (我的收藏): items a citizen or enterprise keeps at hand, per county.

A favourite belongs to the county whose item it names (a Hechi item is kept at Hechi's
portal), so the table is tenant-owned and row-level security applies like everywhere else;
the account itself is the province's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.catalog.errors import ItemNotFound
from core.catalog.models import Item, ItemStatus
from core.catalog.service import get_item_by_code
from core.db import Base, TenantOwned, utcnow
from core.tenancy import Tenant

__all__ = [
    "Favourite",
    "FavouriteItem",
    "favourite_codes",
    "favourites_of",
    "is_favourite",
    "set_favourite",
    "toggle_favourite",
]


class Favourite(TenantOwned, Base):
    """One item an account keeps in its favourites at one county."""

    __tablename__ = "favourites"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "item_code"], ["items.tenant_id", "items.code"], ondelete="CASCADE"
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class FavouriteItem:
    """A favourite as the list shows it: the item's name and whether one may still apply."""

    code: str
    name: str
    department_code: str
    promised_days: int
    active: bool
    created_at: datetime


def is_favourite(session: Session, account_id: uuid.UUID | None, code: str) -> bool:
    """Whether the account keeps the item ``code`` of the session's tenant (False for
    nobody: a signed-out visitor or staff pass ``None``)."""
    if account_id is None:
        return False
    return (
        session.scalar(
            select(Favourite.item_code).where(
                Favourite.account_id == account_id, Favourite.item_code == code
            )
        )
        is not None
    )


def favourite_codes(session: Session, account_id: uuid.UUID | None) -> set[str]:
    """Every item code the account keeps at this tenant (for lists that mark favourites)."""
    if account_id is None:
        return set()
    return set(
        session.scalars(select(Favourite.item_code).where(Favourite.account_id == account_id))
    )


def set_favourite(
    session: Session, tenant: Tenant, account_id: uuid.UUID, code: str, on: bool
) -> bool:
    """Keep or drop the item (an unknown code is a 404); returns the new state. The caller
    commits."""
    item = get_item_by_code(session, tenant, code)
    if item.live_version_id is None:  # not published: nothing a citizen could have seen
        raise ItemNotFound(f"没有编码为 {code} 的事项")
    held = is_favourite(session, account_id, item.code)
    if on and not held:
        session.add(Favourite(tenant_id=tenant.id, account_id=account_id, item_code=item.code))
    elif not on and held:
        session.execute(
            delete(Favourite).where(
                Favourite.tenant_id == tenant.id,
                Favourite.account_id == account_id,
                Favourite.item_code == item.code,
            )
        )
    session.flush()
    return on


def toggle_favourite(session: Session, tenant: Tenant, account_id: uuid.UUID, code: str) -> bool:
    """Keep the item if it is not kept, drop it if it is; returns the new state."""
    return set_favourite(
        session, tenant, account_id, code, not is_favourite(session, account_id, code)
    )


def favourites_of(session: Session, account_id: uuid.UUID) -> list[FavouriteItem]:
    """The account's favourites at this tenant, the latest first."""
    rows = session.execute(
        select(Favourite, Item)
        .join(Item, (Item.tenant_id == Favourite.tenant_id) & (Item.code == Favourite.item_code))
        .where(Favourite.account_id == account_id)
        .order_by(Favourite.created_at.desc())
    ).all()
    return [
        FavouriteItem(
            code=item.code,
            name=item.name,
            department_code=item.department_code,
            promised_days=item.promised_days,
            active=item.status is ItemStatus.active,
            created_at=fav.created_at,
        )
        for fav, item in rows
    ]
