"""A synthetic province-size catalog for benchmarks (Hechi's counties publish 40,592 items):
realistic names, every category and department, written in bulk."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.catalog.content import CATEGORIES
from core.catalog.models import Item, ItemTerm, ItemVersion, VersionState
from core.catalog.search import terms_of
from core.db import new_id, utcnow
from core.tenancy import OrgUnit, OrgUnitKind, Tenant

__all__ = ["generate_catalog"]

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
    departments = list(
        session.scalars(
            select(OrgUnit.code).where(
                OrgUnit.tenant_id == tenant.id, OrgUnit.kind == OrgUnitKind.department
            )
        )
    )
    if not departments:
        raise ValueError(f"{tenant.slug} has no departments")
    today, now = date.today(), utcnow()
    made = 0
    while made < count:
        items, versions, terms = [], [], []
        for i in range(made, min(count, made + batch)):
            subject, action = rng.choice(_SUBJECTS), rng.choice(_ACTIONS)
            category = CATEGORIES[i % len(CATEGORIES)][0]
            legal = rng.choice([5, 10, 15, 20, 30, 60])
            content = {
                "name": f"{subject}{action}（第{i}号）",
                "kind": "power",
                "category": category,
                "department": departments[i % len(departments)],
                "implementing_body": "",
                "legal_basis": ["《中华人民共和国行政许可法》"],
                "conditions": "",
                "materials": [
                    {
                        "name": "申请书",
                        "required": "required",
                        "condition": "",
                        "form": "original",
                        "copies": 1,
                        "template_key": None,
                        "license_type": None,
                        "note": "",
                    }
                ],
                "fees": [],
                "legal_days": legal,
                "promised_days": max(1, legal // 2),
                "levels": ["county"],
                "channels": ["online", "counter"],
                "delivery": ["pickup"],
                "process": "short",
                "contacts": "",
                "office_hours": "",
                "keywords": [subject],
                "responsibilities": [],
            }
            item_id, version_id = new_id(), new_id()
            items.append(
                {
                    "tenant_id": tenant.id,
                    "id": item_id,
                    "code": f"GEN-{i:06d}",
                    "status": "active",
                    "live_version_id": version_id,
                    "name": content["name"],
                    "kind": "power",
                    "category": category,
                    "department_code": content["department"],
                    "legal_days": legal,
                    "promised_days": content["promised_days"],
                    "levels": ["county"],
                    "effective": content,
                    "created_at": now,
                    "updated_at": now,
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
            terms.extend(
                {"tenant_id": tenant.id, "term": t, "item_id": item_id}
                for t in terms_of([content["name"], subject])
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
