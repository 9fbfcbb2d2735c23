"""The province console (a city's too, for its own districts): the tenant tree with filters,
the onboarding wizard, activate / suspend / reactivate with a reason, copying a sibling's
setup, and bulk onboarding from a spreadsheet.

Work on a county runs in a session of the county's own scope (its audit chain, staff and
plugins are its rows); the console's own session is the province's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from core.audit import ORIGIN_KEY
from core.db import Database
from core.errors import Forbidden, GovhallError, InvalidInput, NotFound
from core.identity import Principal, Role
from core.tenancy import Tenant, TenantKind, TenantStatus, get_tenant_by_slug, scope_for
from core.tenancy import onboarding as ob
from core.tenancy.service import (
    KIND_LABELS,
    STATUS_LABELS,
    division_name,
    manages,
    tenant_tree,
)
from web import onboarding as steps
from web.auth import require_staff
from web.deps import forget_tenants
from web.flash import with_flash
from web.pages import console_bulk
from web.pages.portal import render
from web.params import Form, Upload

__all__ = ["ConsoleController"]

STATUS_TONES = {
    TenantStatus.onboarding: "warning",
    TenantStatus.active: "success",
    TenantStatus.suspended: "danger",
}
_MOVES = {
    "activate": (TenantStatus.active, "开通"),
    "suspend": (TenantStatus.suspended, "暂停服务"),
    "reactivate": (TenantStatus.active, "恢复服务"),
}


def console_admin(principal: Principal | None, tenant: Tenant) -> Principal:
    """A province's admin, or a city's admin (for its districts); others are refused."""
    if tenant.is_province:
        return require_staff(principal, Role.province_admin)
    if tenant.kind is TenantKind.city:
        return require_staff(principal, Role.province_admin, Role.tenant_admin)
    require_staff(principal, Role.province_admin)  # a county has no console: refused
    raise NotFound("没有这个页面")


def _county(db: Session, tenant: Tenant, slug: str) -> Tenant:
    """A tenant this console runs; anything else is a 404."""
    try:
        county = get_tenant_by_slug(db, slug)
    except GovhallError:
        raise NotFound("没有这个地区") from None
    if not manages(tenant, county):
        raise NotFound("没有这个地区")
    return county


@contextmanager
def county_session(
    request: Request[Any, Any, Any], county: Tenant
) -> Iterator[tuple[Session, Tenant]]:
    """A session in ``county``'s own scope, with the county loaded in it."""
    database: Database = request.app.state.database
    with database.session(scope=scope_for(county)) as session:
        # the audit log says where the change came from, as for the request's own session
        session.info[ORIGIN_KEY] = request.client.host if request.client else ""
        fresh = session.get(Tenant, county.id)
        assert fresh is not None
        yield session, fresh


def _parents(db: Session, tenant: Tenant) -> list[Tenant]:
    """Where a new tenant may hang: the console's own tenant, and a province's cities."""
    out = [tenant]
    if tenant.is_province:
        out += [t for t, _ in tenant_tree(db, tenant, kind=TenantKind.city)]
    return out


def _step_index(step: str) -> int:
    return ob.STEP_CODES.index(step)


class ConsoleController(Controller):
    path = "/t/{slug:str}/console"
    include_in_schema = False

    # -- the tree -------------------------------------------------------------------------

    @get("/", name="province_console", sync_to_thread=True)
    def console(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        kind: str | None = None,
        status: str | None = None,
        parent: str | None = None,
    ) -> Template:
        console_admin(principal, tenant)
        kind_f = _enum_or_none(TenantKind, kind)
        status_f = _enum_or_none(TenantStatus, status)
        parents = _parents(db, tenant)
        parent_f = next((p for p in parents if p.slug == parent), None)
        rows = tenant_tree(db, tenant, kind=kind_f, status=status_f, parent=parent_f)
        everything = tenant_tree(db, tenant)
        counts = {s.value: sum(1 for t, _ in everything if t.status is s) for s in TenantStatus}
        names = {t.id: t.name for t, _ in everything} | {tenant.id: tenant.name}
        return render(
            request,
            db,
            tenant,
            "province/console.html",
            rows=rows,
            counts=counts,
            total=len(everything),
            names=names,
            parents=parents,
            filters={"kind": kind or "", "status": status or "", "parent": parent or ""},
            kind_labels={
                k.value: v for k, v in KIND_LABELS.items() if k is not TenantKind.province
            },
            status_labels={k.value: v for k, v in STATUS_LABELS.items()},
            status_tones={k.value: v for k, v in STATUS_TONES.items()},
            steps=[label for _, label in ob.STEPS],
            step_index=lambda t: _step_index(ob.current_step(t)),
            is_city=tenant.kind is TenantKind.city,
            msg=request.query_params.get("msg", ""),
            error=request.query_params.get("error", ""),
        )

    @get("/division", name="console_division", sync_to_thread=True)
    def division_hint(
        self, tenant: Tenant, principal: Principal | None, division_code: str = ""
    ) -> Response[str]:
        """The standard name of a division code, as the wizard's hint under the field."""
        console_admin(principal, tenant)
        code = division_code.strip()
        name = division_name(code) if len(code) == 6 and code.isdigit() else None
        text = ""
        if name:
            # the wizard's script offers the name when the name field is still empty
            safe = escape(name)
            text = f'<span data-name="{safe}">国家标准（GB/T 2260）：{code} {safe}</span>'
        elif code and len(code) == 6:
            text = "国家标准中没有这个代码，请核对"
        return Response(text, media_type="text/html")

    # -- status -----------------------------------------------------------------------------

    @post("/status/{county:str}", name="console_status", sync_to_thread=True)
    def set_status(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Form,
    ) -> Redirect:
        me = console_admin(principal, tenant)
        target = _county(db, tenant, county)
        move = _MOVES.get(data.get("action", ""))
        back = data.get("back") or f"/t/{tenant.slug}/console"
        if not back.startswith(f"/t/{tenant.slug}/console"):
            back = f"/t/{tenant.slug}/console"
        if move is None:
            return Redirect(with_flash(back, error="请选择要做的操作"))
        status, verb = move
        with county_session(request, target) as (session, fresh):
            try:
                ob.change_status(session, fresh, me, status, reason=data.get("reason", ""))
                fresh.settings = {
                    **(fresh.settings or {}),
                    "status_note": {"verb": verb, "reason": data.get("reason", "").strip()[:500]},
                }
                session.commit()
            except GovhallError as exc:
                session.rollback()
                return Redirect(with_flash(back, error=exc.detail))
        forget_tenants()
        return Redirect(with_flash(back, msg=f"该地区已{verb}"))  # never typed text

    # -- the wizard -------------------------------------------------------------------------

    @get("/onboard", name="console_onboard_new", sync_to_thread=True)
    def new(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        parent: str | None = None,
    ) -> Template:
        console_admin(principal, tenant)
        return self._basics(request, db, tenant, {"parent": parent or tenant.slug})

    def _basics(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        form: dict[str, str],
        error: GovhallError | None = None,
    ) -> Template:
        return render(
            request,
            db,
            tenant,
            "province/wizard.html",
            step="basics",
            current=0,
            steps=[label for _, label in ob.STEPS],
            county=None,
            form=form,
            error=error.detail if error else "",
            field=(error.field or "") if error else "",
            parents=_parents(db, tenant),
            kinds=[(k.value, v) for k, v in KIND_LABELS.items() if k is not TenantKind.province],
            status_code=error.status if error and error.status < 500 else 200,
        )

    @post("/onboard", name="province_onboard", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Form,
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        form = {
            k: data.get(k, "").strip() for k in ("name", "division_code", "kind", "parent", "slug")
        }
        try:
            kind = _enum_or_none(TenantKind, form["kind"] or "county")
            if kind is None or kind is TenantKind.province:
                raise InvalidInput("请选择类型：市、县或区", field="kind")
            wanted = form["parent"] or tenant.slug
            parent = next((p for p in _parents(db, tenant) if p.slug == wanted), None)
            if parent is None:
                raise InvalidInput("请选择上级地区", field="parent")
            county = ob.onboard(
                db,
                actor_tenant=tenant,
                actor=me,
                parent=parent,
                slug=form["slug"],
                name=form["name"],
                division_code=form["division_code"],
                kind=kind,
            )
            db.commit()
        except Forbidden as exc:
            db.rollback()
            return self._basics(request, db, tenant, form, InvalidInput(exc.detail, field="parent"))
        except GovhallError as exc:
            db.rollback()
            return self._basics(request, db, tenant, form, exc)
        forget_tenants()
        return Redirect(
            with_flash(
                f"/t/{tenant.slug}/console/onboard/{county.slug}/branding",
                msg="地区已创建（筹备中），请继续设置门户外观",
            )
        )

    @get("/onboard/{county:str}", name="console_onboard_resume", sync_to_thread=True)
    def resume(
        self, tenant: Tenant, db: Session, principal: Principal | None, county: str
    ) -> Redirect:
        console_admin(principal, tenant)
        target = _county(db, tenant, county)
        return Redirect(f"/t/{tenant.slug}/console/onboard/{target.slug}/{ob.current_step(target)}")

    @get("/onboard/{county:str}/{step:str}", name="console_onboard_step", sync_to_thread=True)
    def step_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        step: str,
    ) -> Template | Redirect:
        console_admin(principal, tenant)
        target = _county(db, tenant, county)
        if step not in ob.STEP_CODES:
            raise NotFound("没有这一步")
        if step == "basics":
            return Redirect(f"/t/{tenant.slug}/console/onboard/{target.slug}/branding")
        return self._step(request, db, tenant, target, step)

    def _step(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        county: Tenant,
        step: str,
        *,
        form: dict[str, str] | None = None,
        error: GovhallError | None = None,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        ctx: dict[str, Any] = {}
        with county_session(request, county) as (session, fresh):
            if step == "admin":
                ctx["admins"] = [
                    (s.username, s.name, steps.mask_phone(s.phone))
                    for s in steps.existing_admins(session, fresh)
                ]
            elif step == "plugins":
                ctx["plugins"] = steps.plugin_choices(session, fresh)
            elif step == "catalog":
                ctx["can_adopt"] = steps.adoption_available()
                ctx["adopted"] = len(steps.adopted_codes(session, fresh)) if ctx["can_adopt"] else 0
            elif step == "activate":
                ctx["readiness"] = steps.readiness(session, fresh)
            done = ob.done_steps(fresh)
            skipped = ob.skipped_steps(fresh)
        branding = dict(county.branding or {})
        return render(
            request,
            db,
            tenant,
            "province/wizard.html",
            step=step,
            current=_step_index(step),
            steps=[label for _, label in ob.STEPS],
            step_codes=ob.STEP_CODES,
            done=[c for c in done if c not in skipped],
            skipped=skipped,
            county=county,
            county_branding=branding,
            form=form if form is not None else _branding_form(county),
            preview_primary=_colour(
                (form if form is not None else _branding_form(county)).get("primary_color")
            ),
            error=error.detail if error else "",
            field=(error.field or "") if error else "",
            status_label=STATUS_LABELS[county.status],
            kind_label=KIND_LABELS[county.kind],
            msg=request.query_params.get("msg", "") if error is None else "",
            status_code=status_code,
            **ctx,
            **extra,
        )

    @post("/setup/{county:str}/branding", name="console_branding", sync_to_thread=True)
    def save_branding(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Upload,
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        target = _county(db, tenant, county)
        form = {
            k: str(data.get(k) or "").strip()
            for k in ("display_name", "primary_color", "accent_color", "slogan")
        }
        logo = data.get("logo")
        with county_session(request, target) as (session, fresh):
            try:
                ob.check_branding(**form)
                logo_key = None
                if isinstance(logo, UploadFile) and logo.filename:
                    logo_key = steps.store_logo(fresh, logo.file.read(ob.LOGO_MAX_BYTES + 1))
                ob.save_branding(session, fresh, me, logo_key=logo_key, **form)
                session.commit()
            except GovhallError as exc:
                session.rollback()
                return self._step(
                    request,
                    db,
                    tenant,
                    target,
                    "branding",
                    form=form,
                    error=exc,
                    status_code=422,
                )
        forget_tenants()
        return Redirect(
            with_flash(
                f"/t/{tenant.slug}/console/onboard/{target.slug}/admin", msg="门户外观已保存"
            )
        )

    @post("/setup/{county:str}/admin", name="console_first_admin", sync_to_thread=True)
    def first_admin(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Form,
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        target = _county(db, tenant, county)
        form = {k: data.get(k, "").strip() for k in ("username", "name", "phone")}
        with county_session(request, target) as (session, fresh):
            try:
                staff, password = steps.create_first_admin(session, fresh, me, **form)
                session.commit()
                created = (staff.username, staff.name)
            except GovhallError as exc:
                session.rollback()
                return self._step(
                    request, db, tenant, target, "admin", form=form, error=exc, status_code=422
                )
        # the temporary password is shown on this response only, never stored in the clear
        return self._step(
            request, db, tenant, target, "admin", form={}, created=created, password=password
        )

    @post("/setup/{county:str}/catalog", name="console_adopt", sync_to_thread=True)
    def adopt(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Form,
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        target = _county(db, tenant, county)
        skip = data.get("action") == "skip"
        msg = "已跳过，之后可在县级管理的事项认领页面认领"
        with county_session(request, target) as (session, fresh):
            try:
                if skip or not steps.adoption_available():
                    ob.mark_done(fresh, "catalog", skipped=True)
                else:
                    count = steps.adopt_catalog(session, fresh, me)
                    msg = f"已认领 {count} 项标准事项"
                session.commit()
            except GovhallError as exc:
                session.rollback()
                return self._step(
                    request, db, tenant, target, "catalog", error=exc, status_code=422
                )
        return Redirect(
            with_flash(f"/t/{tenant.slug}/console/onboard/{target.slug}/plugins", msg=msg)
        )

    @post("/setup/{county:str}/plugins", name="console_plugins", sync_to_thread=True)
    def plugins(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Form,
    ) -> Template | Redirect:
        wanted = {
            k.removeprefix("plugin-") for k, v in data.items() if k.startswith("plugin-") and v
        }
        return self._save_plugins(request, tenant, db, principal, county, wanted)

    def _save_plugins(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        wanted: set[str],
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        target = _county(db, tenant, county)
        with county_session(request, target) as (session, fresh):
            problems = steps.set_plugins(session, fresh, wanted, me)
            session.commit()
        if problems:
            return self._step(
                request, db, tenant, target, "plugins", problems=problems, status_code=422
            )
        return Redirect(
            with_flash(f"/t/{tenant.slug}/console/onboard/{target.slug}/activate", msg="插件已保存")
        )

    # -- copy the setup of a sibling --------------------------------------------------------

    @get("/copy/{county:str}", name="console_copy", sync_to_thread=True)
    def copy_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
    ) -> Template:
        console_admin(principal, tenant)
        target = _county(db, tenant, county)
        return self._copy(request, db, tenant, target)

    def _copy(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        target: Tenant,
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        siblings = [
            t
            for t, _ in tenant_tree(db, tenant)
            if t.parent_id == target.parent_id
            and t.id != target.id
            and t.kind is not TenantKind.city
        ]
        return render(
            request,
            db,
            tenant,
            "province/copy.html",
            county=target,
            siblings=siblings,
            error=error,
            status_code=status_code,
        )

    @post("/copy/{county:str}", name="console_copy_save", sync_to_thread=True)
    def copy_save(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        county: str,
        data: Form,
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        target = _county(db, tenant, county)
        source_slug = data.get("source", "")
        try:
            source = _county(db, tenant, source_slug)
        except NotFound:
            return self._copy(request, db, tenant, target, "请选择要复制的同级地区", 422)
        if source.parent_id != target.parent_id or source.id == target.id:
            return self._copy(request, db, tenant, target, "只能复制同一上级下的其他地区", 422)
        with county_session(request, source) as (session, _):
            setup = steps.read_setup(session, source)
        with county_session(request, target) as (session, fresh):
            try:
                report = steps.copy_setup(session, fresh, me, source, setup)
                session.commit()
                next_step = ob.current_step(fresh)
            except GovhallError as exc:
                session.rollback()
                return self._copy(request, db, tenant, target, exc.detail, 422)
        msg = (
            f"已从所选地区复制：机构 {report.units} 个，插件 {len(report.plugins)} 个，"
            f"事项 {report.items} 项"
        )
        if report.items_problem:
            msg += "；事项未复制，请到县级管理的事项认领页面认领"
        if report.plugins_need_secrets:
            msg += "；" + "、".join(report.plugins_need_secrets) + " 需要县里自己填写密钥后启用"
        if target.status is not TenantStatus.onboarding:
            return Redirect(with_flash(f"/t/{tenant.slug}/console", msg=msg))
        return Redirect(
            with_flash(f"/t/{tenant.slug}/console/onboard/{target.slug}/{next_step}", msg=msg)
        )

    # -- bulk onboarding --------------------------------------------------------------------

    @get("/bulk", name="console_bulk", sync_to_thread=True)
    def bulk_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        console_admin(principal, tenant)
        return render(request, db, tenant, "province/bulk.html", job=None, error="")

    @get("/bulk/template.xlsx", name="console_bulk_template", sync_to_thread=True)
    def bulk_template(self, tenant: Tenant, principal: Principal | None) -> Response[bytes]:
        console_admin(principal, tenant)
        return Response(
            ob.bulk_template(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "content-disposition": "attachment; filename*=UTF-8''" + quote("批量开通模板.xlsx")
            },
        )

    @post("/bulk", name="console_bulk_upload", sync_to_thread=True)
    def bulk_upload(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        data: Upload,
    ) -> Template | Redirect:
        me = console_admin(principal, tenant)
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("请选择 .xlsx 文件", field="file")
            job_id = console_bulk.start(
                tenant, me, upload.file.read(console_bulk.MAX_BYTES + 1), upload.filename
            )
        except GovhallError as exc:
            return render(
                request,
                db,
                tenant,
                "province/bulk.html",
                job=None,
                error=exc.detail,
                status_code=422,
            )
        console_bulk.launch(tenant, job_id)
        return Redirect(f"/t/{tenant.slug}/console/bulk/{job_id}")

    @get("/bulk/{job_id:uuid}", name="console_bulk_status", sync_to_thread=True)
    def bulk_status(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        job_id: uuid.UUID,
    ) -> Template:
        console_admin(principal, tenant)
        job = console_bulk.get(tenant, job_id)
        name = (
            "province/_bulk_progress.html"
            if request.headers.get("hx-request")
            else "province/bulk.html"
        )
        return render(request, db, tenant, name, job=job, error="")


def _colour(value: Any, default: str = "#1d5fa8") -> str:
    """A colour fit to paint the preview with before its script runs: ``#rrggbb`` or the
    default (a half-typed or hostile value never reaches a style attribute)."""
    text = str(value or "")
    ok = len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in text[1:])
    return text if ok else default


def _branding_form(county: Tenant) -> dict[str, str]:
    b = county.branding or {}
    return {
        "display_name": str(b.get("display_name") or f"{county.name}网上办事大厅"),
        "primary_color": str(b.get("primary_color") or "#1d5fa8"),
        "accent_color": str(b.get("accent_color") or "#f6c343"),
        "slogan": str(b.get("slogan") or ""),
    }


def _enum_or_none(cls: Any, value: str | None) -> Any:
    if not value:
        return None
    try:
        return cls(value)
    except ValueError:
        return None


def console_query(**params: str) -> str:
    return urlencode({k: v for k, v in params.items() if v})
