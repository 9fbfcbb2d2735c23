"""A county opened under a city (巴马 under 河池) is a region of its province like any other:
listed on the platform's home page under its city, given its row on the province's
supervision dashboard, and counted in the province's public statistics."""

from __future__ import annotations

from sqlalchemy import func, select

from core.cases.models import Case
from core.db import PLATFORM, Database
from core.supervision.dashboard import Filters, province_report
from core.supervision.stats import public_stats
from core.tenancy import Tenant, TenantStatus, get_tenant_by_slug
from core.tenancy.service import onboard_tenant
from tests.cases.conftest import Desk


def test_a_county_under_a_city_is_listed_and_counted(client, db: Database, hechi: Desk) -> None:
    hechi.apply(hechi.citizen("13800000001"), "HC-SB05")  # a case of the city's own
    with db.session(scope=PLATFORM) as s:
        city = get_tenant_by_slug(s, "hechi")
        bama = onboard_tenant(
            s, parent=city, slug="bama", name="巴马瑶族自治县", division_code="451228"
        )
        bama.status = TenantStatus.active
        s.commit()

    home = client.get("/").text
    assert 'data-testid="region-bama"' in home and "巴马瑶族自治县" in home
    assert home.index('data-testid="region-hechi"') < home.index('data-testid="region-bama"')

    with db.session(scope=PLATFORM) as s:
        guangxi = get_tenant_by_slug(s, "guangxi")
        rows = province_report(s, guangxi, Filters.parse({})).rows
        everyone = s.scalar(
            select(func.count())
            .select_from(Case)
            .join(Tenant, Tenant.id == Case.tenant_id)
            .where(Tenant.province_id == guangxi.id, Case.submitted_at.is_not(None))
        )
        stats = public_stats(s, guangxi)
    assert {"hechi", "bama"} <= {r.key for r in rows}
    assert everyone and stats.received == everyone
