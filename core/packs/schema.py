"""The format of a tenant pack: ``tenant.toml`` (tenant, branding, settings, plugins),
``org.toml`` (org units) and ``people.toml`` (staff with roles; a province's demo accounts).
Documented for operators in docs/tenant-packs.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
DivisionCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
Color = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class TenantSection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    name: Name
    kind: Literal["province", "city", "county", "district"]
    division_code: DivisionCode
    parent: Slug | None = None
    status: Literal["onboarding", "active", "suspended"] = "active"
    domains: list[str] = []


class Branding(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    display_name: Name
    primary_color: Color = "#b0262b"
    accent_color: Color = "#f3c623"
    footer: str = ""
    logo: str = ""
    slogan: str = ""


class PluginEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    enabled: bool = True
    config: dict[str, Any] = {}


class TenantFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    tenant: TenantSection
    branding: Branding
    settings: dict[str, Any] = {}
    plugins: list[PluginEntry] = []


class OrgUnitEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    name: Name
    kind: Literal["department", "service_centre", "township_centre", "village_station", "window"]
    parent: str | None = None
    address: str = ""
    phone: str = ""
    office_hours: str = ""


class OrgFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    units: list[OrgUnitEntry] = []


class RoleEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    role: Literal[
        "window_clerk",
        "reviewer",
        "approver",
        "issuer",
        "supervisor",
        "tenant_admin",
        "province_admin",
        "agent",
    ]
    unit: str | None = None


class StaffEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: str
    name: Name
    password: str | None = None
    phone: str | None = None
    roles: list[RoleEntry] = []


class AccountEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    phone: str
    kind: Literal["citizen", "enterprise"] = "citizen"
    password: str | None = None
    id_number: str | None = None
    credit_code: str | None = None


class PeopleFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    staff: list[StaffEntry] = []
    accounts: list[AccountEntry] = []


class AdoptEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    standard: str  # the province item's code
    code: str | None = None
    overrides: dict[str, Any] = {}


class ThemeEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    name: Name
    description: str = ""
    items: list[str] = []


class DutyEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    department: str
    kind: Literal["main_duty", "boundary", "supervision_rule"]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    detail: str = ""


class CatalogFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``catalog.toml``: the tenant's own items (each an item's content plus ``code``), the
    province items it adopts, its themes and its department duties."""

    items: list[dict[str, Any]] = []
    adopt: list[AdoptEntry] = []
    themes: list[ThemeEntry] = []
    duties: list[DutyEntry] = []
