"""Tenant packs: idempotent, validated, all or nothing; the demo packs and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.db import PLATFORM, Database
from core.identity import Staff
from core.packs import PackError, apply_packs, load_packs
from core.tenancy import OrgUnit, Tenant, TenantStatus, scope_for
from tests.conftest import TENANTS
from tests.helpers import tenant

PROVINCES = {
    "guangxi": "450000",
    "anhui": "340000",
    "hunan": "430000",
    "hebei": "130000",
    "guangdong": "440000",
}
LOCALS = {
    "hechi": ("451200", "guangxi"),
    "bozhou": ("341600", "anhui"),
    "cili": ("430821", "hunan"),
    "suning": ("130926", "hebei"),
    "guangzhou": ("440100", "guangdong"),
}


def _apply(database: Database, path: Path):
    with database.session(scope=PLATFORM) as session:
        report = apply_packs(session, load_packs(path))
        session.commit()
    return report


def _count(database: Database, model: type) -> int:
    with database.session(scope=PLATFORM) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_demo_packs_create_every_tenant_with_its_division_code(db: Database) -> None:
    for slug, code in PROVINCES.items():
        assert tenant(db, slug).division_code == code
    for slug, (code, parent) in LOCALS.items():
        t = tenant(db, slug)
        assert t.division_code == code
        assert t.status is TenantStatus.active
        assert t.parent_id == tenant(db, parent).id
        assert t.province_id == tenant(db, parent).id


def test_each_demo_county_has_departments_a_township_a_village_station_and_every_role(
    db: Database,
) -> None:
    for slug in LOCALS:
        t = tenant(db, slug)
        with db.session(scope=scope_for(t)) as session:
            kinds = {u.kind.value for u in session.scalars(select(OrgUnit))}
            assert {
                "department",
                "service_centre",
                "township_centre",
                "village_station",
                "window",
            } <= kinds
            usernames = set(session.scalars(select(Staff.username)))
        for role in ("admin", "clerk", "reviewer", "approver", "issuer", "supervisor", "agent"):
            assert f"{slug}-{role}" in usernames


def test_applying_twice_changes_nothing(empty_db: Database) -> None:
    first = _apply(empty_db, TENANTS)
    assert len(first.created) == 10
    counts = (_count(empty_db, Tenant), _count(empty_db, OrgUnit), _count(empty_db, Staff))
    second = _apply(empty_db, TENANTS)
    assert second.created == [] and second.updated == [] and second.changes == 0
    assert (_count(empty_db, Tenant), _count(empty_db, OrgUnit), _count(empty_db, Staff)) == counts


def _broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "packs"
    shutil.copytree(TENANTS, target)
    return target


def test_a_malformed_pack_names_file_and_field_and_applies_nothing(
    empty_db: Database, tmp_path: Path
) -> None:
    packs = _broken_copy(tmp_path)
    toml = packs / "suning" / "tenant.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('"130926"', '"13092X"'), encoding="utf-8"
    )
    with pytest.raises(PackError) as caught:
        _apply(empty_db, packs)
    message = str(caught.value)
    assert "suning/tenant.toml" in message and "division_code" in message
    assert _count(empty_db, Tenant) == 0


def test_a_bad_reference_in_a_later_pack_rolls_back_the_earlier_ones(
    empty_db: Database, tmp_path: Path
) -> None:
    packs = _broken_copy(tmp_path)
    people = packs / "suning" / "people.toml"
    people.write_text(
        people.read_text(encoding="utf-8").replace('unit = "SN-ZWZX"', 'unit = "NO-SUCH-UNIT"'),
        encoding="utf-8",
    )
    with pytest.raises(PackError) as caught:
        _apply(empty_db, packs)
    assert "suning/people.toml" in str(caught.value) and "NO-SUCH-UNIT" in str(caught.value)
    assert _count(empty_db, Tenant) == 0


def test_a_county_code_outside_its_province_is_refused(empty_db: Database, tmp_path: Path) -> None:
    packs = _broken_copy(tmp_path)
    toml = packs / "cili" / "tenant.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('"430821"', '"450821"'), encoding="utf-8"
    )
    with pytest.raises(PackError, match="之内"):
        _apply(empty_db, packs)


def test_cli_lists_the_provinces_and_their_counties(db: Database) -> None:
    from web.cli import main

    result = CliRunner().invoke(main, ["tenants", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["slug"]: row for row in json.loads(result.output)}
    for slug, code in PROVINCES.items():
        assert rows[slug]["division_code"] == code and rows[slug]["parent"] is None
    for slug, (code, parent) in LOCALS.items():
        assert rows[slug]["division_code"] == code and rows[slug]["parent"] == parent


def test_cli_apply_reports_problems_and_exits_non_zero(empty_db: Database, tmp_path: Path) -> None:
    from web.cli import main

    packs = _broken_copy(tmp_path)
    (packs / "hechi" / "org.toml").write_text("[[units]]\ncode = 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["tenants", "apply", str(packs)])
    assert result.exit_code == 2
    assert "hechi/org.toml" in result.output
    assert _count(empty_db, Tenant) == 0


def test_cli_onboards_a_county_and_refuses_a_duplicate(empty_db: Database) -> None:
    from web.cli import main

    _apply(empty_db, TENANTS / "guangxi")
    runner = CliRunner()
    args = [
        "tenants",
        "onboard",
        "--parent",
        "guangxi",
        "--slug",
        "yizhou",
        "--name",
        "宜州区",
        "--division-code",
        "451203",
    ]
    ok = runner.invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert tenant(empty_db, "yizhou").status is TenantStatus.onboarding
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and "已被使用" in again.output
