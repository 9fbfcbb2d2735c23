"""Portal pages for cases: apply from an item page (an account for itself, an agent or clerk
for a citizen), "my cases" with uploads (progress shown), submit, correct, withdraw, rate;
the e-license library; the public progress query and verification page."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from core.cases import bundles, forms, licenses, materials, mine, payments, queries, service
from core.cases.access import get_case, is_filer
from core.cases.actions import STATE_LABELS
from core.cases.documents import notice_pdf
from core.cases.engine import pickup_place
from core.cases.models import CaseState
from core.cases.timeline import correction_request, timeline
from core.config import get_settings
from core.errors import GovhallError, InvalidInput, NotFound
from core.forms import FormInvalid, lines
from core.identity import Principal, Role
from core.supervision import ratings
from core.tenancy import Tenant
from web.api.case_public import verify_out
from web.api.case_schemas import case_out
from web.auth import require
from web.clients import client_address
from web.flash import with_flash
from web.formdata import view_of
from web.idempotency import page_once
from web.pages.portal import render
from web.params import Form
from web.uploads import receive_upload, store_upload

__all__ = ["CasePages"]


def back(url: str, *, msg: str = "", error: str = "") -> Redirect:
    """Back to ``url`` with a message the page will show (signed: see web.flash)."""
    return Redirect(with_flash(url, msg=msg, error=error))


def pdf_response(data: bytes, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"'},
    )


def _can_file_for_others(principal: Principal) -> bool:
    return principal.is_staff and (
        principal.has_role(Role.agent) or principal.has_role(Role.window_clerk)
    )


def _pickup_place(db: Session, case: Any) -> Any:
    """Where the result waits, once decided (``core.cases.engine.pickup_place``)."""
    return pickup_place(db, case) if case.state is CaseState.completed else None


class CasePages(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    @get("/my/cases", name="my_cases", sync_to_thread=True)
    def my_cases(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        show: str = "all",
        q: str = "",
        year: int | None = None,
        page: int = 1,
    ) -> Template:
        """The person's cases, filtered (a plain group of states, the item's name, the
        year) and paged, each with its state and the next thing to do in plain words."""
        who = require(principal)
        show = show if show in mine.FILTERS else "all"
        listing = mine.my_cases(db, who, show=show, q=q, year=year, page=page)
        return render(
            request,
            db,
            tenant,
            "cases/mine.html",
            listing=listing,
            filters=mine.FILTERS,
            show=show,
            q=q[:60],
            year=year,
        )

    @get("/my/cases/{number:str}", name="my_case", sync_to_thread=True)
    def my_case(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        msg: str = "",
        error: str = "",
    ) -> Template:
        who = require(principal)
        case = get_case(db, number, who)
        out = case_out(db, case, who)
        specs = case.content.get("materials") or []
        have = {m.index: m for m in out.materials}
        filer = is_filer(who, case)
        asked = forms.correction_asked(db, case)
        fields = forms.fields_of(case)
        # a bundle's sub-case takes its form from the parent's until a correction asks for it
        editable = filer and (
            case.state is CaseState.correcting
            or (case.state is CaseState.draft and not case.parent_id)
        )
        values = dict(case.form or {})
        if editable:
            values = {**forms.prefill(db, tenant, case, who), **values}
        return render(
            request,
            db,
            tenant,
            "cases/case.html",
            case=out,
            specs=specs,
            have=have,
            filer=filer,
            form_editable=editable,
            views=(
                view_of(fields, values, asked=asked["fields"], home=tenant.division_code)
                if editable
                else []
            ),
            # once submitted, personal values are shown in part even to the applicant (a
            # screen read over a shoulder); they were checked in full on the review step
            lines=lines(fields, dict(case.form or {}), reveal=False) if not editable else [],
            asked=asked,
            pickup=_pickup_place(db, case) if filer else None,
            # before acceptance there is no date yet: how long it takes once accepted
            promised_days=int(case.content.get("promised_days") or 0),
            delivery_options=case.content.get("delivery") or ["pickup"],
            pay_online=case.fee_status.value == "unpaid" and payments.online_available(db, tenant),
            msg=msg,
            error=error,
            library=licenses.licenses_of(db, tenant, case.applicant_id) if who.is_account else [],
            timeline=timeline(db, case),
            correction=correction_request(db, case) if case.corrections else {},
            upload_limit_mb=get_settings().max_upload_bytes // 1_048_576,
        )

    @post("/my/cases/{number:str}/materials", name="my_case_upload", status_code=201)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        index: int,
    ) -> dict[str, Any]:
        """Called by the page's script (with the CSRF header), which shows the progress."""
        who = require(principal)
        case = await anyio.to_thread.run_sync(get_case, db, number, who)
        materials.check_upload_allowed(case, who, index)
        incoming, _ = await receive_upload(request)

        def store() -> dict[str, Any]:
            try:
                row = store_upload(db, tenant, who, number, index, incoming)
                return {"ok": True, "sha256": row.sha256, "size": row.size}
            finally:
                incoming.discard()

        return await anyio.to_thread.run_sync(store)

    @post("/my/cases/{number:str}/reuse", name="my_case_reuse", sync_to_thread=True)
    def reuse(
        self, tenant: Tenant, db: Session, principal: Principal | None, number: str, data: Form
    ) -> Redirect:
        url = f"/t/{tenant.slug}/my/cases/{number}"
        try:
            materials.reuse_material(
                db,
                tenant,
                require(principal),
                number,
                int(data.get("index", "-1")),
                license_code=data.get("license_code") or None,
            )
            service.commit(db)
        except (GovhallError, ValueError) as exc:
            return back(url, error=getattr(exc, "detail", "材料序号不正确"))
        return back(url, msg="已使用电子证照。")

    @post("/my/cases/{number:str}/do/{op:str}", name="my_case_op", sync_to_thread=True)
    @page_once  # the form's hidden key: posted twice, done once
    def operate(
        self,
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        op: str,
        data: Form,
    ) -> Redirect:
        who = require(principal)
        url = f"/t/{tenant.slug}/my/cases/{number}"
        done = {
            "submit": "已提交，请留意短信通知。",
            "correct": "补正材料已提交。",
            "withdraw": "申请已撤回。",
            "rate": "感谢您的评价！",
        }
        if op == "pay":  # off to the payment provider's page; it notifies us when paid
            try:
                answer = payments.start_online(db, tenant, who, number)
            except GovhallError as exc:
                return back(url, error=exc.detail)
            return Redirect(path=answer["pay_url"])
        try:
            if op == "submit":
                bundles.submit(db, tenant, who, number)
            elif op == "correct":
                service.correct_case(db, tenant, who, number)
            elif op == "withdraw":
                service.withdraw_case(db, tenant, who, number, data.get("reason", ""))
            elif op == "rate":
                try:
                    score = int(data.get("score", ""))
                except ValueError:
                    raise InvalidInput("请选择满意度", field="score") from None
                ratings.rate_case(db, tenant, who, number, score, data.get("comment", ""))
            else:
                raise NotFound("没有这个操作")
            service.commit(db)
        except FormInvalid as exc:  # the confirm step names each missing piece and its fix
            return back(url + "/review" if op in ("submit", "correct") else url, error=exc.detail)
        except GovhallError as exc:
            return back(url, error=exc.detail)
        if op in ("submit", "correct") and who.is_staff and who.has_role(Role.window_clerk):
            # at the counter the clerk accepts what they just took in (or its correction): on
            # to the case's working page, not the applicant's view of it
            return back(
                f"/t/{tenant.slug}/workbench/cases/{number}",
                msg="申请已提交。请核对材料后在“办理”中受理。"
                if op == "submit"
                else "补正材料已提交。请核对补正的材料后在“办理”中受理。",
            )
        return back(url, msg=done[op])

    @get("/my/cases/{number:str}/notices/{code:str}", name="my_case_notice", sync_to_thread=True)
    def notice(
        self, db: Session, principal: Principal | None, number: str, code: str
    ) -> Response[bytes]:
        case = get_case(db, number, require(principal))
        return pdf_response(*notice_pdf(db, case, code))

    @get("/my/licenses", name="my_licenses", sync_to_thread=True)
    def my_licenses(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        """The holder's e-licenses from every county of the province: each read on its own
        page, downloaded as PDF, and checked on the issuer's public verification page."""
        who = require(principal)
        rows = licenses.licenses_of(db, tenant, who.id) if who.is_account else []
        slugs = mine.tenant_slugs(db, tenant)
        return render(request, db, tenant, "cases/licenses.html", licenses=rows, slugs=slugs)

    @get("/progress", name="progress", sync_to_thread=True)
    def progress(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        number: str = "",
        code: str = "",
    ) -> Template:
        result, error, steps, promised_days = None, "", [], 0
        if number or code:
            try:
                from web.api.case_public import progress_out

                case = queries.throttled_progress(
                    db, tenant.id, number, code, client_address(request)
                )
                result = progress_out(db, case)
                steps = timeline(db, case, public=True)
                # before acceptance there is no date yet: how long it takes once accepted
                promised_days = int(case.content.get("promised_days") or 0)
            except GovhallError as exc:
                if isinstance(exc, NotFound):
                    db.commit()
                error = exc.detail
        return render(
            request,
            db,
            tenant,
            "cases/progress.html",
            result=result,
            error=error,
            number=number,
            code=code[:12] if error else "",  # kept to correct a digit, not typed again
            labels=STATE_LABELS,
            timeline=steps,
            promised_days=promised_days,
        )

    @get("/verify/{code:str}", name="verify", sync_to_thread=True)
    def verify(
        self, request: Request[Any, Any, Any], tenant: Tenant, db: Session, code: str
    ) -> Template:
        try:
            result, error = verify_out(db, tenant, code), ""
        except NotFound:
            result, error = None, "验证码不存在：该文书或证照不是本平台出具的。"
        page = render(
            request, db, tenant, "cases/verify.html", result=result, error=error, code=code
        )
        if error:  # the page explains; the status says it too (another county's code included)
            page.status_code = 404
        return page
