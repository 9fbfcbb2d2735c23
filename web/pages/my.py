"""我的 — a citizen's own space: the hub, favourites, ratings, an e-license read and
downloaded, the profile with its real-name step and the change of mobile number by SMS code.
(My cases and the e-license library are in :mod:`web.pages.cases`; consultations and
complaints have their own pages.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from core.cases import mine
from core.cases.licenses import licenses_of
from core.catalog import favourites
from core.errors import GovhallError, InvalidInput
from core.identity import AccountKind, Principal
from core.identity.profile import (
    REAL_NAME_STATES,
    change_phone,
    confirm_real_name,
    get_account,
    masked_id_number,
    masked_phone,
    needs_real_name,
    real_name_state,
    request_phone_change,
)
from core.identity.service import account_principal
from core.storage import get_storage
from core.supervision import ratings
from core.tenancy import Tenant
from web.auth import require, require_account, sign_in_session
from web.clients import client_address
from web.pages.cases import back, pdf_response
from web.pages.portal import _safe_next, render
from web.params import Form

__all__ = ["MyPages", "real_name_first"]


def real_name_first(
    db: Session, tenant: Tenant, principal: Principal | None, next_url: str
) -> Redirect | None:
    """Where a citizen who has not confirmed their name and ID number goes before their
    first application (and comes back to ``next_url`` from); None for everyone else."""
    if principal is None or not needs_real_name(db, principal):
        return None
    return Redirect(f"/t/{tenant.slug}/my/profile/realname?next={quote(next_url)}")


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(request.headers.get("hx-request"))


class MyPages(Controller):
    path = "/t/{slug:str}/my"
    include_in_schema = False

    # -- the hub ---------------------------------------------------------------------------------

    @get("/", name="my_home", sync_to_thread=True)
    def home(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        who = require(principal)
        account = get_account(db, who) if who.is_account else None
        cases = mine.my_cases(db, who, per_page=3)
        waiting, _given = mine.my_ratings(db, who) if who.is_account else ([], [])
        return render(
            request,
            db,
            tenant,
            "my/index.html",
            account=account,
            real_name=real_name_state(account) if account else "",
            real_name_labels=REAL_NAME_STATES,
            cases=cases,
            to_do=cases.counts["draft"] + cases.counts["correcting"],
            licenses=len(licenses_of(db, tenant, who.id)) if who.is_account else 0,
            favourites=len(favourites.favourite_codes(db, who.id)) if who.is_account else 0,
            to_rate=len(waiting),
        )

    # -- favourites ------------------------------------------------------------------------------

    @get("/favourites", name="my_favourites", sync_to_thread=True)
    def favourite_list(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        msg: str = "",
    ) -> Template:
        who = require_account(principal)
        assert who.id is not None
        return render(
            request,
            db,
            tenant,
            "my/favourites.html",
            rows=favourites.favourites_of(db, who.id),
            msg=msg,
        )

    @post("/favourites/{code:str}", name="my_favourite_toggle", sync_to_thread=True)
    def favourite_toggle(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
        data: Form,
    ) -> Template | Redirect | Response[str]:
        """Keep or drop an item: htmx gets the button back, a plain form goes back to where
        it came from; a visitor who is not signed in is sent to sign in and brought back."""
        item_page = f"/t/{tenant.slug}/items/{quote(code)}"
        came_from = _safe_next(tenant, data.get("next"), item_page)
        if principal is None or not principal.is_account or principal.id is None:
            login = f"/t/{tenant.slug}/login?next={quote(came_from)}"
            if _is_htmx(request):
                return Response("", status_code=200, headers={"HX-Redirect": login})
            return Redirect(login)
        wanted = data.get("on")
        if wanted in ("1", "0"):
            state = favourites.set_favourite(db, tenant, principal.id, code, wanted == "1")
        else:
            state = favourites.toggle_favourite(db, tenant, principal.id, code)
        db.commit()
        if _is_htmx(request):
            return render(
                request,
                db,
                tenant,
                "my/_favourite_button.html",
                item_code=code,
                is_favourite=state,
                favourite_next=came_from,
            )
        return back(came_from, msg="已收藏" if state else "已取消收藏")

    # -- ratings ---------------------------------------------------------------------------------

    @get("/ratings", name="my_ratings", sync_to_thread=True)
    def rating_list(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        msg: str = "",
        error: str = "",
    ) -> Template:
        who = require_account(principal)
        waiting, given = mine.my_ratings(db, who)
        return render(
            request,
            db,
            tenant,
            "my/ratings.html",
            waiting=waiting,
            given=given,
            choices=mine.RATING_CHOICES,
            msg=msg,
            error=error,
        )

    @post("/ratings/{number:str}", name="my_rate", sync_to_thread=True)
    def rate(
        self, tenant: Tenant, db: Session, principal: Principal | None, number: str, data: Form
    ) -> Redirect:
        who = require_account(principal)
        url = f"/t/{tenant.slug}/my/ratings"
        try:
            try:
                score = int(data.get("score", ""))
            except ValueError:
                raise InvalidInput("请选择满意程度", field="score") from None
            if score not in {s for s, _ in mine.RATING_CHOICES}:
                raise InvalidInput("请选择满意程度", field="score")
            ratings.rate_case(db, tenant, who, number, score, data.get("comment", ""))
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return back(url, error=exc.detail)
        return back(url, msg="感谢您的评价！")

    # -- one e-license ---------------------------------------------------------------------------

    @get("/licenses/{code:str}", name="my_license", sync_to_thread=True)
    def license(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        code: str,
    ) -> Template:
        who = require_account(principal)
        return render(
            request, db, tenant, "my/license.html", lic=mine.license_view(db, tenant, who.id, code)
        )

    @get("/licenses/{code:str}/pdf", name="my_license_pdf", sync_to_thread=True)
    def license_pdf(
        self, tenant: Tenant, db: Session, principal: Principal | None, code: str
    ) -> Response[bytes]:
        who = require_account(principal)
        view = mine.license_view(db, tenant, who.id, code)
        data = get_storage().read(view.row.storage_key)
        answer = pdf_response(data, f"{view.row.number}.pdf")
        answer.headers["content-disposition"] = f'attachment; filename="{view.row.number}.pdf"'
        return answer

    # -- profile ---------------------------------------------------------------------------------

    @get("/profile", name="my_profile", sync_to_thread=True)
    def profile(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        msg: str = "",
    ) -> Template:
        account = get_account(db, require_account(principal))
        return render(
            request,
            db,
            tenant,
            "my/profile.html",
            account=account,
            enterprise=account.kind is AccountKind.enterprise,
            phone=masked_phone(account),
            id_number=masked_id_number(account),
            real_name=real_name_state(account),
            real_name_labels=REAL_NAME_STATES,
            msg=msg,
        )

    def _real_name_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        *,
        next_url: str,
        name: str | None = None,
        id_number: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        account = get_account(db, require_account(principal))
        if name is None:  # a first SMS sign-in named the account after its phone
            name = "" if account.name.startswith("用户") else account.name
        return render(
            request,
            db,
            tenant,
            "my/realname.html",
            account=account,
            real_name=real_name_state(account),
            id_number_masked=masked_id_number(account),
            next=next_url,
            applying=next_url.startswith(
                (f"/t/{tenant.slug}/items/", f"/t/{tenant.slug}/bundles/")
            ),
            person_name=name,
            id_number=id_number,
            errors=errors or {},
            status_code=status_code,
        )

    @get("/profile/realname", name="my_real_name", sync_to_thread=True)
    def real_name_form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        next: str = "",
    ) -> Template:
        next_url = _safe_next(tenant, next, "")
        return self._real_name_page(request, tenant, db, principal, next_url=next_url)

    @post("/profile/realname", name="my_real_name_post", sync_to_thread=True)
    def real_name_confirm(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        account = get_account(db, require_account(principal))
        next_url = _safe_next(tenant, data.get("next"), "")
        name, number = data.get("name", ""), data.get("id_number", "")
        try:
            confirm_real_name(db, account, name, number)
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._real_name_page(
                request,
                tenant,
                db,
                principal,
                next_url=next_url,
                name=name,
                id_number=number,
                errors={exc.field or "id_number": exc.detail},
                status_code=exc.status,
            )
        if next_url:
            return Redirect(next_url)
        return back(f"/t/{tenant.slug}/my/profile", msg="实名确认已完成")

    # -- phone -----------------------------------------------------------------------------------

    def _phone_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        *,
        phone: str = "",
        sent: bool = False,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        account = get_account(db, require_account(principal))
        return render(
            request,
            db,
            tenant,
            "my/phone.html",
            current=masked_phone(account),
            phone=phone,
            sent=sent,
            errors=errors or {},
            status_code=status_code,
        )

    @get("/profile/phone", name="my_phone", sync_to_thread=True)
    def phone_form(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        return self._phone_page(request, tenant, db, principal)

    @post("/profile/phone/code", name="my_phone_code", sync_to_thread=True)
    def phone_code(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template:
        """Send a code to the new number; the page then asks for it."""
        account = get_account(db, require_account(principal))
        phone = data.get("phone", "")
        try:
            phone = request_phone_change(
                db, tenant, account, phone, address=client_address(request)
            )
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._phone_page(
                request,
                tenant,
                db,
                principal,
                phone=phone,
                errors={"phone": exc.detail},
                status_code=exc.status,
            )
        return self._phone_page(request, tenant, db, principal, phone=phone, sent=True)

    @post("/profile/phone", name="my_phone_post", sync_to_thread=True)
    def phone_change(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        account = get_account(db, require_account(principal))
        phone = data.get("phone", "")
        try:
            change_phone(
                db, tenant, account, phone, data.get("code", ""), address=client_address(request)
            )
            db.commit()
        except GovhallError as exc:
            db.commit()  # a wrong code counts toward the lock-out
            field = exc.field if exc.field in ("phone", "code") else "code"
            return self._phone_page(
                request,
                tenant,
                db,
                principal,
                phone=phone,
                sent=field == "code",
                errors={field: exc.detail},
                status_code=exc.status,
            )
        # every other session has ended with the old number: this browser stays signed in
        sign_in_session(request, tenant, account_principal(account))
        return back(f"/t/{tenant.slug}/my/profile", msg="手机号已更换，其他设备上的登录已退出")
