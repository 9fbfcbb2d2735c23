"""The application form on the portal: applying (step 1, the form, prefilled with what we
know), filling it in on the case page (saved as one goes, errors beside their fields), and
the review of the whole application before it is submitted."""

from __future__ import annotations

import re
import secrets
from functools import partial
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.cases import forms, service
from core.cases.access import get_case, is_filer
from core.cases.models import CaseState
from core.catalog import get_item_by_code
from core.catalog.availability import suspension
from core.catalog.presentation import applies_online
from core.errors import Forbidden, GovhallError
from core.forms import FormInvalid, lines, parse_form
from core.identity import Principal, Role
from core.identity.service import request_consent_code
from core.tenancy import Tenant
from web.api.case_schemas import CaseOut, case_out
from web.auth import require
from web.clients import client_address
from web.flash import with_flash
from web.formdata import anchor, extra_rows, parse_posted, row_buttons, summary, view_of
from web.pages.cases import back
from web.pages.my import real_name_first
from web.pages.portal import render
from web.params import POSTED, Form

__all__ = ["CaseFormPages"]


def _can_file_for_others(principal: Principal) -> bool:
    return principal.is_staff and (
        principal.has_role(Role.agent) or principal.has_role(Role.window_clerk)
    )


def _where_to_fix(tenant: Tenant, case: CaseOut, path: str) -> str:
    """The link to where a missing piece is entered: a form field or a material on the case
    page (a bundle's sub-case: on that sub-case's page); the address on the review itself."""
    page = f"/t/{tenant.slug}/my/cases/{case.number}"
    sub = re.match(r"sub_cases\[(\d+)\]\.(.*)", path)
    if sub and int(sub[1]) < len(case.sub_cases):
        case_page = f"/t/{tenant.slug}/my/cases/{case.sub_cases[int(sub[1])].number}"
        return case_page + _fragment(sub[2])
    return page + _fragment(path)


def _fragment(path: str) -> str:
    if path.startswith("form."):
        return "#" + anchor(path)
    material = re.match(r"materials\[(\d+)\]", path)
    if material:
        return f"#material-{material[1]}"
    return "/review#delivery" if path == "address" else ""


class CaseFormPages(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    # -- step 1: apply -------------------------------------------------------------------------

    def _apply_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        who: Principal,
        code: str,
        *,
        raw: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        error: str = "",
        posted: dict[str, str] | None = None,
        extra_rows: dict[str, int] | None = None,
        consent_sent: str = "",
        status_code: int = 200,
    ) -> Template:
        item = get_item_by_code(db, tenant, code)
        content = item.effective or {}
        fields = parse_form(content.get("form") or [])
        if raw is None:
            applicant = who.id if who.is_account else None
            raw = forms.prefill_for(db, tenant, applicant, item.code, fields, {})
        return render(
            request,
            db,
            tenant,
            "cases/apply.html",
            item=item,
            content=content,
            views=view_of(fields, raw, errors, extra_rows=extra_rows, home=tenant.division_code),
            problem_list=summary(fields, errors or {}),
            on_behalf=_can_file_for_others(who),
            key=(posted or {}).get("key") or secrets.token_urlsafe(16),
            posted=posted or {},
            error=error,
            consent_sent=consent_sent,
            status_code=status_code,
        )

    @get("/items/{code:str}/apply", name="case_apply_form", sync_to_thread=True)
    def apply_form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        error: str = "",
    ) -> Template | Redirect:
        # a counter-only item says so on its guide, before anyone signs in or types a thing
        item = get_item_by_code(db, tenant, code)
        if suspension(db, tenant, item.code, item.effective or {}):
            return Redirect(f"/t/{tenant.slug}/items/{quote(code)}")  # 暂停办理: it says why
        if not applies_online(item.effective or {}) and not (
            principal is not None and _can_file_for_others(principal)
        ):
            said = "该事项不支持网上申办，请到窗口办理（办理地点见“办理渠道”）。"
            guide = f"/t/{tenant.slug}/items/{quote(code)}#channels"
            return Redirect(with_flash(guide, error=said))
        who = require(principal)
        first = real_name_first(db, tenant, who, f"/t/{tenant.slug}/items/{quote(code)}/apply")
        if first is not None:  # a person confirms their name and ID number first, then back
            return first
        return self._apply_page(request, tenant, db, who, code, error=error)

    @post("/items/{code:str}/apply", name="case_apply", sync_to_thread=True, dependencies=POSTED)
    def apply(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        posted: FormMultiDict,
    ) -> Template | Redirect:
        who, data = require(principal), posted
        first = real_name_first(db, tenant, who, f"/t/{tenant.slug}/items/{quote(code)}/apply")
        if first is not None:
            return first
        item = get_item_by_code(db, tenant, code)
        fields = parse_form((item.effective or {}).get("form") or [])
        raw = parse_posted(data, fields)
        typed = {k: str(data.get(k) or "") for k in data if not k.startswith("form.")}
        page = partial(self._apply_page, request, tenant, db, who, code, raw=raw, posted=typed)
        only_rows, added = row_buttons(data, raw)
        if only_rows:
            return page(extra_rows=added)
        if data.get("send_consent") and _can_file_for_others(who):
            # 发送授权验证码: the person's phone gets a code naming the agent and the item;
            # the page comes back with everything typed, to enter the code they are told
            item = get_item_by_code(db, tenant, code)
            try:
                request_consent_code(
                    db,
                    tenant,
                    typed.get("phone", ""),
                    agent=who.name,
                    item=item.name,
                    address=client_address(request),
                )
                db.commit()
            except GovhallError as exc:
                db.commit()  # the cooldown and counts hold whatever happens next
                return page(error=exc.detail, status_code=exc.status)
            phone = typed.get("phone", "").strip()
            return page(consent_sent=phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone)
        applicant = consent = None
        if _can_file_for_others(who):
            applicant = service.Applicant(
                phone=typed.get("phone", ""),
                name=typed.get("name", ""),
                id_number=typed.get("id_number") or None,
            )
            consent = service.Consent(
                method=typed.get("consent", ""),
                note=typed.get("note", ""),
                code=typed.get("consent_code", ""),
            )
        try:
            case, _ = service.create_case(
                db,
                tenant,
                who,
                code,
                form=raw,
                delivery=typed.get("delivery") or "pickup",
                address=typed.get("address") or None,
                applicant=applicant,
                consent=consent,
                idempotency_key=typed.get("key", "")[:80] or None,
            )
            service.commit(db)
        except FormInvalid as exc:
            db.rollback()
            return page(errors=exc.problems, error=exc.detail, status_code=422)
        except GovhallError as exc:
            db.rollback()
            return page(error=exc.detail, status_code=exc.status)
        # straight on to step 2: the materials (the form is above them on a long page)
        return back(
            f"/t/{tenant.slug}/my/cases/{case.number}#materials",
            msg="已创建申请，填写的内容已保存。请上传材料，然后核对并提交。",
        )

    # -- the form on the case page ---------------------------------------------------------------

    @post(
        "/my/cases/{number:str}/form", name="my_case_form", sync_to_thread=True, dependencies=POSTED
    )
    def save(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        posted: FormMultiDict,
    ) -> Template | Redirect:
        """htmx: save what was typed, answer with the redrawn form (errors beside fields)."""
        who, data = require(principal), posted
        case = get_case(db, number, who)
        fields = forms.fields_of(case)
        raw = parse_posted(data, fields)
        problems: dict[str, str] = {}
        error = ""
        row_buttons(data, raw)  # a deleted row is saved deleted
        added = extra_rows(data)
        if not added:
            try:
                case, problems = forms.save_form(
                    db,
                    tenant,
                    who,
                    number,
                    raw,
                    delivery=data.get("delivery") or None,
                    address=data.get("address") if "address" in data else None,
                    keep_what_is_right=True,
                )
                service.commit(db)
            except GovhallError as exc:
                db.rollback()
                error = exc.detail
        if not request.headers.get("hx-request"):
            url = f"/t/{tenant.slug}/my/cases/{number}"
            note = error or (f"申请表有 {len(problems)} 处需要修改，其余已保存" if problems else "")
            return back(url, error=note) if note else back(url, msg="申请表已保存")
        return render(
            request,
            db,
            tenant,
            "cases/_form_section.html",
            case=case_out(db, case, who),
            views=view_of(
                fields,
                raw,
                problems,
                asked=forms.correction_asked(db, case)["fields"],
                extra_rows=added,
                home=tenant.division_code,
            ),
            saved=not problems and not error,
            error=error,
            posted_address=data.get("address"),
            delivery_options=case.content.get("delivery") or ["pickup"],
        )

    # -- review before submitting --------------------------------------------------------------

    @get("/my/cases/{number:str}/review", name="my_case_review", sync_to_thread=True)
    def review(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        number: str,
        error: str = "",
        msg: str = "",
    ) -> Template:
        who = require(principal)
        case = get_case(db, number, who)
        if not is_filer(who, case):
            raise Forbidden("只有申请人或代办人可以提交")
        out, problems = case_out(db, case, who), forms.submission_problems(db, case)
        return render(
            request,
            db,
            tenant,
            "cases/review.html",
            case=out,
            lines=lines(forms.fields_of(case), dict(case.form or {}), reveal=True),
            problems=problems,
            fixes={path: _where_to_fix(tenant, out, path) for path in problems},
            specs=case.content.get("materials") or [],
            have={m.index: m for m in out.materials},
            correcting=case.state is CaseState.correcting,
            delivery_options=case.content.get("delivery") or ["pickup"],
            error=error,
            msg=msg,
            # filed for someone (counter, village agent): whom, read back before submitting
            filed_for=(
                {
                    "name": case.applicant_name,
                    "phone": case.applicant_phone,
                    "consent": (case.consent or {}).get("method", ""),
                }
                if case.agent_id is not None and case.agent_id == who.id
                else None
            ),
        )

    @post("/my/cases/{number:str}/delivery", name="my_case_delivery", sync_to_thread=True)
    def delivery(
        self, tenant: Tenant, db: Session, principal: Principal | None, number: str, data: Form
    ) -> Redirect:
        """The confirm step's own small form: how the result is delivered and where to, fixed
        where the missing address is named (the form's values stay as they are)."""
        who = require(principal)
        url = f"/t/{tenant.slug}/my/cases/{number}/review"
        case = get_case(db, number, who)
        try:
            forms.save_form(
                db,
                tenant,
                who,
                number,
                dict(case.form or {}),
                delivery=data.get("delivery") or None,
                address=data.get("address", ""),
                keep_what_is_right=True,
            )
            service.commit(db)
        except GovhallError as exc:
            db.rollback()
            return back(url, error=exc.detail)
        return back(url, msg="送达方式已保存")
