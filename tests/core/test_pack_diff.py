"""Packs and the live state agree: the diff of a pack against the live state, applying over
changes made in the browser, the dry run that changes nothing, and the export that applies
back as no change at all."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.db import PLATFORM, Database
from core.identity import Staff
from core.identity.models import Role, StaffRole
from core.packs import ApplyReport, apply_packs, export_pack, load_packs
from core.tenancy import OrgUnit, OrgUnitKind, Tenant, TenantStatus
from tests.conftest import TENANTS
from tests.helpers import tenant


def _packs(tmp_path: Path, *slugs: str) -> Path:
    target = tmp_path / "packs"
    for slug in slugs:
        shutil.copytree(TENANTS / slug, target / slug)
    return target


def _apply(database: Database, path: Path, *, dry_run: bool = False) -> ApplyReport:
    with database.session(scope=PLATFORM) as session:
        report = apply_packs(session, load_packs(path), dry_run=dry_run)
        if not dry_run:
            session.commit()
    return report


def _lines(report: ApplyReport, slug: str) -> list[str]:
    return next(t.lines for t in report.tenants if t.slug == slug)


def _audit(database: Database, slug: str, action: str = "pack.apply") -> int:
    t = tenant(database, slug)
    with database.session(scope=PLATFORM) as session:
        query = select(func.count()).where(
            AuditEntry.tenant_id == t.id, AuditEntry.action == action
        )
        return session.scalar(query.select_from(AuditEntry)) or 0


def _browser_changes(database: Database) -> None:
    """What a county admin does in the browser after the pack was applied."""
    with database.session(scope=PLATFORM) as session:
        hechi = session.scalar(select(Tenant).where(Tenant.slug == "hechi"))
        assert hechi is not None
        hechi.status = TenantStatus.active
        hechi.branding = {**hechi.branding, "primary_color": "#000000"}
        centre = session.scalar(
            select(OrgUnit).where(OrgUnit.tenant_id == hechi.id, OrgUnit.code == "HC-ZWZX")
        )
        assert centre is not None
        centre.name = "河池市民中心"
        session.add(
            OrgUnit(tenant_id=hechi.id, code="HC-NEW", name="新设窗口", kind=OrgUnitKind.window)
        )
        clerk = session.scalar(
            select(Staff).where(Staff.tenant_id == hechi.id, Staff.username == "hechi-clerk")
        )
        assert clerk is not None
        for role in session.scalars(
            select(StaffRole).where(
                StaffRole.staff_id == clerk.id, StaffRole.role == Role.window_clerk
            )
        ):
            session.delete(role)
        session.commit()


def _onboarding_pack(tmp_path: Path) -> Path:
    packs = _packs(tmp_path, "guangxi", "hechi")
    toml = packs / "hechi" / "tenant.toml"
    text = toml.read_text(encoding="utf-8").replace('status = "active"', 'status = "onboarding"')
    toml.write_text(text, encoding="utf-8")
    return packs


def test_a_pack_applies_again_over_browser_changes_and_says_what_it_overrides(
    empty_db: Database, tmp_path: Path
) -> None:
    packs = _onboarding_pack(tmp_path)
    _apply(empty_db, packs)
    assert tenant(empty_db, "hechi").status is TenantStatus.onboarding
    _browser_changes(empty_db)  # activated in the browser, among other things
    before = _audit(empty_db, "hechi"), _audit(empty_db, "guangxi")

    report = _apply(empty_db, packs)  # used to be refused: cannot go from active to onboarding

    lines = _lines(report, "hechi")
    assert "~ 修改 门户外观的主色：#000000 → #1d5fa8" in lines
    assert "~ 修改 机构 HC-ZWZX 的名称：河池市民中心 → 河池市政务服务中心" in lines
    assert "+ 新增 工作人员 hechi-clerk 的角色：窗口受理员（HC-ZWZX）" in lines
    assert "= 机构 HC-NEW 新设窗口（仅线上存在，保留）" in lines
    assert any(line.startswith("= 服务状态：包中为「筹备中」") for line in lines)
    assert report.updated == ["hechi"] and _lines(report, "guangxi") == []
    hechi = tenant(empty_db, "hechi")
    assert hechi.status is TenantStatus.active  # the lifecycle does not go back
    assert hechi.branding["primary_color"] == "#1d5fa8"
    with empty_db.session(scope=PLATFORM) as session:
        codes = set(session.scalars(select(OrgUnit.code).where(OrgUnit.tenant_id == hechi.id)))
        assert "HC-NEW" in codes  # left alone
    # one audit entry for the county the pack changed, listing the changes; none for guangxi
    assert (_audit(empty_db, "hechi"), _audit(empty_db, "guangxi")) == (
        before[0] + 1,
        before[1],
    )
    with empty_db.session(scope=PLATFORM) as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == hechi.id, AuditEntry.action == "pack.apply")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None and entry.actor_kind == "cli"
        assert "~ 修改 门户外观的主色：#000000 → #1d5fa8" in entry.after["changes"]
    again = _apply(empty_db, packs)
    assert again.changes == 0 and again.updated == []


def test_a_dry_run_shows_the_diff_and_changes_nothing(empty_db: Database, tmp_path: Path) -> None:
    from web.cli import main

    packs = _onboarding_pack(tmp_path)
    _apply(empty_db, packs)
    _browser_changes(empty_db)
    audit = _audit(empty_db, "hechi")

    report = _apply(empty_db, packs, dry_run=True)
    assert report.changes >= 3 and report.updated == ["hechi"]
    result = CliRunner().invoke(main, ["tenants", "apply", str(packs), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "~ 修改 门户外观的主色：#000000 → #1d5fa8" in result.output
    assert "仅预览" in result.output and "未做任何更改" in result.output

    hechi = tenant(empty_db, "hechi")
    assert hechi.branding["primary_color"] == "#000000"
    assert _audit(empty_db, "hechi") == audit
    with empty_db.session(scope=PLATFORM) as session:
        centre = session.scalar(
            select(OrgUnit).where(OrgUnit.tenant_id == hechi.id, OrgUnit.code == "HC-ZWZX")
        )
        assert centre is not None and centre.name == "河池市民中心"
        clerk_roles = session.scalar(
            select(func.count())
            .select_from(StaffRole)
            .join(Staff, Staff.id == StaffRole.staff_id)
            .where(Staff.username == "hechi-clerk", StaffRole.role == Role.window_clerk)
        )
        assert clerk_roles == 0


def test_a_dry_run_of_a_new_tenant_creates_nothing(empty_db: Database, tmp_path: Path) -> None:
    packs = _packs(tmp_path, "guangxi", "hechi")
    report = _apply(empty_db, packs, dry_run=True)
    assert report.created == ["guangxi", "hechi"]
    assert _lines(report, "hechi")[0].startswith("+ 新增 地区 河池市（hechi")
    with empty_db.session(scope=PLATFORM) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_every_demo_tenant_exports_as_a_pack_that_applies_as_no_change(
    db: Database, tmp_path: Path
) -> None:
    from web.cli import main

    slugs = sorted(p.parent.name for p in TENANTS.glob("*/tenant.toml"))
    with db.session(scope=PLATFORM) as session:
        for slug in slugs:
            t = session.scalar(select(Tenant).where(Tenant.slug == slug))
            assert t is not None
            export_pack(session, t, tmp_path / "export" / slug)
    people = (tmp_path / "export" / "hechi" / "people.toml").read_text(encoding="utf-8")
    assert "password" not in people.replace("包中的 password", "")
    assert "密码不导出" in people
    report = _apply(db, tmp_path / "export", dry_run=True)
    changes = [line for t in report.tenants for line in t.lines if not line.startswith("=")]
    assert changes == []
    assert report.created == [] and report.updated == []

    result = CliRunner().invoke(main, ["tenants", "export", "hechi", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output
    assert (tmp_path / "cli" / "logo.svg").is_file()


def test_plugin_secrets_are_exported_masked_kept_on_apply_and_never_shown(
    empty_db: Database, tmp_path: Path
) -> None:
    from core.plugins import get_plugin_manager

    secret = "PLANT-pack-7d2e91"
    _apply(empty_db, _packs(tmp_path, "guangxi", "hechi"))
    with empty_db.session(scope=PLATFORM) as session:
        hechi = session.scalar(select(Tenant).where(Tenant.slug == "hechi"))
        assert hechi is not None
        config = {"endpoint": "https://sms.example", "access_key_secret": secret}
        get_plugin_manager().set_enabled(session, hechi, "sms_cloud", True, config)
        session.commit()
    with empty_db.session(scope=PLATFORM) as session:
        hechi = session.scalar(select(Tenant).where(Tenant.slug == "hechi"))
        assert hechi is not None
        export_pack(session, hechi, tmp_path / "export" / "hechi")
    toml = tmp_path / "export" / "hechi" / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    assert secret not in text and 'access_key_secret = "********"' in text
    assert _apply(empty_db, tmp_path / "export", dry_run=True).changes == 0

    toml.write_text(
        text.replace('"********"', '"NEW-secret-4411"').replace(
            '"https://sms.example"', '"https://sms2.example"'
        ),
        encoding="utf-8",
    )
    report = _apply(empty_db, tmp_path / "export")
    lines = _lines(report, "hechi")
    assert any("的配置 access_key_secret：密钥已更改" in line for line in lines), lines
    assert any(
        "的配置 endpoint：https://sms.example → https://sms2.example" in line for line in lines
    ), lines
    assert not any(secret in line or "NEW-secret" in line for line in lines)
    with empty_db.session(scope=PLATFORM) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "pack.apply"))
        assert not any("NEW-secret" in str(e.after) for e in entries)
