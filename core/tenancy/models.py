"""Tenants (province, city, county, district) and the org-unit tree inside each."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned, new_id, utcnow


class TenantKind(enum.StrEnum):
    province = "province"
    city = "city"
    county = "county"
    district = "district"


class TenantStatus(enum.StrEnum):
    onboarding = "onboarding"
    active = "active"
    suspended = "suspended"


class OrgUnitKind(enum.StrEnum):
    """部门, 政务服务中心, 乡镇便民服务中心, 村便民服务站, 窗口."""

    department = "department"
    service_centre = "service_centre"
    township_centre = "township_centre"
    village_station = "village_station"
    window = "window"


#: how people name each kind of unit
UNIT_KIND_LABELS = {
    OrgUnitKind.department: "部门",
    OrgUnitKind.service_centre: "政务服务中心",
    OrgUnitKind.township_centre: "乡镇（街道）便民服务中心",
    OrgUnitKind.village_station: "村（社区）便民服务站",
    OrgUnitKind.window: "窗口",
}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Tenant(Base):
    """A province, city, county or district that runs its own service hall.

    Platform-level: the tenants table is not itself tenant-owned.
    """

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[TenantKind] = mapped_column(_enum(TenantKind, "tenant_kind"))
    #: GB/T 2260 administrative division code, e.g. 451200 (河池市); prefixes case numbers.
    division_code: Mapped[str] = mapped_column(String(6), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    #: The province this tenant belongs to (itself for a province).
    province_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[TenantStatus] = mapped_column(
        _enum(TenantStatus, "tenant_status"), default=TenantStatus.onboarding
    )
    #: display_name, logo (storage key or static path), primary/accent colours, footer text.
    branding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: tenant settings (e.g. yellow-card threshold); plugins keep theirs in tenant_plugins.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        return str(self.branding.get("display_name") or self.name)

    @property
    def above(self) -> list[uuid.UUID]:
        """The tenants whose province-wide settings this one takes, farthest first: its
        province, then its city (a county opened under one); none for a province."""
        out = [self.province_id] if self.province_id != self.id else []
        if self.parent_id is not None and self.parent_id not in out:
            out.append(self.parent_id)
        return out

    @property
    def is_province(self) -> bool:
        return self.kind is TenantKind.province


class TenantDomain(Base):
    """A host name that serves one tenant's portal directly (without /t/{slug}/)."""

    __tablename__ = "tenant_domains"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )


class OrgUnit(TenantOwned, Base):
    """A department, service centre, township centre, village station or window."""

    __tablename__ = "org_units"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["org_units.tenant_id", "org_units.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[OrgUnitKind] = mapped_column(_enum(OrgUnitKind, "org_unit_kind"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    address: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    office_hours: Mapped[str] = mapped_column(String(120), default="")
    #: the department's seal image (a PNG in storage) printed on the notices it issues
    seal_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the unit was closed (撤销); a closed unit is kept for history, offered nowhere
    closed_at: Mapped[datetime | None] = mapped_column()
