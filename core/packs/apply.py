"""Load, validate and apply tenant packs."""

from __future__ import annotations

import io
import mimetypes
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import GovhallError, InvalidInput
from core.identity.models import AccountKind, Role, Staff, StaffRole
from core.identity.service import (
    create_account,
    create_staff,
    find_account_by_phone,
    grant_role,
    normalize_phone,
)
from core.packs.catalog import sync_catalog
from core.packs.errors import PackError
from core.packs.schema import CatalogFile, OrgFile, PeopleFile, PluginEntry, TenantFile
from core.plugins import get_plugin_manager
from core.storage import get_storage, tenant_key
from core.tenancy import OrgUnit, OrgUnitKind, Tenant, TenantDomain, TenantKind, TenantStatus
from core.tenancy.service import check_division_code, onboard_tenant, set_tenant_status

__all__ = ["ApplyReport", "Pack", "PackError", "apply_packs", "load_packs"]

_LOGO_TYPES = {".svg", ".png", ".jpg", ".jpeg", ".webp"}


@dataclass
class Pack:
    path: Path
    tenant: TenantFile
    org: OrgFile
    people: PeopleFile
    catalog: CatalogFile


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    changes: int = 0


def _decode(path: Path, kind: type[Any], problems: list[str]) -> Any:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return kind()
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
        return None
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        # msgspec names the field as `$.tenant.division_code`; keep it.
        problems.append(f"{path}: {exc}")
        return None


def load_packs(path: Path) -> list[Pack]:
    """The pack at ``path``, or every pack in its sub-folders; parents before children."""
    path = Path(path)
    if (path / "tenant.toml").is_file():
        folders = [path]
    elif path.is_dir():
        folders = sorted(p.parent for p in path.glob("*/tenant.toml"))
    else:
        raise PackError([f"{path}: no such folder"])
    if not folders:
        raise PackError([f"{path}: no tenant.toml found"])
    problems: list[str] = []
    packs = []
    for folder in folders:
        tenant = _decode(folder / "tenant.toml", TenantFile, problems)
        org = _decode(folder / "org.toml", OrgFile, problems)
        people = _decode(folder / "people.toml", PeopleFile, problems)
        catalog = _decode(folder / "catalog.toml", CatalogFile, problems)
        if None not in (tenant, org, people, catalog):
            packs.append(Pack(folder, tenant, org, people, catalog))
    if problems:
        raise PackError(problems)
    return _ordered(packs)


def _ordered(packs: list[Pack]) -> list[Pack]:
    by_slug = {p.tenant.tenant.slug: p for p in packs}
    done: list[Pack] = []
    seen: set[str] = set()

    def visit(pack: Pack, chain: tuple[str, ...]) -> None:
        slug = pack.tenant.tenant.slug
        if slug in seen:
            return
        if slug in chain:
            raise PackError([f"{pack.path / 'tenant.toml'}: tenant.parent forms a cycle"])
        parent = pack.tenant.tenant.parent
        if parent in by_slug:
            visit(by_slug[parent], (*chain, slug))
        seen.add(slug)
        done.append(pack)

    for pack in packs:
        visit(pack, ())
    return done


def _validate(session: Session, packs: list[Pack]) -> list[str]:
    problems: list[str] = []
    manager = get_plugin_manager()
    known = {p.tenant.tenant.slug: p for p in packs}
    slugs_seen: dict[str, Path] = {}
    codes_seen: dict[str, Path] = {}
    for pack in packs:
        t = pack.tenant.tenant
        tfile = pack.path / "tenant.toml"
        if t.slug in slugs_seen:
            problems.append(f"{tfile}: tenant.slug '{t.slug}' also in {slugs_seen[t.slug]}")
        slugs_seen[t.slug] = tfile
        if t.division_code in codes_seen:
            problems.append(f"{tfile}: tenant.division_code {t.division_code} repeated")
        codes_seen[t.division_code] = tfile
        parent_code: Tenant | None = None
        if t.parent:
            if t.parent in known:
                pt = known[t.parent].tenant.tenant
                parent_code = Tenant(
                    slug=pt.slug,
                    name=pt.name,
                    kind=TenantKind(pt.kind),
                    division_code=pt.division_code,
                )
            else:
                parent_code = session.scalar(select(Tenant).where(Tenant.slug == t.parent))
                if parent_code is None:
                    problems.append(f"{tfile}: tenant.parent '{t.parent}' is no known tenant")
        if parent_code is not None or not t.parent:
            try:
                check_division_code(t.division_code, TenantKind(t.kind), parent_code)
            except GovhallError as exc:
                problems.append(f"{tfile}: tenant.{exc.field or 'division_code'}: {exc.detail}")
        existing = session.scalar(select(Tenant).where(Tenant.division_code == t.division_code))
        if existing is not None and existing.slug != t.slug:
            problems.append(
                f"{tfile}: tenant.division_code {t.division_code} belongs to '{existing.slug}'"
            )
        logo = pack.tenant.branding.logo
        if logo:
            logo_path = (pack.path / logo).resolve()
            if pack.path.resolve() not in logo_path.parents or not logo_path.is_file():
                problems.append(f"{tfile}: branding.logo '{logo}' is not a file in the pack")
            elif logo_path.suffix.lower() not in _LOGO_TYPES:
                problems.append(f"{tfile}: branding.logo must be one of {sorted(_LOGO_TYPES)}")
        for i, entry in enumerate(pack.tenant.plugins):
            where = f"{tfile}: plugins[{i}]"
            if entry.name not in manager.metas:
                problems.append(f"{where}.name: no plugin named '{entry.name}'")
                continue
            try:
                manager.meta(entry.name).parse_config(entry.config)
            except GovhallError as exc:
                problems.append(f"{where}.config: {exc.detail}")
        ofile = pack.path / "org.toml"
        codes = [u.code for u in pack.org.units]
        for i, unit in enumerate(pack.org.units):
            if codes.count(unit.code) > 1:
                problems.append(f"{ofile}: units[{i}].code '{unit.code}' repeated")
            if unit.parent and unit.parent not in codes:
                problems.append(f"{ofile}: units[{i}].parent '{unit.parent}' is no unit code")
        pfile = pack.path / "people.toml"
        names = [s.username for s in pack.people.staff]
        for i, staff in enumerate(pack.people.staff):
            if names.count(staff.username) > 1:
                problems.append(f"{pfile}: staff[{i}].username '{staff.username}' repeated")
            for j, role in enumerate(staff.roles):
                if role.unit and role.unit not in codes:
                    problems.append(f"{pfile}: staff[{i}].roles[{j}].unit '{role.unit}' unknown")
                if role.role == "province_admin" and t.kind != "province":
                    problems.append(
                        f"{pfile}: staff[{i}].roles[{j}].role: province_admin only in a province"
                    )
            if staff.phone:
                try:
                    normalize_phone(staff.phone)
                except GovhallError as exc:
                    problems.append(f"{pfile}: staff[{i}].phone: {exc.detail}")
        if pack.people.accounts and t.kind != "province":
            problems.append(f"{pfile}: accounts: citizens belong to a province's pack")
        for i, acct in enumerate(pack.people.accounts):
            try:
                normalize_phone(acct.phone)
            except GovhallError as exc:
                problems.append(f"{pfile}: accounts[{i}].phone: {exc.detail}")
    return problems


def apply_packs(session: Session, packs: list[Pack]) -> ApplyReport:
    """Validate every pack, then apply them all in the session's transaction.

    The session must be in the PLATFORM scope; the caller commits (or rolls back on error,
    so nothing is applied when anything fails).
    """
    problems = _validate(session, packs)
    if problems:
        raise PackError(problems)
    report = ApplyReport()
    for pack in packs:
        try:
            _apply_one(session, pack, report)
        except GovhallError as exc:
            where = pack.path / "tenant.toml"
            raise PackError([f"{where}: {exc.field or 'pack'}: {exc.detail}"]) from exc
    return report


def _apply_one(session: Session, pack: Pack, report: ApplyReport) -> None:
    spec = pack.tenant.tenant
    parent = (
        session.scalar(select(Tenant).where(Tenant.slug == spec.parent)) if spec.parent else None
    )
    tenant = session.scalar(select(Tenant).where(Tenant.slug == spec.slug))
    if tenant is None:
        tenant = onboard_tenant(
            session,
            parent=parent,
            slug=spec.slug,
            name=spec.name,
            division_code=spec.division_code,
            kind=TenantKind(spec.kind),
        )
        report.created.append(spec.slug)
        report.changes += 1
    branding = msgspec.to_builtins(pack.tenant.branding)
    if branding.get("logo"):
        branding["logo"] = _store_logo(tenant, pack.path / branding["logo"])
    changed = _assign(
        tenant,
        name=spec.name,
        kind=TenantKind(spec.kind),
        parent_id=parent.id if parent else None,
        branding=branding,
        settings=dict(pack.tenant.settings),
    )
    if tenant.status != TenantStatus(spec.status):
        set_tenant_status(tenant, TenantStatus(spec.status))
        changed += 1
    changed += _sync_domains(session, tenant, spec.domains)
    session.flush()
    changed += _sync_org(session, tenant, pack)
    changed += _sync_people(session, tenant, pack)
    # plugins before the catalog (an item may run a plugin's procedure); a plugin that
    # checks the catalog on enabling (a bundle needs its items live) after it
    done, waiting = _sync_plugins(session, tenant, pack, pack.tenant.plugins, defer=True)
    changed += done
    changed += sync_catalog(session, tenant, pack.catalog, pack.path / "catalog.toml")
    changed += _sync_plugins(session, tenant, pack, waiting, defer=False)[0]
    if changed and spec.slug not in report.created:
        report.updated.append(spec.slug)
    report.changes += changed


def _assign(obj: Any, **values: Any) -> int:
    changed = 0
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed += 1
    return changed


def _store_logo(tenant: Tenant, path: Path) -> str:
    key = tenant_key(tenant.id, "branding", "logo" + path.suffix.lower())
    storage = get_storage()
    data = path.read_bytes()
    current = storage.stat(key)
    if current is None or storage.read(key) != data:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        storage.put(key, io.BytesIO(data), content_type)
    return key


def _sync_domains(session: Session, tenant: Tenant, domains: list[str]) -> int:
    wanted = {d.lower() for d in domains}
    rows = session.scalars(select(TenantDomain).where(TenantDomain.tenant_id == tenant.id)).all()
    have = {r.host for r in rows}
    for row in rows:
        if row.host not in wanted:
            session.delete(row)
    for host in wanted - have:
        session.add(TenantDomain(host=host, tenant_id=tenant.id))
    return len(wanted ^ have)


def _sync_org(session: Session, tenant: Tenant, pack: Pack) -> int:
    units = {
        u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    changed = 0
    for entry in pack.org.units:  # parents are listed before children, or resolved below
        unit = units.get(entry.code)
        if unit is None:
            unit = OrgUnit(
                tenant_id=tenant.id, code=entry.code, name=entry.name, kind=OrgUnitKind(entry.kind)
            )
            session.add(unit)
            units[entry.code] = unit
            changed += 1
        changed += _assign(
            unit,
            name=entry.name,
            kind=OrgUnitKind(entry.kind),
            address=entry.address,
            phone=entry.phone,
            office_hours=entry.office_hours,
        )
    session.flush()
    for entry in pack.org.units:
        parent_id = units[entry.parent].id if entry.parent else None
        changed += _assign(units[entry.code], parent_id=parent_id)
    session.flush()
    return changed


def _sync_people(session: Session, tenant: Tenant, pack: Pack) -> int:
    changed = 0
    units = {
        u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    for entry in pack.people.staff:
        staff = session.scalar(
            select(Staff).where(Staff.tenant_id == tenant.id, Staff.username == entry.username)
        )
        if staff is None:
            if not entry.password:
                raise PackError(
                    [
                        f"{pack.path / 'people.toml'}: staff '{entry.username}' "
                        "needs a password to be created"
                    ]
                )
            staff = create_staff(
                session,
                tenant,
                username=entry.username,
                name=entry.name,
                password=entry.password,
                phone=entry.phone,
            )
            changed += 1
        else:
            changed += _assign(staff, name=entry.name)
        held = set(
            session.execute(
                select(StaffRole.role, StaffRole.org_unit_id).where(
                    StaffRole.tenant_id == tenant.id, StaffRole.staff_id == staff.id
                )
            ).all()
        )
        for role in entry.roles:
            unit = units[role.unit] if role.unit else None
            if (Role(role.role), unit.id if unit else None) not in held:
                grant_role(session, staff, Role(role.role), unit)
                changed += 1
    # Accounts are only ever created by packs, never overwritten: citizens own them.
    for account in pack.people.accounts:
        phone = normalize_phone(account.phone)
        if find_account_by_phone(session, tenant.province_id, phone) is None:
            create_account(
                session,
                tenant,
                name=account.name,
                phone=phone,
                kind=AccountKind(account.kind),
                password=account.password,
                id_number=account.id_number,
                credit_code=account.credit_code,
            )
            changed += 1
    return changed


def _sync_plugins(
    session: Session, tenant: Tenant, pack: Pack, entries: list[PluginEntry], *, defer: bool
) -> tuple[int, list[PluginEntry]]:
    """Enable, configure or disable the pack's plugins: (how many changed, those refused
    and ``defer``-ed to a second pass once the catalog is written)."""
    manager = get_plugin_manager()
    states = manager.states(session, tenant)
    changed, waiting = 0, []
    for entry in entries:
        state = states[entry.name]
        if state.enabled == entry.enabled and state.raw_config == entry.config:
            continue
        if not defer:
            manager.set_enabled(session, tenant, entry.name, entry.enabled, entry.config)
        else:
            try:
                with session.begin_nested():
                    manager.set_enabled(session, tenant, entry.name, entry.enabled, entry.config)
            except InvalidInput:
                waiting.append(entry)
                continue
        changed += 1
    return changed, waiting
