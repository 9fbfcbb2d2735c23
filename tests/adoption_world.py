"""A province with a small standard catalog and a fresh county under it, for the adoption tests
(the demo counties have adopted every standard item of theirs already)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from core.catalog import change_status, create_item, get_item_by_code
from core.db import PLATFORM, Database
from core.identity import Role
from core.identity.service import create_staff, grant_role
from core.tenancy import OrgUnitKind, Tenant, TenantKind, TenantStatus, scope_for
from core.tenancy.service import add_org_unit, onboard_tenant
from tests.helpers import tenant

PROVINCE = "adoptland"
#: the province's departments: 市场监督管理局 has a namesake in every county, 公安厅 does not
PROVINCE_UNITS = {
    "P-SCJ": "测试省市场监督管理局",
    "P-GAT": "测试省公安厅",
    "P-ZWB": "测试省政务服务管理办公室",
}
#: code → (name, department, category); T-OLD is cancelled and never offered
STANDARD = {
    "T-SC01": ("食品经营许可", "P-SCJ", "xzxk"),
    "T-SC02": ("个体工商户登记", "P-SCJ", "xzqr"),
    "T-GA01": ("居住证签发", "P-GAT", "xzxk"),
    "T-ZW01": ("政务服务评价", "P-ZWB", "ggfw"),
}
COUNTY_UNITS = {
    "X-SCJ": "县市场监督管理局",
    "X-GAJ": "县公安局",
    "X-ZWB": "县政务服务中心办公室",
}


@dataclass(frozen=True)
class World:
    province: Tenant
    county: Tenant

    @property
    def slug(self) -> str:
        return self.county.slug


def _free_province_code(database: Database) -> str:
    with database.session(scope=PLATFORM) as s:
        used = set(s.scalars(select(Tenant.division_code)))
    return next(f"{n}0000" for n in range(98, 50, -1) if f"{n}0000" not in used)


def _province(database: Database, slug: str) -> Tenant:
    with database.session(scope=PLATFORM) as s:
        if s.scalar(select(Tenant.id).where(Tenant.slug == slug)):
            return tenant(database, slug)
    code = _free_province_code(database)
    with database.session(scope=PLATFORM) as s:
        province = onboard_tenant(
            s,
            parent=None,
            slug=slug,
            name="测试省",
            division_code=code,
            kind=TenantKind.province,
        )
        province.status = TenantStatus.active
        s.commit()
    province = tenant(database, slug)
    with database.session(scope=scope_for(province)) as s:
        for unit_code, name in PROVINCE_UNITS.items():
            add_org_unit(s, province, code=unit_code, name=name, kind=OrgUnitKind.department)
        s.flush()
        content = {"legal_days": 20, "promised_days": 10}
        for item_code, (name, dept, category) in STANDARD.items():
            body = PROVINCE_UNITS[dept]
            create_item(
                s,
                province,
                code=item_code,
                content={
                    **content,
                    "name": name,
                    "kind": "public_service" if category == "ggfw" else "power",
                    "department": dept,
                    "category": category,
                    "implementing_body": body,
                    "contacts": f"{body} 12345",
                },
                publish=True,
            )
        old = create_item(
            s,
            province,
            code="T-OLD",
            content={**content, "name": "已取消的事项", "department": "P-ZWB", "category": "xzxk"},
            publish=True,
        )
        change_status(s, province, old, "cancel", reason="国务院决定取消")
        boss = create_staff(
            s, province, username=f"{slug}-admin", name="省管理员", password="Demo-2026"
        )
        grant_role(s, boss, Role.province_admin)
        s.commit()
    return province


def new_county(database: Database, *, admin: bool = False, province: str = PROVINCE) -> World:
    """A fresh, active county of a test province (``adoptland`` unless told) with three
    departments (and, when asked, staff: ``<slug>-admin`` a tenant admin, ``<slug>-clerk`` a
    window clerk)."""
    parent = _province(database, province)
    prefix = parent.division_code[:2]
    with database.session(scope=PLATFORM) as s:
        used = set(s.scalars(select(Tenant.division_code)))
        code = next(
            c
            for c in (f"{prefix}{random.randint(101, 9999):04d}" for _ in range(1000))
            if c not in used and not c.endswith("00")
        )
        slug = "adopt" + uuid.uuid4().hex[:8]
        county = onboard_tenant(s, parent=parent, slug=slug, name="测试县", division_code=code)
        county.status = TenantStatus.active
        s.commit()
    county = tenant(database, slug)
    with database.session(scope=scope_for(county)) as s:
        units = {
            unit_code: add_org_unit(
                s, county, code=unit_code, name=name, kind=OrgUnitKind.department
            )
            for unit_code, name in COUNTY_UNITS.items()
        }
        s.flush()
        if admin:
            boss = create_staff(
                s, county, username=f"{slug}-admin", name="县管理员", password="Demo-2026"
            )
            grant_role(s, boss, Role.tenant_admin)
            clerk = create_staff(
                s, county, username=f"{slug}-clerk", name="窗口", password="Demo-2026"
            )
            grant_role(s, clerk, Role.window_clerk, units["X-SCJ"])
        s.commit()
    return World(province=parent, county=county)


def local_item(database: Database, world: World, code: str):
    with database.session(scope=scope_for(world.county)) as s:
        return get_item_by_code(s, world.county, code)
