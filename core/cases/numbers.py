"""Case numbers (办件编号): the tenant's division code, the date and a per-day sequence —
``451200-20261122-00001`` — handed out by an atomic upsert, so concurrent submissions never
share one; and the query code the applicant uses to look a case up without signing in."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import date
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.cases.models import CaseSequence
from core.tenancy import Tenant

__all__ = ["next_number", "normalize_number", "query_code"]


def next_number(session: Session, tenant: Tenant, day: date) -> str:
    table = cast(Table, CaseSequence.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .values(tenant_id=tenant.id, day=day, last=1)
        .on_conflict_do_update(index_elements=["tenant_id", "day"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    sequence = session.execute(stmt).scalar_one()
    return f"{tenant.division_code}-{day:%Y%m%d}-{sequence:05d}"


def query_code() -> str:
    """Six digits, printed on the receipt and sent by SMS."""
    return f"{secrets.randbelow(1_000_000):06d}"


def normalize_number(typed: str) -> str:
    """A case number as people type it from a receipt or an SMS: with spaces, without the
    hyphens, in full-width digits (４５１２００－…). Nineteen digits are put back in the
    number's form (division, day, sequence); anything else is only trimmed."""
    plain = unicodedata.normalize("NFKC", typed).strip()
    digits = "".join(ch for ch in plain if ch.isdigit())
    if len(digits) == 19 and all(ch.isdigit() or ch in " -_" for ch in plain):
        return f"{digits[:6]}-{digits[6:14]}-{digits[14:]}"
    return plain
