"""Declarative base and the two ownership mixins every tenant table uses."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7 layout) so that new rows land at the end of indexes."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=_uuid7_int(ms, rand))


def _uuid7_int(ms: int, rand: int) -> int:
    rand_a = (rand >> 68) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    return ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b


class TZDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a timezone-aware column")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: TZDateTime(), uuid.UUID: Uuid()}


class TenantOwned:
    """Rows that belong to one tenant (county, city or province).

    ``tenant_id`` leads the primary key, so every table can be distributed by it. Reads are
    filtered by the session's scope and, on PostgreSQL, by row-level security as well.
    """

    __tenant_column__ = "tenant_id"

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(Uuid(), primary_key=True, sort_order=-10)


class ProvinceOwned:
    """Rows that belong to a whole province: citizens' and enterprises' accounts and tokens.

    One citizen account works in every county of its province, so these rows are visible in
    the scope of any tenant of that province.
    """

    __tenant_column__ = "province_id"

    @declared_attr
    def province_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(Uuid(), primary_key=True, sort_order=-10)
