"""The audit log's chain: entries append in order per tenant and any edit, removal or cut
of the tail is found by verification — the same promise as a case's trail."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from core.audit import AuditEntry, AuditHead, record, verify_chain
from core.db import PLATFORM
from core.tenancy import get_tenant_by_slug, scope_for
from core.tenancy.service import onboard_tenant


def _fresh_county(db, slug: str, code: str):
    with db.session(scope=None) as s:
        hechi = get_tenant_by_slug(s, "hechi")
        county = onboard_tenant(s, parent=hechi, slug=slug, name="审计测试县", division_code=code)
        s.commit()
        return county


def test_entries_chain_and_a_changed_entry_is_found(db) -> None:
    county = _fresh_county(db, "audit-chain", "451299")
    with db.session(scope=scope_for(county)) as s:
        for n in range(3):
            record(
                s,
                county,
                None,
                "unit.create",
                target_type="unit",
                target_id=f"U{n}",
                target_label=f"机构{n}",
                after={"name": f"机构{n}"},
            )
        s.commit()
        report = verify_chain(s, county)
        assert report.intact and report.entries == 3
        first = s.scalar(
            select(AuditEntry).where(AuditEntry.tenant_id == county.id, AuditEntry.seq == 1)
        )
        assert first.origin == "命令行" and first.actor_name == "命令行"
    with db.session(scope=PLATFORM) as s:
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.tenant_id == county.id, AuditEntry.seq == 2)
            .values(after={"name": "改过的"})
        )
        s.commit()
    with db.session(scope=scope_for(county)) as s:
        report = verify_chain(s, county)
        assert not report.intact and report.broken_at == 2


def test_a_cut_tail_is_found(db) -> None:
    county = _fresh_county(db, "audit-cut", "451298")
    with db.session(scope=scope_for(county)) as s:
        for n in range(2):
            record(s, county, None, "staff.create", target_type="staff", target_id=str(n))
        s.commit()
    with db.session(scope=PLATFORM) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.tenant_id == county.id, AuditEntry.seq == 2))
        s.commit()
    with db.session(scope=scope_for(county)) as s:
        report = verify_chain(s, county)
        assert not report.intact and report.problem == "末尾的记录被删除"
        assert s.scalar(select(AuditHead.count).where(AuditHead.tenant_id == county.id)) == 2
