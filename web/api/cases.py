"""API: cases — apply, submit, correct, withdraw, rate, staff actions, the trail and its
verification, notices and e-licenses. A case's materials are in :mod:`web.api.case_materials`,
what anyone may ask without signing in in :mod:`web.api.case_public`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import Parameter, QueryParameter
from litestar.response import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import (
    actions,
    bundles,
    forms,
    idempotency,
    licenses,
    queries,
    service,
    trail,
)
from core.cases.access import get_case, is_filer
from core.cases.documents import notice_pdf
from core.cases.models import CaseEvent, License
from core.catalog import get_item_by_code
from core.errors import Conflict, Forbidden, NotFound
from core.forms import parse_form, require_valid
from core.identity import Principal, Role
from core.identity.service import request_consent_code
from core.storage import get_storage
from core.supervision import ratings
from core.tenancy import Tenant
from web.api.case_schemas import (
    CaseCreate,
    CaseListOut,
    CaseOut,
    EventOut,
    FormIn,
    FormOut,
    LicenseOut,
    RateIn,
    ReasonIn,
    case_out,
    event_out,
    license_out,
    summary_out,
    with_actions,
)
from web.api.scoped import needs
from web.auth import require
from web.clients import client_address
from web.idempotency import answer_once, fingerprint_of, request_key
from web.paging import clamp_window

_NUMBER = Parameter(description="办件编号, e.g. 451200-20261122-00001")
_RETRY = (
    " Send ``Idempotency-Key`` to retry safely: the same key answers the first answer again"
    " (for a day), the same key with another request is a 422."
)


def _pdf(data: bytes, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


class ConsentCodeIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: str
    item: str  # the item's code


class ConsentCodeOut(msgspec.Struct):
    sent: bool


class CasesApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["cases"]

    # -- applying ---------------------------------------------------------------------------

    @post(
        "/cases",
        summary="Create a draft case (an agent or clerk: on a citizen's behalf)",
        sync_to_thread=True,
        status_code=201,
        **needs("cases:write"),
    )
    def create(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        data: CaseCreate,
    ) -> Response[CaseOut]:
        """Send ``Idempotency-Key``: repeating the request returns the first case (200); the
        same key with another body is a 422. A draft may be saved incomplete (wrong values
        are refused, missing ones wait for the submission); with ``submit`` the whole form is
        checked first."""
        who = require(principal)
        key = request_key(request)
        asked = fingerprint_of(request, data)
        if key is not None:
            first = idempotency.recall(db, who, key, asked)
            if first is not None:  # the first answer, as a repeat: 200
                return Response(msgspec.json.decode(first.body), status_code=200)
        if data.submit:
            item = get_item_by_code(db, tenant, data.item)
            fields = parse_form((item.effective or {}).get("form") or [])
            require_valid(fields, data.form, complete=True)
        case, created = service.create_case(
            db,
            tenant,
            who,
            data.item,
            form=data.form,
            delivery=data.delivery,
            address=data.address,
            applicant=data.applicant,
            consent=data.consent,
            idempotency_key=key,
        )
        if created and data.submit:
            case = bundles.submit(db, tenant, who, case.number)
        out = case_out(db, case, who)
        if created:
            try:
                if key is not None:
                    body = msgspec.json.encode(out)
                    first = idempotency.Answer(201, "application/json", body, {})
                    idempotency.remember(db, tenant, who, key, asked, first)
                service.commit(db)
            except Conflict:
                db.rollback()
                if key is None:
                    raise
                # the same key raced us: answer with the case that won
                case, _ = service.create_case(db, tenant, who, data.item, idempotency_key=key)
                return Response(case_out(db, case, who), status_code=200)
        return Response(out, status_code=201 if created else 200)

    @post(
        "/consent-codes",
        summary="Text the applicant a consent code (短信验证授权) before applying for them",
        sync_to_thread=True,
        status_code=202,
        **needs("cases:write"),
    )
    def consent_code(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        data: ConsentCodeIn,
    ) -> ConsentCodeOut:
        """An agent or window clerk: the person at ``phone`` gets a code naming the agent and
        the item, to tell the agent if they agree; ``consent.code`` of ``POST /cases`` then.
        The sign-in codes' cooldown and hourly cap apply (429)."""
        who = require(principal)
        if not (who.is_staff and (who.has_role(Role.agent) or who.has_role(Role.window_clerk))):
            raise Forbidden("只有代办员或窗口人员可以发送授权验证码")
        item = get_item_by_code(db, tenant, data.item)
        request_consent_code(
            db,
            tenant,
            data.phone,
            agent=who.name,
            item=item.name,
            address=client_address(request),
        )
        service.commit(db)
        return ConsentCodeOut(sent=True)

    @get(
        "/cases",
        summary="Cases: one's own (accounts, agents) or the tenant's (staff)",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def cases(
        self,
        db: Session,
        principal: Principal | None,
        case_state: Annotated[str | None, QueryParameter(name="state")] = None,
        limit: int = 20,
        offset: int = 0,
    ) -> CaseListOut:
        limit, offset = clamp_window(limit, offset, most=200)
        page = queries.list_cases(
            db,
            require(principal),
            state=case_state,
            limit=limit,
            offset=offset,
        )
        return CaseListOut(total=page.total, cases=[summary_out(c) for c in page.cases])

    @get(
        "/cases/{number:str}",
        summary="One case with its steps, materials and notices",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def case(
        self, db: Session, tenant: Tenant, principal: Principal | None, number: str = _NUMBER
    ) -> CaseOut:
        """Staff also get ``available_actions``: what they may do now, as their page shows."""
        who = require(principal)
        case = get_case(db, number, who)
        return with_actions(db, tenant, case, who, case_out(db, case, who))

    @get(
        "/cases/{number:str}/form",
        summary="The application form: its values, what may be prefilled, what is missing",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def form(
        self, db: Session, tenant: Tenant, principal: Principal | None, number: str
    ) -> FormOut:
        who = require(principal)
        case = get_case(db, number, who)
        if not is_filer(who, case):
            raise Forbidden("只有申请人或代办人可以查看待填的申请表")
        missing = forms.submission_problems(db, case)
        return FormOut(
            number=case.number,
            values=dict(case.form or {}),
            prefill=forms.prefill(db, tenant, case, who),
            missing=[{"field": k, "detail": v} for k, v in missing.items()],
        )

    @put(
        "/cases/{number:str}/form",
        summary="Save the application form as typed so far (a draft, or during a correction)",
        sync_to_thread=True,
        **needs("cases:write"),
    )
    def save_form(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: FormIn,
    ) -> CaseOut:
        who = require(principal)
        case, _ = forms.save_form(
            db, tenant, who, number, data.form, delivery=data.delivery, address=data.address
        )
        service.commit(db)  # a PUT: sending the same form again leaves it as it is
        return case_out(db, case, who)

    @post(
        "/cases/{number:str}/form/reveal",
        summary="Staff: the form with its personal values (each reveal is on the trail)",
        sync_to_thread=True,
        status_code=200,
        **needs("cases:read"),
    )
    def reveal_form(self, db: Session, principal: Principal | None, number: str) -> dict[str, Any]:
        values = forms.reveal(db, require(principal), number)
        db.commit()
        return values

    def _once(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        who: Principal,
        number: str,
        work: Any,
        *,
        data: Any = None,
        action: str | None = None,
    ) -> Response[CaseOut]:
        """Run ``work`` (it returns the case), answer the case, commit — once per
        ``Idempotency-Key``. ``action``: a retry of it that already went through (by the
        same person) answers the case with 200 instead of the 409."""

        def done() -> CaseOut:
            case = work()
            return with_actions(db, tenant, case, who, case_out(db, case, who))

        def retried() -> CaseOut | None:
            case = get_case(db, number, who)
            payload = data if isinstance(data, actions.ActionIn) else None
            task = payload.task if payload is not None else None
            if action is None or not idempotency.already_done(
                db, who, case, action, task=task, payload=payload
            ):
                return None
            return with_actions(db, tenant, case, who, case_out(db, case, who))

        key, asked = request_key(request), fingerprint_of(request, data)
        return answer_once(db, tenant, who, key, asked, done, retried=retried)

    @post(
        "/cases/{number:str}/submit",
        summary="Submit a draft",
        description="A retry of a submission that went through answers the case (200)." + _RETRY,
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def submit(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
    ) -> Response[CaseOut]:
        who = require(principal)
        work = lambda: bundles.submit(db, tenant, who, number)  # noqa: E731
        return self._once(request, db, tenant, who, number, work, action="submit")

    @post(
        "/cases/{number:str}/correct",
        summary="Resubmit after the one-time correction",
        description="A retry of a correction that went through answers the case (200)." + _RETRY,
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def correct(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
    ) -> Response[CaseOut]:
        who = require(principal)
        work = lambda: service.correct_case(db, tenant, who, number)  # noqa: E731
        return self._once(request, db, tenant, who, number, work, action="correct")

    @post(
        "/cases/{number:str}/withdraw",
        summary="Withdraw (the applicant)",
        description="A retry of a withdrawal that went through answers the case (200)." + _RETRY,
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def withdraw(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: ReasonIn,
    ) -> Response[CaseOut]:
        who = require(principal)
        work = lambda: service.withdraw_case(db, tenant, who, number, data.reason)  # noqa: E731
        return self._once(request, db, tenant, who, number, work, data=data, action="withdraw")

    @post(
        "/cases/{number:str}/rate",
        summary="Rate the service 0-100 (the applicant)",
        description=_RETRY.strip(),
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def rate(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: RateIn,
    ) -> Response[CaseOut]:
        who = require(principal)
        work = lambda: ratings.rate_case(  # noqa: E731
            db, tenant, who, number, data.score, data.comment
        )
        return self._once(request, db, tenant, who, number, work, data=data)

    @post(
        "/cases/{number:str}/actions",
        summary="A staff action on the case",
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def act(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: actions.ActionIn,
    ) -> Response[CaseOut]:
        """Step actions (accept, request_correction, refuse, forward, review, return, approve,
        deny, issue, decide) and case actions (claim, comment, suspend, resume, extend, pay,
        deliver, chief_decide). ``available_actions`` on the case says which are open now.
        409 when the state does not allow it, 403 for the wrong role — but a retry by the
        same person of an action that went through (the case's latest step is theirs, on
        the task named) answers the case with 200. Actions that add (comment, extend) or
        step back (return) are made safe to retry by ``Idempotency-Key`` only."""
        who = require(principal)
        work = lambda: actions.perform(db, tenant, who, number, data)  # noqa: E731
        return self._once(request, db, tenant, who, number, work, data=data, action=data.action)

    # -- the trail --------------------------------------------------------------------------

    @get(
        "/cases/{number:str}/events",
        summary="The case's trail",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def events(self, db: Session, principal: Principal | None, number: str) -> list[EventOut]:
        case = get_case(db, number, require(principal))
        rows = db.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
        return [event_out(e) for e in rows]

    @get(
        "/cases/{number:str}/verify",
        summary="Whether the trail's hash chain is intact",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def verify_trail(
        self, db: Session, principal: Principal | None, number: str
    ) -> trail.ChainReport:
        return trail.verify_chain(db, get_case(db, number, require(principal)))

    # -- notices and e-licenses --------------------------------------------------------------

    @get(
        "/cases/{number:str}/notices/{code:str}/pdf",
        summary="A notice as PDF",
        sync_to_thread=True,
        media_type="application/pdf",
        **needs("cases:read"),
    )
    def notice_pdf(
        self, db: Session, principal: Principal | None, number: str, code: str
    ) -> Response[bytes]:
        case = get_case(db, number, require(principal))
        return _pdf(*notice_pdf(db, case, code))

    @get(
        "/licenses",
        summary="The caller's e-license library (across the province)",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def my_licenses(
        self, db: Session, tenant: Tenant, principal: Principal | None
    ) -> list[LicenseOut]:
        who = require(principal)
        if not who.is_account:
            raise Forbidden("仅限群众或企业账户")
        return [license_out(x) for x in licenses.licenses_of(db, tenant, who.id)]

    @get(
        "/licenses/{code:str}/pdf",
        summary="An e-license as PDF (its holder or staff)",
        sync_to_thread=True,
        media_type="application/pdf",
        **needs("cases:read"),
    )
    def license_pdf(self, db: Session, principal: Principal | None, code: str) -> Response[bytes]:
        who = require(principal)
        row = db.scalars(select(License).where(License.code == code)).first()
        if row is None or not (who.is_staff or (who.is_account and row.holder_id == who.id)):
            raise NotFound("证照不存在", field="code")
        return _pdf(get_storage().read(row.storage_key), f"{row.number}.pdf")
