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

from core.audit import record
from core.errors import GovhallError, InvalidInput
from core.identity.models import ROLE_LABELS, AccountKind, Role, Staff, StaffRole
from core.identity.service import (
    create_account,
    create_staff,
    find_account_by_phone,
    grant_role,
    normalize_phone,
)
from core.packs.catalog import sync_catalog
from core.packs.changes import TenantChanges, masked_phone, shown
from core.packs.errors import PackError, field_problem, toml_problem
from core.packs.schema import CatalogFile, OrgFile, PeopleFile, PluginEntry, TenantFile
from core.plugins import get_plugin_manager
from core.plugins.secrets import keep_secrets
from core.storage import get_storage, tenant_key
from core.tenancy import OrgUnit, OrgUnitKind, Tenant, TenantDomain, TenantKind, TenantStatus
from core.tenancy.models import UNIT_KIND_LABELS
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
    """What applying did (or, in a dry run, would do): per tenant, the lines of the diff."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    changes: int = 0
    tenants: list[TenantChanges] = field(default_factory=list)


def _decode(path: Path, kind: type[Any], problems: list[str]) -> Any:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return kind()
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}：{toml_problem(exc)}")
        return None
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        # msgspec names the field as `$.tenant.division_code`; keep it, say the rest in Chinese
        problems.append(f"{path}：{field_problem(str(exc))}")
        return None


def load_packs(path: Path) -> list[Pack]:
    """The pack at ``path``, or every pack in its sub-folders; parents before children."""
    path = Path(path)
    if (path / "tenant.toml").is_file():
        folders = [path]
    elif path.is_dir():
        folders = sorted(p.parent for p in path.glob("*/tenant.toml"))
    else:
        raise PackError([f"{path}：没有这个文件夹"])
    if not folders:
        raise PackError([f"{path}：找不到 tenant.toml"])
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
            raise PackError([f"{pack.path / 'tenant.toml'}：tenant.parent 形成了循环"])
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
            problems.append(f"{tfile}：tenant.slug「{t.slug}」与 {slugs_seen[t.slug]} 重复")
        slugs_seen[t.slug] = tfile
        if t.division_code in codes_seen:
            problems.append(f"{tfile}：tenant.division_code {t.division_code} 与其他包重复")
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
                    problems.append(f"{tfile}：tenant.parent「{t.parent}」不是已有的地区")
        if parent_code is not None or not t.parent:
            try:
                check_division_code(t.division_code, TenantKind(t.kind), parent_code)
            except GovhallError as exc:
                problems.append(f"{tfile}：tenant.{exc.field or 'division_code'}：{exc.detail}")
        existing = session.scalar(select(Tenant).where(Tenant.division_code == t.division_code))
        if existing is not None and existing.slug != t.slug:
            problems.append(
                f"{tfile}：tenant.division_code {t.division_code} 已属于地区「{existing.slug}」"
            )
        logo = pack.tenant.branding.logo
        if logo:
            logo_path = (pack.path / logo).resolve()
            if pack.path.resolve() not in logo_path.parents or not logo_path.is_file():
                problems.append(f"{tfile}：branding.logo「{logo}」不是包中的文件")
            elif logo_path.suffix.lower() not in _LOGO_TYPES:
                problems.append(f"{tfile}：branding.logo 应为 svg、png、jpg 或 webp 文件")
        for i, entry in enumerate(pack.tenant.plugins):
            where = f"{tfile}：plugins[{i}]"
            if entry.name not in manager.metas:
                problems.append(f"{where}.name：没有名为「{entry.name}」的插件")
                continue
            try:
                manager.meta(entry.name).parse_config(entry.config)
            except GovhallError as exc:
                problems.append(f"{where}.config：{exc.detail}")
        ofile = pack.path / "org.toml"
        codes = [u.code for u in pack.org.units]
        for i, unit in enumerate(pack.org.units):
            if codes.count(unit.code) > 1:
                problems.append(f"{ofile}：units[{i}].code「{unit.code}」重复")
            if unit.parent and unit.parent not in codes:
                problems.append(f"{ofile}：units[{i}].parent「{unit.parent}」不是包中的机构代码")
        pfile = pack.path / "people.toml"
        names = [s.username for s in pack.people.staff]
        for i, staff in enumerate(pack.people.staff):
            if names.count(staff.username) > 1:
                problems.append(f"{pfile}：staff[{i}].username「{staff.username}」重复")
            for j, role in enumerate(staff.roles):
                if role.unit and role.unit not in codes:
                    problems.append(
                        f"{pfile}：staff[{i}].roles[{j}].unit「{role.unit}」不是包中的机构代码"
                    )
                if role.role == "province_admin" and t.kind != "province":
                    problems.append(
                        f"{pfile}：staff[{i}].roles[{j}].role：省级管理员只能设在省级地区"
                    )
            if staff.phone:
                try:
                    normalize_phone(staff.phone)
                except GovhallError as exc:
                    problems.append(f"{pfile}：staff[{i}].phone：{exc.detail}")
        if pack.people.accounts and t.kind != "province":
            problems.append(f"{pfile}：accounts：群众账号属于省，只能写在省级地区的包中")
        for i, acct in enumerate(pack.people.accounts):
            try:
                normalize_phone(acct.phone)
            except GovhallError as exc:
                problems.append(f"{pfile}：accounts[{i}].phone：{exc.detail}")
    return problems


def apply_packs(session: Session, packs: list[Pack], *, dry_run: bool = False) -> ApplyReport:
    """Validate every pack, then apply them all in the session's transaction.

    The pack wins for what it names; what exists only in the live state is left alone and
    listed as kept (a tenant's host names excepted: the pack names the whole list). Each
    tenant whose live state changes gets one "pack.apply" entry in its audit log.

    The session must be in the PLATFORM scope; the caller commits (or rolls back on error,
    so nothing is applied when anything fails). ``dry_run`` works out the same changes, writes
    nothing to storage and rolls the session back: the report is the diff.
    """
    problems = _validate(session, packs)
    if problems:
        raise PackError(problems)
    report = ApplyReport()
    for pack in packs:
        spec = pack.tenant.tenant
        diff = TenantChanges(spec.slug, spec.name)
        try:
            tenant = _apply_one(session, pack, diff, dry_run=dry_run)
        except GovhallError as exc:
            if isinstance(exc, PackError):
                raise
            where = pack.path / "tenant.toml"
            field = f"{exc.field}：" if exc.field else ""
            raise PackError([f"{where}：{field}{exc.detail}"]) from exc
        report.tenants.append(diff)
        if diff.created:
            report.created.append(spec.slug)
        elif diff.changes:
            report.updated.append(spec.slug)
        report.changes += len(diff.changes)
        if diff.changes and not dry_run:
            record(
                session,
                tenant,
                None,
                "pack.apply",
                target_type="tenant",
                target_id=tenant.id,
                target_label=tenant.name,
                after={"changes": [str(c) for c in diff.changes]},
                reason=f"应用配置包 {pack.path.name}",
            )
    if dry_run:
        session.rollback()
    else:
        session.flush()
    return report


def _apply_one(session: Session, pack: Pack, diff: TenantChanges, *, dry_run: bool) -> Tenant:
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
        diff.created = True
        diff.add(f"地区 {spec.name}（{spec.slug}，行政区划代码 {spec.division_code}）")
    _sync_tenant(session, tenant, pack, parent, diff, dry_run=dry_run)
    _sync_domains(session, tenant, spec.domains, diff)
    session.flush()
    _sync_org(session, tenant, pack, diff)
    _sync_people(session, tenant, pack, diff)
    # plugins before the catalog (an item may run a plugin's procedure); a plugin that
    # checks the catalog on enabling (a bundle needs its items live) after it
    waiting = _sync_plugins(session, tenant, pack.tenant.plugins, diff, defer=True)
    sync_catalog(session, tenant, pack.catalog, pack.path / "catalog.toml", diff)
    _sync_plugins(session, tenant, waiting, diff, defer=False)
    _kept_plugins(session, tenant, pack.tenant.plugins, diff)
    return tenant


def _sync_tenant(
    session: Session,
    tenant: Tenant,
    pack: Pack,
    parent: Tenant | None,
    diff: TenantChanges,
    *,
    dry_run: bool,
) -> None:
    spec = pack.tenant.tenant
    if tenant.name != spec.name:
        diff.modify("地区名称", tenant.name, spec.name)
        tenant.name = spec.name
    if tenant.kind != TenantKind(spec.kind):
        diff.modify("地区级别", _KIND[tenant.kind.value], _KIND[spec.kind])
        tenant.kind = TenantKind(spec.kind)
    wanted_parent = parent.id if parent else None
    if tenant.parent_id != wanted_parent:
        live = session.get(Tenant, tenant.parent_id) if tenant.parent_id else None
        diff.modify("上级地区", live.name if live else None, parent.name if parent else None)
        tenant.parent_id = wanted_parent
    # branding: every field the pack names wins; a key set only live is kept
    branding = dict(tenant.branding or {})
    for key, value in msgspec.to_builtins(pack.tenant.branding).items():
        label = _BRANDING.get(key, key)
        if key == "logo":
            if not value:  # a pack without a logo leaves the one uploaded in the browser
                if branding.get("logo"):
                    diff.keep(f"门户外观的{label}")
                continue
            stored, differs = _logo(tenant, pack.path / value, dry_run=dry_run)
            if branding.get("logo") != stored:
                diff.modify_text(f"门户外观的{label}：换成包中的 {value}")
            elif differs:
                diff.modify_text(f"门户外观的{label}：换成包中的 {value}（文件内容不同）")
            value = stored
        elif branding.get(key, "") != value:
            diff.modify(f"门户外观的{label}", branding.get(key), value)
        branding[key] = value
    for key in sorted(branding.keys() - set(msgspec.structs.asdict(pack.tenant.branding))):
        diff.keep(f"门户外观的{_BRANDING.get(key, key)}（{shown(branding[key])}）")
    if branding != tenant.branding:
        tenant.branding = branding
    settings = dict(tenant.settings or {})
    for key, value in pack.tenant.settings.items():
        if settings.get(key) != value:
            diff.modify(f"设置「{_SETTINGS.get(key, key)}」", settings.get(key), value)
            settings[key] = value
    for key in settings.keys() - pack.tenant.settings.keys():
        diff.keep(f"设置「{_SETTINGS.get(key, key)}」（{shown(settings[key])}）")
    if settings != tenant.settings:
        tenant.settings = settings
    wanted = TenantStatus(spec.status)
    if tenant.status != wanted:
        if wanted is TenantStatus.onboarding:
            diff.note(
                f"服务状态：包中为「{_STATUS['onboarding']}」，线上已是"
                f"「{_STATUS[tenant.status.value]}」，保留线上状态（开通后不能回到筹备中）"
            )
        else:
            diff.modify("服务状态", _STATUS[tenant.status.value], _STATUS[wanted.value])
            set_tenant_status(tenant, wanted)


#: what people call the kinds, states and branding fields (one vocabulary with the pages)
_KIND = {"province": "省", "city": "市", "county": "县", "district": "区"}
_STATUS = {"onboarding": "筹备中", "active": "已开通", "suspended": "已暂停"}
_BRANDING = {
    "display_name": "门户名称",
    "primary_color": "主色",
    "accent_color": "强调色",
    "footer": "页脚",
    "logo": "标志",
    "slogan": "标语",
}
#: the settings a pack may carry, as the diff names them (an unknown key is named as typed)
_SETTINGS = {
    "sms_signature": "短信签名",
    "sms_templates": "短信模板",
    "sms_rate_per_minute": "每分钟短信上限",
    "sms_daily_quota": "每日短信上限",
    "sms_on_assignment": "分派时发短信",
    "yellow_card_days_left": "黄牌提前天数",
    "search_synonyms": "搜索同义词",
    "max_extension_days": "最长延期天数",
    "consult_reply_days": "咨询答复时限",
    "separate_review_and_approval": "审核与批准分离",
    "separation_exempt_items": "不需审批分离的事项",
    "chief_representatives": "首席代表",
    "onboarding": "开通向导进度",
}
_UNIT_FIELDS = {
    "name": "名称",
    "address": "地址",
    "phone": "电话",
    "office_hours": "办公时间",
}


def _logo(tenant: Tenant, path: Path, *, dry_run: bool) -> tuple[str, bool]:
    """The logo's storage key, and whether the stored file differs (written unless a dry run)."""
    key = tenant_key(tenant.id, "branding", "logo" + path.suffix.lower())
    storage = get_storage()
    data = path.read_bytes()
    live = (tenant.branding or {}).get("logo")
    if live and live != key and storage.stat(live) is not None and storage.read(live) == data:
        return live, False  # the same picture, uploaded in the browser
    current = storage.stat(key)
    differs = current is None or storage.read(key) != data
    if differs and not dry_run:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        storage.put(key, io.BytesIO(data), content_type)
    return key, differs


def _sync_domains(
    session: Session, tenant: Tenant, domains: list[str], diff: TenantChanges
) -> None:
    """The pack names the whole list of host names: one it leaves out is removed."""
    wanted = {d.lower() for d in domains}
    rows = session.scalars(select(TenantDomain).where(TenantDomain.tenant_id == tenant.id)).all()
    have = {r.host for r in rows}
    for row in rows:
        if row.host not in wanted:
            diff.remove(f"域名 {row.host}（包中没有）")
            session.delete(row)
    for host in sorted(wanted - have):
        diff.add(f"域名 {host}")
        session.add(TenantDomain(host=host, tenant_id=tenant.id))


def _sync_org(session: Session, tenant: Tenant, pack: Pack, diff: TenantChanges) -> None:
    units = {
        u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    live_codes = set(units)
    by_id = {u.id: u.code for u in units.values()}
    for entry in pack.org.units:  # parents are listed before children, or resolved below
        unit = units.get(entry.code)
        kind = OrgUnitKind(entry.kind)
        if unit is None:
            unit = OrgUnit(tenant_id=tenant.id, code=entry.code, name=entry.name, kind=kind)
            session.add(unit)
            units[entry.code] = unit
            diff.add(f"机构 {entry.code} {entry.name}（{UNIT_KIND_LABELS[kind]}）")
        else:
            if unit.kind != kind:
                diff.modify(
                    f"机构 {entry.code} 的类型", UNIT_KIND_LABELS[unit.kind], UNIT_KIND_LABELS[kind]
                )
            if getattr(unit, "closed_at", None) is not None:
                diff.note(f"机构 {entry.code} 已在线上撤销，保留撤销状态")
        unit.kind = kind
        for key, label in _UNIT_FIELDS.items():
            value = getattr(entry, key)
            if getattr(unit, key) != value:
                if entry.code in live_codes:
                    diff.modify(f"机构 {entry.code} 的{label}", getattr(unit, key), value)
                setattr(unit, key, value)
    session.flush()
    for entry in pack.org.units:
        unit = units[entry.code]
        parent_id = units[entry.parent].id if entry.parent else None
        if unit.parent_id != parent_id:
            if entry.code in live_codes:
                old = by_id.get(unit.parent_id) if unit.parent_id else None
                diff.modify(f"机构 {entry.code} 的上级机构", old, entry.parent)
            unit.parent_id = parent_id
    named = {u.code for u in pack.org.units}
    for code in sorted(live_codes - named):
        diff.keep(f"机构 {code} {units[code].name}")
    session.flush()


def _sync_people(session: Session, tenant: Tenant, pack: Pack, diff: TenantChanges) -> None:
    units = {
        u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))
    }
    codes = {u.id: code for code, u in units.items()}
    everyone = {
        s.username: s for s in session.scalars(select(Staff).where(Staff.tenant_id == tenant.id))
    }
    for entry in pack.people.staff:
        staff = everyone.get(entry.username)
        if staff is None:
            # A password is used only to create the account: the person changes it afterwards,
            # and applying the pack again never resets it.
            if not entry.password:
                raise PackError(
                    [
                        f"{pack.path / 'people.toml'}：工作人员「{entry.username}」尚未创建，"
                        "需要填写 password 作为初始密码"
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
            diff.add(f"工作人员 {entry.username} {entry.name}（使用包中的初始密码）")
        else:
            if not staff.active:
                diff.note(f"工作人员 {entry.username} 已在线上停用，保留停用状态")
            if staff.name != entry.name:
                diff.modify(f"工作人员 {entry.username} 的姓名", staff.name, entry.name)
                staff.name = entry.name
            phone = normalize_phone(entry.phone) if entry.phone else None
            if phone and staff.phone != phone:
                diff.modify(
                    f"工作人员 {entry.username} 的手机号",
                    masked_phone(staff.phone),
                    masked_phone(phone),
                )
                staff.phone = phone
        held = set(
            session.execute(
                select(StaffRole.role, StaffRole.org_unit_id).where(
                    StaffRole.tenant_id == tenant.id, StaffRole.staff_id == staff.id
                )
            ).all()
        )
        wanted = set()
        for role in entry.roles:
            unit = units[role.unit] if role.unit else None
            key = (Role(role.role), unit.id if unit else None)
            wanted.add(key)
            if key not in held:
                grant_role(session, staff, Role(role.role), unit)
                diff.add(f"工作人员 {entry.username} 的角色：{_role(key, codes)}")
        for key in sorted(held - wanted, key=lambda k: (k[0].value, str(k[1]))):
            diff.keep(f"工作人员 {entry.username} 的角色：{_role(key, codes)}")
    named = {s.username for s in pack.people.staff}
    for username in sorted(everyone.keys() - named):
        diff.keep(f"工作人员 {username} {everyone[username].name}")
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
            diff.add(f"群众账号 {account.name[:1]}*（{masked_phone(phone)}）")


def _role(key: tuple[Role, Any], codes: dict[Any, str]) -> str:
    role, unit_id = key
    where = f"（{codes.get(unit_id, '已撤销的机构')}）" if unit_id else "（全地区）"
    return ROLE_LABELS[role] + where


def _sync_plugins(
    session: Session,
    tenant: Tenant,
    entries: list[PluginEntry],
    diff: TenantChanges,
    *,
    defer: bool,
) -> list[PluginEntry]:
    """Enable, configure or disable the pack's plugins; returns those refused and ``defer``-ed
    to a second pass once the catalog is written. A secret the pack leaves as the mask
    (``********``, as an export writes it) keeps the saved value."""
    manager = get_plugin_manager()
    states = manager.states(session, tenant)
    waiting = []
    for entry in entries:
        state = states[entry.name]
        config = keep_secrets(state.meta.config_schema(), entry.config, state.raw_config)
        if state.enabled == entry.enabled and state.raw_config == config:
            continue
        if not defer:
            manager.set_enabled(session, tenant, entry.name, entry.enabled, config)
        else:
            try:
                with session.begin_nested():
                    manager.set_enabled(session, tenant, entry.name, entry.enabled, config)
            except InvalidInput:
                waiting.append(entry)
                continue
        _plugin_lines(diff, state, entry.enabled, config)
    return waiting


def _plugin_lines(diff: TenantChanges, state: Any, enabled: bool, config: dict[str, Any]) -> None:
    meta = state.meta
    what = f"插件「{meta.title}」"
    if state.enabled != enabled:
        on = ("已停用", "已启用")
        diff.modify(what, on[state.enabled], on[enabled])
    before, after = meta.redact(state.raw_config), meta.redact(config)
    for key in sorted({*state.raw_config, *config}):
        if state.raw_config.get(key) == config.get(key):
            continue
        if before.get(key) == after.get(key):
            diff.modify_text(f"{what}的配置 {key}：密钥已更改")
        else:
            diff.modify(f"{what}的配置 {key}", before.get(key), after.get(key))


def _kept_plugins(
    session: Session, tenant: Tenant, entries: list[PluginEntry], diff: TenantChanges
) -> None:
    named = {e.name for e in entries}
    for name, state in get_plugin_manager().states(session, tenant).items():
        if name not in named and state.enabled:
            diff.keep(f"插件「{state.meta.title}」已启用")
