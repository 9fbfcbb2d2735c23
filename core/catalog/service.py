"""Catalog rules: drafts and publication, province standard and county adoption, status
changes with their public log, browsing and search, statistics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from core.audit import AuditActor, record
from core.catalog.codes import check_code
from core.catalog.content import ItemContent, parse_content, parse_overrides
from core.catalog.errors import ItemConflict, ItemNotFound
from core.catalog.guides import forget_guides
from core.catalog.models import (
    Category,
    Item,
    ItemChange,
    ItemStatus,
    ItemVersion,
    Theme,
    VersionState,
)
from core.catalog.presentation import FIELD_LABELS, LABELS
from core.catalog.search import index_item, posting_columns, set_posting_status
from core.db import new_id, platform_scope, remembered, snapshot, utcnow, watch
from core.errors import InvalidInput
from core.forms.model import override_problems, parse_form
from core.tenancy import OrgUnit, OrgUnitKind, Tenant
from core.workflow import known_codes

__all__ = [
    "activate_scheduled",
    "adopt_item",
    "change_status",
    "create_item",
    "diff_versions",
    "draft_from_full",
    "get_item",
    "get_item_by_code",
    "item_changes",
    "item_with_live",
    "overrides_of",
    "propagate",
    "publish_item",
    "save_draft",
    "versions_of",
]

STATUS_ACTIONS = {
    "cancel": ItemStatus.cancelled,
    "delegate": ItemStatus.delegated,
    "transfer": ItemStatus.transferred,
    "merge": ItemStatus.merged,
    "restore": ItemStatus.active,
}


def categories(session: Session) -> dict[str, Category]:
    return {c.code: c for c in session.scalars(select(Category).order_by(Category.sort))}


watch(Category, OrgUnit, Theme)


def directory(session: Session, tenant: Tenant) -> dict[str, Any]:
    """What every public catalog page shows around its content: the departments (by code),
    the categories (by code, in order) and the themes, as read-only snapshots remembered for a
    moment (see core/db/_memo.py)."""

    def load() -> dict[str, Any]:
        return {
            "departments": {c: snapshot(u) for c, u in departments(session, tenant).items()},
            "categories": {c: snapshot(row) for c, row in categories(session).items()},
            "themes": [
                snapshot(t)
                for t in session.scalars(
                    select(Theme).where(Theme.tenant_id == tenant.id).order_by(Theme.code)
                )
            ],
        }

    return remembered(session, ("catalog-directory", tenant.id), load)


def departments(session: Session, tenant: Tenant) -> dict[str, OrgUnit]:
    """The tenant's open departments (a closed one — 撤销 — is offered nowhere)."""
    return {
        u.code: u
        for u in session.scalars(
            select(OrgUnit).where(
                OrgUnit.tenant_id == tenant.id,
                OrgUnit.kind == OrgUnitKind.department,
                OrgUnit.closed_at.is_(None),
            )
        )
    }


def items_of_department(session: Session, tenant: Tenant, code: str) -> int:
    """How many live items (not cancelled) name the department ``code``."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Item)
            .where(
                Item.tenant_id == tenant.id,
                Item.department_code == code,
                Item.status != ItemStatus.cancelled,
            )
        )
        or 0
    )


def _validate(session: Session, tenant: Tenant, raw: dict[str, Any]) -> ItemContent:
    return parse_content(
        raw,
        categories=set(categories(session)),
        departments=set(departments(session, tenant)),
        processes=known_codes(session, tenant),
    )


def _validate_adopted(
    session: Session, tenant: Tenant, standard: dict[str, Any], overrides: dict[str, Any]
) -> ItemContent:
    """An adopted item's content: the province's, overridden; a county's form may add and
    tighten the province's fields, never drop or loosen one."""
    content = _validate(session, tenant, {**standard, **overrides})
    if "form" in overrides:
        problems = override_problems(parse_form(standard.get("form") or []), content.form)
        if problems:
            raise InvalidInput("；".join(problems), field="form")
    return content


def get_item(session: Session, tenant: Tenant, item_id: uuid.UUID) -> Item:
    item = session.get(Item, (tenant.id, item_id))
    if item is None:
        raise ItemNotFound("没有这个事项")
    return item


#: statements read on every item page, built once (building one costs as much as running it)
_BY_CODE = select(Item).where(Item.tenant_id == bindparam("tenant"), Item.code == bindparam("code"))
_WITH_LIVE = (
    select(Item, ItemVersion.number, ItemVersion.published_at)
    .outerjoin(
        ItemVersion,
        and_(ItemVersion.tenant_id == Item.tenant_id, ItemVersion.id == Item.live_version_id),
    )
    .where(Item.tenant_id == bindparam("tenant"), Item.code == bindparam("code"))
)
_CHANGES = (
    select(ItemChange)
    .where(ItemChange.tenant_id == bindparam("tenant"), ItemChange.item_id == bindparam("item"))
    .order_by(ItemChange.created_at.desc())
)


def get_item_by_code(session: Session, tenant: Tenant, code: str) -> Item:
    item = session.scalar(_BY_CODE, {"tenant": tenant.id, "code": code})
    if item is None:
        raise ItemNotFound(f"没有编码为 {code} 的事项")
    return item


@dataclass(frozen=True)
class LiveVersion:
    """What a page says of an item's live version besides its content (the item has that)."""

    number: int
    published_at: datetime | None


def item_with_live(session: Session, tenant: Tenant, code: str) -> tuple[Item, LiveVersion | None]:
    """The item ``code`` and its live version's number and publication, in one statement."""
    row = session.execute(_WITH_LIVE, {"tenant": tenant.id, "code": code}).first()
    if row is None:
        raise ItemNotFound(f"没有编码为 {code} 的事项")
    item, number, published_at = row
    return item, (LiveVersion(number, published_at) if number is not None else None)


def item_changes(session: Session, tenant: Tenant, item: Item) -> list[ItemChange]:
    """The item's public change log, newest first."""
    return list(session.scalars(_CHANGES, {"tenant": tenant.id, "item": item.id}))


def versions_of(session: Session, item: Item) -> list[ItemVersion]:
    return list(
        session.scalars(
            select(ItemVersion)
            .where(ItemVersion.tenant_id == item.tenant_id, ItemVersion.item_id == item.id)
            .order_by(ItemVersion.number)
        )
    )


def _draft(session: Session, item: Item) -> ItemVersion | None:
    return session.scalar(
        select(ItemVersion).where(
            ItemVersion.tenant_id == item.tenant_id,
            ItemVersion.item_id == item.id,
            ItemVersion.state == VersionState.draft,
        )
    )


def _next_number(session: Session, item: Item) -> int:
    top = session.scalar(
        select(func.max(ItemVersion.number)).where(
            ItemVersion.tenant_id == item.tenant_id, ItemVersion.item_id == item.id
        )
    )
    return (top or 0) + 1


def create_item(
    session: Session,
    tenant: Tenant,
    *,
    code: str,
    content: dict[str, Any],
    publish: bool = False,
    valid_from: date | None = None,
    actor: AuditActor | None = None,
) -> Item:
    """A tenant's own item, with its first version as a draft (or published at once)."""
    code = check_code(code)
    if session.scalar(select(Item.id).where(Item.tenant_id == tenant.id, Item.code == code)):
        raise ItemConflict(f"编码 {code} 已被其他事项使用", field="code")
    parsed = _validate(session, tenant, content)
    item = Item(tenant_id=tenant.id, id=new_id(), code=code, name=parsed.name)
    session.add(item)
    session.flush()
    session.add(
        ItemVersion(
            tenant_id=tenant.id,
            id=new_id(),
            item_id=item.id,
            number=1,
            content=msgspec.to_builtins(parsed),
        )
    )
    session.flush()
    if actor is not None:  # packs and imports record one entry of their own
        record(
            session,
            tenant,
            actor,
            "catalog.item",
            target_type="item",
            target_id=item.code,
            target_label=item.name,
            after={"code": item.code, "name": item.name, "version": 1},
            reason="新建事项",
        )
    if publish:
        publish_item(session, tenant, item, valid_from=valid_from, actor=actor)
    return item


def save_draft(
    session: Session,
    tenant: Tenant,
    item: Item,
    content: dict[str, Any],
    note: str = "",
    *,
    actor: AuditActor | None = None,
) -> ItemVersion:
    """Create or replace the item's draft. The live version keeps serving meanwhile."""
    if item.standard_item_id is not None:
        stored = parse_overrides(content)
        _validate_adopted(session, tenant, standard_content(session, item), stored)
    else:
        stored = msgspec.to_builtins(_validate(session, tenant, content))
    draft = _draft(session, item)
    previous = dict(draft.content) if draft is not None else _live_content(session, item)
    if draft is None:
        draft = ItemVersion(
            tenant_id=tenant.id, id=new_id(), item_id=item.id, number=_next_number(session, item)
        )
        session.add(draft)
    draft.content = stored
    draft.note = note
    session.flush()
    before, after = _content_change(previous, dict(stored))
    if actor is not None:  # packs and imports record one entry of their own
        record(
            session,
            tenant,
            actor,
            "catalog.item",
            target_type="item",
            target_id=item.code,
            target_label=item.name,
            before=before,
            after={**after, "version": draft.number},
            reason=note,
        )
    return draft


def _live_content(session: Session, item: Item) -> dict[str, Any]:
    if item.live_version_id is None:
        return {}
    live = session.get(ItemVersion, (item.tenant_id, item.live_version_id))
    return dict(live.content) if live else {}


def _content_change(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """For the audit log: short fields changed as before → after, long ones (materials,
    process …) named in 改动内容 only, all by their Chinese names."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    named: list[str] = []
    for key, was, now in diff_versions(old, new):
        label = FIELD_LABELS.get(key, key)
        short = all(
            (v is None or isinstance(v, str | int | float | bool)) and len(str(v or "")) <= 80
            for v in (was, now)
        )
        if short:
            before[label], after[label] = was, now
            continue
        named.append(label)
    if named:
        after["changes"] = named
    return before, after


def standard_content(session: Session, item: Item) -> dict[str, Any]:
    """The province item's live content (read in the province's own scope)."""
    assert item.standard_item_id and item.standard_tenant_id
    with platform_scope(session) as s:
        standard = s.get(Item, (item.standard_tenant_id, item.standard_item_id))
        if standard is None or not standard.effective:
            raise ItemNotFound("省级标准事项尚未发布")
        return dict(standard.effective)


def draft_from_full(session: Session, item: Item, content: dict[str, Any]) -> dict[str, Any]:
    """What to save as the draft of ``item`` given its full intended content: the content
    itself for an own item, only the fields that differ from the province for an adopted one."""
    content = msgspec.to_builtins(content)
    if item.standard_item_id is None:
        return content
    standard = _comparable(standard_content(session, item))
    same = _comparable(content)
    # compared as the catalog reads them: a material written without the keys the province's
    # carries empty (``template_key: None``) is the same material — counting it a local change
    # would stop the province's later changes to it from reaching the county
    return {k: v for k, v in content.items() if standard.get(k) != same.get(k, v)}


def _comparable(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` with every default the catalog fills in (as stored once validated); as it
    is when it does not validate (saving it refuses it then)."""
    try:
        parsed = msgspec.convert(content, ItemContent, strict=False)
    except msgspec.ValidationError:
        return content
    full: dict[str, Any] = msgspec.to_builtins(parsed)
    return {k: full[k] for k in content if k in full} | {
        k: v for k, v in full.items() if k not in content
    }


def publish_item(
    session: Session,
    tenant: Tenant,
    item: Item,
    *,
    valid_from: date | None = None,
    reason: str = "",
    actor: AuditActor | None = None,
) -> ItemVersion:
    """Make the draft live: the previous live version is superseded, cases filed under it
    keep it. A province's publication flows on to the counties that adopted the item."""
    draft = _draft(session, item)
    if draft is None:
        raise ItemConflict("没有待发布的草稿")
    if actor is not None:  # packs and imports record one entry of their own
        record(
            session,
            tenant,
            actor,
            "catalog.publish",
            target_type="item",
            target_id=item.code,
            target_label=item.name,
            after={"version": draft.number, "effective_from": valid_from or date.today()},
            reason=reason or draft.note,
        )
    if item.standard_item_id is not None:
        effective = _validate_adopted(
            session, tenant, standard_content(session, item), draft.content
        )
    else:
        effective = _validate(session, tenant, draft.content)
    if valid_from is not None and valid_from > date.today():
        # A validity window that has not begun: the live version keeps serving until then
        # (activate_scheduled switches it over, run by the scheduler).
        draft.state = VersionState.scheduled
        draft.valid_from = valid_from
        draft.effective = msgspec.to_builtins(effective)
        session.add(
            ItemChange(
                tenant_id=tenant.id,
                id=new_id(),
                item_id=item.id,
                action="publish",
                effective_on=valid_from,
                reason=reason or draft.note or f"第 {draft.number} 版定于该日生效",
            )
        )
        session.flush()
        return draft
    _go_live(session, tenant, item, draft, msgspec.to_builtins(effective), valid_from)
    session.add(
        ItemChange(
            tenant_id=tenant.id,
            id=new_id(),
            item_id=item.id,
            action="publish",
            reason=reason or draft.note or f"发布第 {draft.number} 版",
            effective_on=valid_from or date.today(),
        )
    )
    session.flush()
    if tenant.is_province:
        propagate(session, item)
    return draft


def _go_live(
    session: Session,
    tenant: Tenant,
    item: Item,
    version: ItemVersion,
    effective: dict[str, Any],
    valid_from: date | None,
) -> None:
    today = valid_from or date.today()
    if item.live_version_id:
        live = session.get(ItemVersion, (tenant.id, item.live_version_id))
        if live is not None:
            live.state = VersionState.superseded
            live.valid_to = today
    version.state = VersionState.published
    version.published_at = utcnow()
    version.valid_from = today
    version.effective = effective
    item.live_version_id = version.id
    item.effective = effective
    for column, value in live_columns(effective).items():
        setattr(item, column, value)
    session.flush()
    _reindex(session, tenant, item)
    forget_guides(session, tenant, [item.id])


def live_columns(effective: dict[str, Any]) -> dict[str, Any]:
    """The item's columns that mirror its live version, for lists, filters and statistics."""
    return {
        "name": effective["name"],
        "kind": effective["kind"],
        "category": effective["category"],
        "department_code": effective["department"],
        "legal_days": effective["legal_days"],
        "promised_days": effective["promised_days"],
        "levels": list(effective["levels"]),
        "audience": audience_column(effective.get("audience")),
    }


def audience_column(audience: list[str] | None) -> str:
    """服务对象 as the items table keeps it: person, enterprise or both (none named: person)."""
    named = set(audience or ()) or {"person"}
    return " ".join(a for a in ("person", "enterprise") if a in named)


def index_texts(
    code: str, effective: dict[str, Any], department_name: str, category_name: str
) -> list[str]:
    """What search finds an item by (core/catalog/search.py indexes these texts)."""
    return [
        effective.get("name", ""),
        code,
        " ".join(effective.get("keywords", [])),
        department_name,
        category_name,
        effective.get("implementing_body", ""),
    ]


def _reindex(session: Session, tenant: Tenant, item: Item) -> None:
    eff = item.effective
    dept = departments(session, tenant).get(eff.get("department", ""))
    cat = session.get(Category, eff.get("category", ""))
    texts = index_texts(item.code, eff, dept.name if dept else "", cat.name if cat else "")
    columns = posting_columns(item.code, ItemStatus(item.status).value, eff, item.audience)
    index_item(session, tenant.id, item.id, texts, columns)


def propagate(session: Session, standard: Item) -> None:
    """Re-publish every county item adopting ``standard`` with the new province content."""
    with platform_scope(session) as s:
        adopters = s.execute(
            select(Item.tenant_id, Item.id).where(Item.standard_item_id == standard.id)
        ).all()
    for tenant_id, item_id in adopters:
        with platform_scope(session) as s:
            county = s.get(Tenant, tenant_id)
            item = s.get(Item, (tenant_id, item_id))
            live = s.get(ItemVersion, (tenant_id, item.live_version_id)) if item else None
            if county is None or item is None or live is None:
                continue
            effective = msgspec.to_builtins(
                _validate_adopted(s, county, dict(standard.effective), live.content)
            )
            version = ItemVersion(
                tenant_id=county.id,
                id=new_id(),
                item_id=item.id,
                number=_next_number(s, item),
                content=dict(live.content),
                note="省级标准更新",
            )
            s.add(version)
            s.flush()
            _go_live(s, county, item, version, effective, None)


def adopt_item(
    session: Session,
    tenant: Tenant,
    standard_code: str,
    *,
    overrides: dict[str, Any],
    code: str | None = None,
) -> Item:
    """A county adopts its province's item ``standard_code``, overriding some fields
    (at least the department, which must be the county's own)."""
    if tenant.is_province:
        raise InvalidInput("省级发布标准事项，由市、县采用", field="code")
    with platform_scope(session) as s:
        standard = s.scalar(
            select(Item).where(Item.tenant_id == tenant.province_id, Item.code == standard_code)
        )
        if standard is None or not standard.effective:
            raise ItemNotFound(f"省级没有已发布的事项 {standard_code}", field="standard_code")
        standard_id, standard_effective = standard.id, dict(standard.effective)
    code = check_code(code or standard_code)
    if session.scalar(select(Item.id).where(Item.tenant_id == tenant.id, Item.code == code)):
        raise ItemConflict(f"编码 {code} 已被其他事项使用", field="code")
    overrides = parse_overrides(overrides)
    effective = _validate_adopted(session, tenant, standard_effective, overrides)
    item = Item(
        tenant_id=tenant.id,
        id=new_id(),
        code=code,
        standard_item_id=standard_id,
        standard_tenant_id=tenant.province_id,
        name=effective.name,
    )
    session.add(item)
    session.flush()
    version = ItemVersion(
        tenant_id=tenant.id,
        id=new_id(),
        item_id=item.id,
        number=1,
        content=overrides,
        note="采用省级标准",
    )
    session.add(version)
    session.flush()
    _go_live(session, tenant, item, version, msgspec.to_builtins(effective), None)
    session.add(
        ItemChange(
            tenant_id=tenant.id,
            id=new_id(),
            item_id=item.id,
            action="publish",
            reason="采用省级标准事项",
            effective_on=date.today(),
        )
    )
    session.flush()
    return item


def activate_scheduled(session: Session, today: date | None = None) -> int:
    """Put every scheduled version whose day has come live; returns how many. The session
    may be a tenant's or PLATFORM (the scheduler's sweep over all tenants)."""
    today = today or date.today()
    due = list(
        session.scalars(
            select(ItemVersion).where(
                ItemVersion.state == VersionState.scheduled, ItemVersion.valid_from <= today
            )
        )
    )
    for version in due:
        tenant = session.get(Tenant, version.tenant_id)
        item = session.get(Item, (version.tenant_id, version.item_id))
        if tenant is None or item is None:
            continue
        _go_live(session, tenant, item, version, dict(version.effective or {}), version.valid_from)
        if tenant.is_province:
            propagate(session, item)
    return len(due)


def overrides_of(session: Session, item: Item) -> dict[str, Any]:
    """What a county changed against its province's standard (empty for own items)."""
    if item.standard_item_id is None or item.live_version_id is None:
        return {}
    live = session.get(ItemVersion, (item.tenant_id, item.live_version_id))
    return dict(live.content) if live else {}


def change_status(
    session: Session,
    tenant: Tenant,
    item: Item,
    action: str,
    *,
    reason: str,
    target: str = "",
    effective_on: date | None = None,
    actor: AuditActor | None = None,
) -> ItemChange:
    """取消, 下放, 转移, 整合 (or restore), with a reason, kept in the public change log."""
    if action not in STATUS_ACTIONS:
        raise InvalidInput(f"没有「{action}」这种变更", field="action")
    if not reason.strip():
        raise InvalidInput("请填写变更理由", field="reason")
    if action in ("delegate", "transfer", "merge") and not target.strip():
        raise InvalidInput("请填写事项的去向", field="target")
    new = STATUS_ACTIONS[action]
    if new == item.status:
        raise ItemConflict(
            f"事项已经是「{LABELS['status'][item.status.value]}」状态", field="action"
        )
    if actor is not None:  # packs and imports record one entry of their own
        record(
            session,
            tenant,
            actor,
            "catalog.item",
            target_type="item",
            target_id=item.code,
            target_label=item.name,
            before={"status": LABELS["status"][item.status.value]},
            after={"status": LABELS["status"][new.value]},
            reason=reason.strip(),
        )
    item.status = new
    set_posting_status(session, tenant.id, item.id, new.value)
    change = ItemChange(
        tenant_id=tenant.id,
        id=new_id(),
        item_id=item.id,
        action=action,
        reason=reason.strip(),
        target=target.strip(),
        effective_on=effective_on or date.today(),
    )
    session.add(change)
    session.flush()
    return change


def diff_versions(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Field by field: (field, old value, new value) for every field that differs."""
    keys = list(dict.fromkeys([*old.keys(), *new.keys()]))
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]
