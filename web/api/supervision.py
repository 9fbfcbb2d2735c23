"""API: supervision — the supervisor's live lists, manual cards, reminders and notes,
follow-ups; complaints and counter ratings; the public statistics."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, get, post
from sqlalchemy.orm import Session

from core.cases import service
from core.cases.access import get_case, is_filer
from core.cases.trail import Actor
from core.errors import Forbidden, InvalidInput
from core.identity import Principal, Role
from core.supervision import desk
from core.supervision.ratings import open_follow_up, record_rating
from core.supervision.stats import PublicStats, public_stats
from core.tenancy import Tenant
from web.api.scoped import anyone, needs
from web.auth import require

__all__ = ["SupervisionApi"]


class CardIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: str  # yellow | red | remind | note
    reason: str
    task: str | None = None


class ComplaintIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str


class CounterRatingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: int
    comment: str = ""


class CloseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    resolution: str


class Done(msgspec.Struct):
    ok: bool
    number: str


class SupervisionApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["supervision"]

    @get(
        "/supervision/lists",
        summary="Yellow, red, overdue, suspended; open follow-ups",
        sync_to_thread=True,
        **needs("supervision"),
    )
    def lists(self, db: Session, principal: Principal | None) -> dict[str, list[dict[str, Any]]]:
        return desk.live_lists(db, require(principal))

    @post(
        "/cases/{number:str}/supervision",
        summary="A manual card, a reminder (督办) or a note, with a reason (supervisors)",
        sync_to_thread=True,
        status_code=200,
        **needs("supervision"),
    )
    def supervise(
        self, db: Session, tenant: Tenant, principal: Principal | None, number: str, data: CardIn
    ) -> Done:
        case = desk.issue_card(
            db, tenant, require(principal), number, data.kind, data.reason, data.task
        )
        service.commit(db)
        return Done(ok=True, number=case.number)

    @post(
        "/follow-ups/{follow_up_id:uuid}/close",
        summary="Close a follow-up with what was done (supervisors)",
        sync_to_thread=True,
        status_code=200,
        **needs("supervision"),
    )
    def close(
        self, db: Session, principal: Principal | None, follow_up_id: uuid.UUID, data: CloseIn
    ) -> Done:
        row = desk.close_follow_up(db, require(principal), follow_up_id, data.resolution)
        number = str(row.case_id)
        service.commit(db)
        return Done(ok=True, number=number)

    @post(
        "/cases/{number:str}/complaint",
        summary="A complaint about a case (投诉): a follow-up for the supervisors",
        sync_to_thread=True,
        status_code=201,
        **needs("cases:write"),
    )
    def complaint(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: ComplaintIn,
    ) -> Done:
        who = require(principal)
        case = get_case(db, number, who, lock=True)
        if not is_filer(who, case):
            raise Forbidden("只有申请人可以投诉")
        text = data.text.strip()
        if not text:
            raise InvalidInput("请填写投诉内容", field="text")
        open_follow_up(db, tenant, case, "complaint", text)
        service.commit(db)
        return Done(ok=True, number=case.number)

    @post(
        "/cases/{number:str}/counter-rating",
        summary="The applicant's rating on the counter's rating pad, right after the decision",
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def counter_rating(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: CounterRatingIn,
    ) -> Done:
        who = require(principal)
        case = get_case(db, number, who, lock=True)  # another tenant's case: 404 first
        if not who.is_staff or not who.has_role(Role.window_clerk):
            raise Forbidden("仅限窗口工作人员录入评价器评分")
        record_rating(
            db,
            tenant,
            case,
            data.score,
            data.comment,
            "counter",
            Actor("citizen", "", "窗口评价器"),
        )
        service.commit(db)
        return Done(ok=True, number=case.number)

    @get(
        "/stats/public",
        summary="Public statistics of the year (anyone)",
        sync_to_thread=True,
        **anyone(),
    )
    def stats(self, db: Session, tenant: Tenant, year: int | None = None) -> PublicStats:
        return public_stats(db, tenant, year)
