"""Request and response bodies of the JSON API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class TenantOut(msgspec.Struct):
    slug: str
    name: str
    display_name: str
    kind: str
    division_code: str
    status: str
    parent: str | None
    #: 省 / 市 / 县 / 区 and 筹备中 / 已开通 / 已暂停, as people read them
    kind_label: str = ""
    status_label: str = ""


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
    name: NonEmpty
    division_code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
    kind: Literal["city", "county", "district"] = "county"
    #: the parent's slug: this tenant itself (default) or, for a province, one of its cities
    parent: str | None = None


class TenantStatusUpdate(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["active", "suspended"]
    #: why (recorded in the audit log); pages require it
    reason: str = "通过接口变更"


class MeOut(msgspec.Struct):
    kind: str
    id: uuid.UUID | None
    name: str
    roles: list[str]
    tenant: str


class OrgUnitOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    parent_id: uuid.UUID | None
    address: str
    phone: str
    office_hours: str


class OrgUnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    name: NonEmpty
    kind: Literal["department", "service_centre", "township_centre", "village_station", "window"]
    parent_id: uuid.UUID | None = None
    address: str = ""
    phone: str = ""
    office_hours: str = ""


class OrgUnitUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: NonEmpty | None = None
    address: str | None = None
    phone: str | None = None
    office_hours: str | None = None


class StaffUpdate(msgspec.Struct, forbid_unknown_fields=True):
    #: false disables the staff member: their sessions and tokens stop at once
    active: bool | None = None
    #: a new password (at least 8 characters); every session made with the old one ends
    password: str | None = None


class StaffOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    name: str
    active: bool
    roles: list[dict[str, Any]]


class PluginOut(msgspec.Struct):
    name: str
    title: str
    version: str
    core_compat: str
    compatible: bool
    enabled: bool
    config: dict[str, Any]
    config_schema: dict[str, Any]
    recent_errors: list[str]


class PluginUpdate(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool
    config: dict[str, Any] | None = None


class CheckOut(msgspec.Struct):
    name: str
    healthy: bool
    problems: list[str]
