"""The schema can be sharded by tenant (docs/operations.md, "Growing past one database"):
every table is either distributed by ``tenant_id`` — which leads its primary key and is part
of every unique constraint and every foreign key, so each county's rows and joins stay on one
node — or distributed by ``province_id`` (accounts are province-wide), or is a small table
named here to be replicated to every node."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Table, UniqueConstraint

import web.app  # noqa: F401 - imports every model
from core.db import Base

#: small lookup tables, copied to every node (Citus reference tables)
REFERENCE = {
    "tenants",
    "tenant_domains",
    "item_categories",
    "login_throttles",
    "oauth_clients",
    "oauth_codes",
}
#: province-wide rows: one citizen account serves every county of its province, and the
#: province's console reads the audit log of all its counties (docs/audit.md)
BY_PROVINCE = {"accounts", "one_time_codes", "api_tokens", "audit_log", "audit_heads"}


def _problems(table: Table, key: str) -> list[str]:
    problems = []
    primary = [c.name for c in table.primary_key.columns]
    if primary[0] != key:
        problems.append(f"primary key {primary} does not start with {key}")
    for constraint in table.constraints:
        names = [c.name for c in getattr(constraint, "columns", [])]
        if isinstance(constraint, UniqueConstraint | ForeignKeyConstraint) and key not in names:
            problems.append(f"{type(constraint).__name__} {names} lacks {key}")
    for index in table.indexes:
        if index.unique and key not in [c.name for c in index.columns]:
            problems.append(f"unique index {index.name} lacks {key}")
    return problems


def test_every_table_can_be_distributed_by_its_tenant_or_province_or_is_a_reference() -> None:
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    assert set(tables) >= REFERENCE | BY_PROVINCE, (REFERENCE | BY_PROVINCE) - set(tables)
    problems = {}
    for name, table in tables.items():
        if name in REFERENCE:
            continue
        key = "province_id" if name in BY_PROVINCE else "tenant_id"
        assert key in table.c, f"{name}: neither distributed nor a reference table"
        if found := _problems(table, key):
            problems[name] = found
    assert not problems, problems
