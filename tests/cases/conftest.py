"""Shared helpers for the case tests: act as a demo person in a tenant's session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.actions import ActionIn, MaterialIssue, perform
from core.cases.materials import IncomingFile, attach_upload
from core.cases.service import commit, create_case, submit_case
from core.db import Database
from core.identity import Principal, Staff
from core.identity.service import account_principal, find_account_by_phone, staff_principal
from core.tenancy import scope_for
from tests.helpers import tenant

PDF = b"%PDF-1.4\n" + b"0" * 200


@pytest.fixture(autouse=True)
def _clock_runs() -> Iterator[None]:
    yield
    clock.set_now(None)


class Desk:
    """One tenant seen through fresh sessions, with the demo people's principals."""

    def __init__(self, db: Database, slug: str) -> None:
        self.db, self.tenant = db, tenant(db, slug)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session(scope=scope_for(self.tenant)) as s:
            yield s

    def staff(self, username: str) -> Principal:
        with self.session() as s:
            row = s.scalar(select(Staff).where(Staff.username == username))
            assert row is not None, username
            return staff_principal(s, self.tenant, row)

    def citizen(self, phone: str) -> Principal:
        with self.session() as s:
            account = find_account_by_phone(s, self.tenant.province_id, phone)
            assert account is not None, phone
            return account_principal(account)

    def apply(self, who: Principal, item: str, submit: bool = True, **kwargs: Any) -> str:
        """A case with every material uploaded (and submitted unless told otherwise)."""
        with self.session() as s:
            case, _ = create_case(s, self.tenant, who, item, **kwargs)
            number, count = case.number, len(case.content.get("materials") or [])
            commit(s)
        for index in range(count):
            self.upload(who, number, index)
        if submit:
            with self.session() as s:
                submit_case(s, self.tenant, who, number)
                commit(s)
        return number

    def upload(self, who: Principal, number: str, index: int, body: bytes = PDF) -> None:
        incoming = IncomingFile("material.pdf")
        incoming.write(body)
        incoming.finish()
        with self.session() as s:
            attach_upload(s, self.tenant, who, number, index, incoming)
            commit(s)

    def act(self, who: Principal, number: str, action: str, **fields: Any) -> Any:
        if "materials" in fields:
            fields["materials"] = [MaterialIssue(**m) for m in fields["materials"]]
        with self.session() as s:
            case = perform(s, self.tenant, who, number, ActionIn(action=action, **fields))
            commit(s)
            return case

    def case(self, number: str) -> Any:
        from core.cases.models import Case

        with self.session() as s:
            row = s.scalar(select(Case).where(Case.number == number))
            s.expunge(row)
            return row


def at(day: str, hour: int = 10) -> None:
    """Pin the clock to ``day`` (YYYY-MM-DD) at ``hour`` o'clock Beijing time."""
    clock.set_now(datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=clock.TZ))


@pytest.fixture
def hechi(db: Database) -> Desk:
    return Desk(db, "hechi")
