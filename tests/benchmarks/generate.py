"""A synthetic province-size catalog for benchmarks (Hechi's counties publish 40,592 items):
realistic names, every category and department, written in bulk."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.catalog.content import CATEGORIES, ItemContent
from core.catalog.models import Item, ItemTerm, ItemVersion, VersionState
from core.catalog.search import posting_columns, terms_of
from core.catalog.service import index_texts, live_columns
from core.db import new_id, utcnow
from core.tenancy import OrgUnit, OrgUnitKind, Tenant

__all__ = ["generate_catalog", "synthetic_content"]

_SUBJECTS = [
    "社保",
    "户口",
    "营业执照",
    "食品经营",
    "建设工程",
    "不动产",
    "婚姻",
    "低保",
    "医疗机构",
    "道路运输",
    "水利工程",
    "林木采伐",
    "种子生产",
    "药品零售",
    "民办学校",
    "出版物",
    "烟草专卖",
    "特种设备",
    "排污",
    "消防",
    "殡葬",
    "养老机构",
    "medical",
]
_ACTIONS = ["登记", "许可", "变更", "注销", "备案", "年检", "补贴申领", "审核", "核发", "延续"]


_LICENSES = {"许可": "business_license", "核发": "food_business_license", "登记": None}


def synthetic_content(
    i: int, rng: random.Random, departments: list[str], *, detailed: bool = False
) -> dict[str, Any]:
    """The ``i``-th synthetic item's content, exactly as a save would store it (every field,
    defaults included), so that exporting and re-importing it changes nothing. ``detailed``
    adds what a real county sheet carries: several materials, a fee, responsibilities."""
    subject, action = rng.choice(_SUBJECTS), rng.choice(_ACTIONS)
    legal = rng.choice([5, 10, 15, 20, 30, 60])
    materials = [{"name": "申请书"}]
    content: dict[str, Any] = {
        "name": f"{subject}{action}（第{i}号）",
        "kind": "power",
        "category": CATEGORIES[i % len(CATEGORIES)][0],
        "department": departments[i % len(departments)],
        "legal_basis": ["《中华人民共和国行政许可法》"],
        "materials": materials,
        "legal_days": legal,
        "promised_days": max(1, legal // 2),
        "result_license": _LICENSES.get(action),
        "keywords": [subject],
    }
    if detailed:
        materials += [
            {"name": "居民身份证", "form": "original_and_copy", "license_type": "id_card"},
            {"name": "营业执照", "required": "conditional", "condition": "申请人为企业的"},
        ]
        content |= {
            "implementing_body": f"{subject}{action}窗口",
            "conditions": f"申请{subject}{action}应当符合法律法规规定的条件，材料齐全。",
            "fees": [{"name": "工本费", "amount": "10.00", "basis": "省物价局批复"}],
            "contacts": "政务服务中心 12345",
            "office_hours": "周一至周五 9:00-17:00",
            "responsibilities": [
                {"duty": "受理责任", "cases": "对符合条件的不予受理", "body": "监察机关"}
            ],
        }
    return msgspec.to_builtins(msgspec.convert(content, ItemContent))


def generate_catalog(
    session: Session,
    tenant: Tenant,
    count: int,
    *,
    seed: int = 2260,
    progress: Callable[[int], None] | None = None,
    batch: int = 2000,
    commit_batches: bool = False,
) -> int:
    """Add ``count`` published items to ``tenant`` (the caller commits, unless
    ``commit_batches``: then each batch is its own transaction, as a large load should be)."""
    rng = random.Random(seed)
    names = {u.code: u.name for u in _departments(session, tenant)}
    if not names:
        raise ValueError(f"{tenant.slug} has no departments")
    departments = list(names)
    category_names = {code: name for code, name, _ in CATEGORIES}
    today, now = date.today(), utcnow()
    made = 0
    while made < count:
        items: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        terms: list[dict[str, Any]] = []
        for i in range(made, min(count, made + batch)):
            content = synthetic_content(i, rng, departments)
            item_id, version_id, code = new_id(), new_id(), f"GEN-{i:06d}"
            items.append(
                {
                    "tenant_id": tenant.id,
                    "id": item_id,
                    "code": code,
                    "status": "active",
                    "live_version_id": version_id,
                    "effective": content,
                    "created_at": now,
                    "updated_at": now,
                    **live_columns(content),
                }
            )
            versions.append(
                {
                    "tenant_id": tenant.id,
                    "id": version_id,
                    "item_id": item_id,
                    "number": 1,
                    "state": VersionState.published.value,
                    "content": content,
                    "effective": content,
                    "valid_from": today,
                    "note": "",
                    "created_at": now,
                    "published_at": now,
                }
            )
            texts = index_texts(
                code,
                content,
                names[content["department"]],
                category_names[content["category"]],
            )
            columns = posting_columns(code, "active", content, items[-1]["audience"])
            terms.extend(
                {"tenant_id": tenant.id, "term": t, "item_id": item_id, **columns}
                for t in terms_of(texts)
            )
        session.execute(insert(Item), items)
        session.execute(insert(ItemVersion), versions)
        session.execute(insert(ItemTerm), terms)
        made += len(items)
        if commit_batches:
            session.commit()
        if progress:
            progress(made)
    return made


def _departments(session: Session, tenant: Tenant) -> list[OrgUnit]:
    return list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.tenant_id == tenant.id, OrgUnit.kind == OrgUnitKind.department)
            .order_by(OrgUnit.code)
        )
    )
