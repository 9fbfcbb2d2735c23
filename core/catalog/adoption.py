"""Adopting the province's standard catalog (认领省级标准事项), many items at once.

A county sees every published standard item of its province beside its own list
(:func:`standard_vs_local`) and adopts all it has not adopted yet, or those it picks, in one
transaction (:func:`adopt_standard`). Each adopted item needs a department of the county: the
province's departments are mapped to the county's — suggested where the names agree
(市场监督管理局 ↔ 县市场监督管理局), chosen by the admin otherwise. The call is all or nothing:
an item that cannot be adopted is named with its problem, in Chinese, and nothing is written.

An item adopted here keeps the province's code (a county wanting its own codes adopts one item
at a time through ``POST items/adopt``) and overrides only its department and, where the
province named its department there, its implementing body (承办机构).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.audit import AuditActor, record
from core.audit.models import AuditEntry
from core.catalog._bulk import _insert_terms, _Names, before_bulk_write
from core.catalog.codes import check_code
from core.catalog.content import parse_content
from core.catalog.models import Category, Item, ItemChange, ItemStatus, ItemVersion, VersionState
from core.catalog.presentation import FIELD_LABELS
from core.catalog.service import departments as county_departments
from core.catalog.service import live_columns
from core.db import new_id, platform_scope, utcnow
from core.errors import GovhallError, InvalidInput
from core.tenancy import OrgUnit, OrgUnitKind, Tenant
from core.workflow import known_codes

__all__ = [
    "ADOPTION_STATES",
    "AdoptPlan",
    "AdoptProblem",
    "AdoptReport",
    "AdoptionResult",
    "AdoptionRow",
    "Department",
    "adopt_standard",
    "adoption_result",
    "names_match",
    "plan_adoption",
    "province_departments",
    "standard_vs_local",
    "suggest_departments",
]

#: how each state of a row is called on the page (English in web/i18n/en.po)
ADOPTION_STATES = {
    "not_adopted": "未认领",
    "adopted": "已认领",
    "overridden": "有本地调整",
    "local_only": "本地特有",
}

#: the audit action one adoption records
AUDIT_ACTION = "catalog.adopt"


@dataclass(frozen=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True)
class AdoptionRow:
    """One line of the side-by-side view: a province standard item and what the county did
    with it, or (``state == "local_only"``) a county item of its own with no standard."""

    state: str  # not_adopted | adopted | overridden | local_only
    #: the province's code, name, department and category (empty for a local-only item)
    standard_code: str
    name: str
    kind: str
    category: str
    category_name: str
    province_department: str = ""
    province_department_name: str = ""
    #: the county's item, once adopted (or its own item)
    local_code: str = ""
    local_name: str = ""
    local_department: str = ""
    local_department_name: str = ""
    #: fields the county changed beyond the department mapping, as labels (承诺时限, 咨询方式 …)
    overrides: tuple[str, ...] = ()

    @property
    def state_label(self) -> str:
        return ADOPTION_STATES[self.state]

    @property
    def adopted(self) -> bool:
        return self.state in ("adopted", "overridden")


@dataclass(frozen=True)
class AdoptProblem:
    """Why one standard item cannot be adopted (the whole adoption waits for it)."""

    code: str
    name: str
    message: str


@dataclass
class AdoptPlan:
    """What an adoption would do, checked but not written."""

    #: (standard code, county department code) in the province's order
    items: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[AdoptProblem] = field(default_factory=list)
    #: the mapping in force: province department code → county department code
    departments: dict[str, str] = field(default_factory=dict)
    _contents: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _overrides: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _standard_ids: dict[str, uuid.UUID] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.items]


@dataclass
class AdoptReport:
    """What :func:`adopt_standard` did: the codes adopted, those skipped as already adopted,
    and — when anything could not be adopted — the problems, with nothing written."""

    adopted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[AdoptProblem] = field(default_factory=list)
    departments: dict[str, str] = field(default_factory=dict)
    #: the audit entry recording the adoption (its number in the tenant's log), if one was made
    audit_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# -- department names ---------------------------------------------------------------------------

#: what a department's name may start with that says only where it is
_LEVEL = re.compile(r"^(?:自治区|自治州|自治县|省|市|州|盟|县|区|旗)")


def _cores(name: str, places: Iterable[str]) -> set[str]:
    """The name without the place it belongs to: 广西壮族自治区市场监督管理局, 县市场监督管理局
    and 河池市市场监督管理局 all give 市场监督管理局 (among others)."""
    name = re.sub(r"\s+", "", name)
    found = {name}
    for place in sorted((p for p in places if p), key=len, reverse=True):
        if name.startswith(place) and len(name) > len(place):
            found.add(name[len(place) :])
    for candidate in list(found):
        stripped = _LEVEL.sub("", candidate, count=1)
        if stripped and stripped != candidate:
            found.add(stripped)
    return found


def names_match(province_name: str, county_name: str, places: Iterable[str] = ()) -> bool:
    """Whether a province department and a county one are the same office at two levels."""
    places = list(places)
    return bool(_cores(province_name, places) & _cores(county_name, places))


def _places(province: Tenant, county: Tenant) -> list[str]:
    return [province.name, province.display_name, county.name, county.display_name]


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Standard:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    category: str
    department: str
    effective: dict[str, Any]


def _province(session: Session, tenant: Tenant) -> Tenant:
    if tenant.is_province:
        raise InvalidInput("省级发布标准事项，由市、县认领", field="codes")
    with platform_scope(session) as s:
        province = s.get(Tenant, tenant.province_id)
    assert province is not None
    return province


def _standards(session: Session, province: Tenant) -> list[_Standard]:
    """The province's published standard items in use, in code order."""
    with platform_scope(session) as s:
        rows = s.execute(
            select(
                Item.id,
                Item.code,
                Item.name,
                Item.kind,
                Item.category,
                Item.department_code,
                Item.effective,
            )
            .where(
                Item.tenant_id == province.id,
                Item.status == ItemStatus.active,
                Item.live_version_id.is_not(None),
            )
            .order_by(Item.code)
        ).all()
    return [_Standard(*row) for row in rows if row.effective]


def province_departments(session: Session, tenant: Tenant) -> list[Department]:
    """The departments of ``tenant``'s province, in code order."""
    province = _province(session, tenant)
    with platform_scope(session) as s:
        units = s.execute(
            select(OrgUnit.code, OrgUnit.name)
            .where(OrgUnit.tenant_id == province.id, OrgUnit.kind == OrgUnitKind.department)
            .order_by(OrgUnit.code)
        ).all()
    return [Department(code, name) for code, name in units]


def suggest_departments(session: Session, tenant: Tenant) -> dict[str, str]:
    """Province department code → the county department whose name agrees with it, where
    exactly one does (市场监督管理局 ↔ 县市场监督管理局); others are left for the admin."""
    province = _province(session, tenant)
    mine = county_departments(session, tenant)
    places = _places(province, tenant)
    suggested: dict[str, str] = {}
    for dept in province_departments(session, tenant):
        matches = [c for c, u in mine.items() if names_match(dept.name, u.name, places)]
        if len(matches) == 1:
            suggested[dept.code] = matches[0]
    return suggested


def _category_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Category.code, Category.name)).all())


def _mapping_fields(
    standard: Mapping[str, Any], overrides: Mapping[str, Any], county_dept_name: str
) -> set[str]:
    """The overridden fields that only follow the department mapping (not local changes)."""
    fields = {"department"}
    if overrides.get("implementing_body") in (county_dept_name, standard.get("implementing_body")):
        fields.add("implementing_body")
    return fields


def standard_vs_local(session: Session, tenant: Tenant) -> list[AdoptionRow]:
    """Every published province standard item beside what the county did with it (未认领,
    已认领 under which code and department, 有本地调整 naming the fields), then the county's
    own items with no standard (本地特有)."""
    province = _province(session, tenant)
    standards = _standards(session, province)
    prov_depts = {d.code: d.name for d in province_departments(session, tenant)}
    mine = {c: u.name for c, u in county_departments(session, tenant).items()}
    categories = _category_names(session)
    items = session.execute(
        select(
            Item.code,
            Item.name,
            Item.kind,
            Item.category,
            Item.department_code,
            Item.standard_item_id,
            Item.live_version_id,
        )
        .where(Item.tenant_id == tenant.id)
        .order_by(Item.code)
    ).all()
    live_ids = [
        row.live_version_id for row in items if row.standard_item_id and row.live_version_id
    ]
    contents: dict[uuid.UUID, dict[str, Any]] = {}
    if live_ids:
        contents = {
            vid: dict(content or {})
            for vid, content in session.execute(
                select(ItemVersion.id, ItemVersion.content).where(
                    ItemVersion.tenant_id == tenant.id, ItemVersion.id.in_(live_ids)
                )
            ).all()
        }
    adopted = {row.standard_item_id: row for row in items if row.standard_item_id}
    rows: list[AdoptionRow] = []
    for std in standards:
        common: dict[str, Any] = {
            "standard_code": std.code,
            "name": std.name,
            "kind": std.kind,
            "category": std.category,
            "category_name": categories.get(std.category, ""),
            "province_department": std.department,
            "province_department_name": prov_depts.get(std.department, std.department),
        }
        local = adopted.get(std.id)
        if local is None:
            rows.append(AdoptionRow(state="not_adopted", **common))
            continue
        overrides = contents.get(local.live_version_id, {}) if local.live_version_id else {}
        dept_name = mine.get(local.department_code, local.department_code)
        changed = [
            f
            for f in overrides
            if f not in _mapping_fields(std.effective, overrides, dept_name)
            and overrides[f] != std.effective.get(f)
        ]
        rows.append(
            AdoptionRow(
                state="overridden" if changed else "adopted",
                local_code=local.code,
                local_name=local.name,
                local_department=local.department_code,
                local_department_name=dept_name,
                overrides=tuple(FIELD_LABELS.get(f, f) for f in changed),
                **common,
            )
        )
    for row in items:
        if row.standard_item_id is None and row.live_version_id is not None:
            rows.append(
                AdoptionRow(
                    state="local_only",
                    standard_code="",
                    name=row.name,
                    kind=row.kind,
                    category=row.category,
                    category_name=categories.get(row.category, ""),
                    local_code=row.code,
                    local_name=row.name,
                    local_department=row.department_code,
                    local_department_name=mine.get(row.department_code, row.department_code),
                )
            )
    return rows


# -- planning and writing -----------------------------------------------------------------------


def _resolve_mapping(
    departments: Mapping[str, str] | None,
    prov_depts: list[Department],
    suggested: dict[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """The mapping in force (suggestions, then what the caller said, which wins) and the keys
    the caller gave that name no province department (key → problem)."""
    by_name = {d.name: d.code for d in prov_depts}
    known = {d.code for d in prov_depts}
    mapping = dict(suggested)
    unknown: dict[str, str] = {}
    for key, value in (departments or {}).items():
        code = key if key in known else by_name.get(key)
        if code is None:
            unknown[key] = f"省级没有「{key}」这个部门"
            continue
        if value:
            mapping[code] = value
        else:
            mapping.pop(code, None)  # "" undoes a suggestion: the admin will choose
    return mapping, unknown


def plan_adoption(
    session: Session,
    tenant: Tenant,
    *,
    codes: list[str] | None = None,
    departments: Mapping[str, str] | None = None,
) -> AdoptPlan:
    """Check an adoption without writing it: which items, under which department, and every
    problem (the confirm step of the page shows this)."""
    province = _province(session, tenant)
    standards = _standards(session, province)
    prov_depts = province_departments(session, tenant)
    dept_names = {d.code: d.name for d in prov_depts}
    mine = county_departments(session, tenant)
    mapping, unknown = _resolve_mapping(
        departments, prov_depts, suggest_departments(session, tenant)
    )
    plan = AdoptPlan(departments={})
    for key, message in unknown.items():
        plan.problems.append(AdoptProblem("", key, message))
    adopted_ids = set(
        session.scalars(
            select(Item.standard_item_id).where(
                Item.tenant_id == tenant.id, Item.standard_item_id.is_not(None)
            )
        )
    )
    taken = set(session.scalars(select(Item.code).where(Item.tenant_id == tenant.id)))
    by_code = {s.code: s for s in standards}
    if codes is None:
        chosen = [s for s in standards if s.id not in adopted_ids]
    else:
        chosen = []
        for code in dict.fromkeys(c.strip() for c in codes if c and c.strip()):
            std = by_code.get(code)
            if std is None:
                plan.problems.append(AdoptProblem(code, "", f"省级没有已发布的标准事项 {code}"))
            elif std.id in adopted_ids:
                plan.skipped.append(code)
            else:
                chosen.append(std)
    if not chosen:
        return plan
    valid = {
        "categories": set(_category_names(session)),
        "departments": set(mine),
        "processes": known_codes(session, tenant),
    }
    for std in chosen:
        target = mapping.get(std.department, "")
        dept_name = dept_names.get(std.department, std.department)
        if not target:
            plan.problems.append(
                AdoptProblem(
                    std.code,
                    std.name,
                    f"省级部门「{dept_name}」还没有对应本地的部门，请在“部门对应”中选择",
                )
            )
            continue
        if target not in mine:
            plan.problems.append(
                AdoptProblem(std.code, std.name, f"「{target}」不是本地的部门，请重新选择")
            )
            continue
        if std.code in taken:
            plan.problems.append(
                AdoptProblem(
                    std.code, std.name, f"本地已有编码为 {std.code} 的事项，不能用同一编码认领"
                )
            )
            continue
        try:
            check_code(std.code)
            overrides: dict[str, Any] = {"department": target}
            body = std.effective.get("implementing_body", "")
            if not body or body == dept_name:
                overrides["implementing_body"] = mine[target].name
            effective = parse_content({**std.effective, **overrides}, **valid)
        except GovhallError as exc:
            plan.problems.append(AdoptProblem(std.code, std.name, exc.detail))
            continue
        plan.items.append((std.code, target))
        plan.departments[std.department] = target
        plan._contents[std.code] = msgspec.to_builtins(effective)
        plan._overrides[std.code] = overrides
        plan._standard_ids[std.code] = std.id
    return plan


def adopt_standard(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    *,
    codes: list[str] | None = None,
    departments: dict[str, str] | None = None,
) -> AdoptReport:
    """Adopt the province's standard items: ``codes`` (None: every one not adopted yet),
    each under the county department its province department maps to.

    ``departments`` maps a province department — its org-unit code, or its exact name — to
    the county's org-unit code; departments whose names agree are mapped without being told
    (:func:`suggest_departments`), and a mapping given here wins ("" undoes a suggestion).
    Items already adopted are skipped. All or nothing: when any item cannot be adopted the
    report lists every problem and nothing is written. Otherwise one transaction writes every
    item (the caller commits) and ONE audit entry ``catalog.adopt`` lists the codes.
    """
    plan = plan_adoption(session, tenant, codes=codes, departments=departments)
    report = AdoptReport(skipped=list(plan.skipped), departments=dict(plan.departments))
    if not plan.ok:
        report.problems = list(plan.problems)
        return report
    if not plan.items:
        return report
    _write(session, tenant, plan)
    entry = record(
        session,
        tenant,
        actor,
        AUDIT_ACTION,
        target_type="catalog",
        target_label=f"{len(plan.items)} 项省级标准事项",
        after={"codes": plan.codes, "departments": _named(session, tenant, plan.departments)},
    )
    report.adopted = plan.codes
    report.audit_seq = entry.seq
    session.flush()
    return report


def _named(session: Session, tenant: Tenant, mapping: Mapping[str, str]) -> dict[str, str]:
    """The department mapping as people read it: 省局名（code） → 县局名（code）."""
    theirs = {d.code: d.name for d in province_departments(session, tenant)}
    mine = {c: u.name for c, u in county_departments(session, tenant).items()}
    return {f"{theirs.get(p, p)}（{p}）": f"{mine.get(c, c)}（{c}）" for p, c in mapping.items()}


def _write(session: Session, tenant: Tenant, plan: AdoptPlan) -> None:
    """The rows :func:`core.catalog.service.adopt_item` writes, a statement per kind of row."""
    before_bulk_write(session, len(plan.items))
    names = _Names(session, tenant)
    today, now = date.today(), utcnow()
    items, versions, changes, terms = [], [], [], []
    for code in plan.codes:
        eff = plan._contents[code]
        item_id, version_id = new_id(), new_id()
        items.append(
            {
                "tenant_id": tenant.id,
                "id": item_id,
                "code": code,
                "standard_item_id": plan._standard_ids[code],
                "standard_tenant_id": tenant.province_id,
                "status": ItemStatus.active.value,
                "live_version_id": version_id,
                "effective": eff,
                "created_at": now,
                "updated_at": now,
                **live_columns(eff),
            }
        )
        versions.append(
            {
                "tenant_id": tenant.id,
                "id": version_id,
                "item_id": item_id,
                "number": 1,
                "state": VersionState.published.value,
                "content": plan._overrides[code],
                "effective": eff,
                "valid_from": today,
                "note": "采用省级标准",
                "created_at": now,
                "published_at": now,
            }
        )
        changes.append(
            {
                "tenant_id": tenant.id,
                "id": new_id(),
                "item_id": item_id,
                "action": "publish",
                "reason": "采用省级标准事项",
                "effective_on": today,
                "created_at": now,
            }
        )
        terms += names.terms(item_id, code, eff)
    session.execute(insert(Item), items)
    session.execute(insert(ItemVersion), versions)
    session.execute(insert(ItemChange), changes)
    _insert_terms(session, tenant, terms)


# -- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdoptionResult:
    """An adoption as its audit entry recorded it, with the items as they are now."""

    seq: int
    at: datetime
    actor_name: str
    rows: list[AdoptionRow]


def adoption_result(session: Session, tenant: Tenant, seq: int) -> AdoptionResult | None:
    """The adoption recorded as entry ``seq`` of the tenant's audit log (None: no such one)."""
    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.province_id == tenant.province_id,
            AuditEntry.tenant_id == tenant.id,
            AuditEntry.seq == seq,
            AuditEntry.action == AUDIT_ACTION,
        )
    )
    if entry is None:
        return None
    codes = set((entry.after or {}).get("codes") or [])
    rows = [r for r in standard_vs_local(session, tenant) if r.local_code in codes]
    return AdoptionResult(entry.seq, entry.at, entry.actor_name, rows)
