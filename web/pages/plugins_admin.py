"""The tenant admin's plugin pages: the status of them all (health, problems such as a plugin
enabled but not installed, sign-in codes delivered today, the last errors), and the page of
one plugin: what it is, whether it is on, its config form drawn from its schema, its health,
its self-check and its last errors."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.errors import GovhallError
from core.identity import Principal, Role
from core.notify.sms import sent_today
from core.plugins import get_plugin_manager
from core.plugins.forms import fields_of, read_form
from core.plugins.health import FAILING_AFTER, hook_label
from core.plugins.status import PluginHealthView, health_by_plugin, problems
from core.tenancy import Tenant
from web.auth import require_staff
from web.pages.cases import back
from web.pages.portal import render
from web.params import Form

__all__ = ["PluginAdminPages"]


def _errors(db: Session, tenant: Tenant, name: str | None = None, limit: int = 10) -> list[Any]:
    """The last errors (of plugin ``name``), each with its hook in the admin's words."""
    found = get_plugin_manager().recent_errors(db, tenant, limit=100 if name else limit)
    return [
        {
            "at": e.created_at,
            "plugin": e.plugin,
            "vendor": e.vendor,
            "hook": hook_label(e.hook),
            "message": e.message,
        }
        for e in found
        if name is None or e.plugin == name
    ][:limit]


class PluginAdminPages(Controller):
    path = "/t/{slug:str}/admin/plugins"
    include_in_schema = False

    @get("/", name="admin_plugins", sync_to_thread=True)
    def overview(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        msg: str = "",
    ) -> Template:
        """插件状态: every plugin of the county with its health, what needs doing, the sign-in
        codes of today and the last errors."""
        require_staff(principal, Role.tenant_admin)
        manager = get_plugin_manager()
        return render(
            request,
            db,
            tenant,
            "admin/plugins.html",
            plugins=manager.states(db, tenant),
            health=health_by_plugin(db, tenant),
            healthy=PluginHealthView(),
            problems=problems(db, tenant),
            codes=sent_today(db, tenant, "otp"),
            errors=_errors(db, tenant, limit=20),
            msg=msg,
        )

    def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        name: str,
        *,
        form: dict[str, Any] | None = None,
        status_code: int = 200,
        **ctx: Any,
    ) -> Template:
        manager = get_plugin_manager()
        meta = manager.meta(name)  # unknown: 404
        state = manager.states(db, tenant)[meta.name]
        shown = fields_of(meta.config_schema(), form if form is not None else state.raw_config)
        return render(
            request,
            db,
            tenant,
            "admin/plugin.html",
            meta=meta,
            state=state,
            fields=shown,
            health=health_by_plugin(db, tenant).get(meta.name) or PluginHealthView(),
            failing_after=FAILING_AFTER,
            errors=_errors(db, tenant, meta.name),
            status_code=status_code,
            **ctx,
        )

    @get("/{name:str}", name="admin_plugin", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        name: str,
        msg: str = "",
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        return self._page(request, tenant, db, name, msg=msg)

    @post("/{name:str}", name="admin_plugin_toggle", sync_to_thread=True)
    def toggle(
        self, tenant: Tenant, db: Session, principal: Principal | None, name: str, data: Form
    ) -> Redirect:
        """The on/off button of the admin home page (and, for a plugin enabled but not
        installed, the 停用 of the status page)."""
        me = require_staff(principal, Role.tenant_admin)
        get_plugin_manager().set_enabled(db, tenant, name, data.get("enabled") == "on", actor=me)
        db.commit()
        if data.get("back") == "status":
            return back(f"/t/{tenant.slug}/admin/plugins/", msg="已停用。")
        return Redirect(f"/t/{tenant.slug}/admin")

    @post("/{name:str}/config", name="admin_plugin_config", sync_to_thread=True)
    def save(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        name: str,
        data: Form,
    ) -> Template | Redirect:
        me = require_staff(principal, Role.tenant_admin)
        manager = get_plugin_manager()
        meta = manager.meta(name)
        state = manager.states(db, tenant)[meta.name]
        try:
            config = read_form(meta.config_schema(), data, state.raw_config)
            manager.set_enabled(db, tenant, name, data.get("enabled") == "on", config, actor=me)
            db.commit()
        except GovhallError as exc:
            db.rollback()
            return self._page(
                request,
                tenant,
                db,
                name,
                form={**state.raw_config, **{k: v for k, v in data.items() if k in data}},
                posted_enabled=data.get("enabled") == "on",  # the tick as it was sent
                error=exc.detail,
                field=exc.field,
                status_code=422,
            )
        return back(f"/t/{tenant.slug}/admin/plugins/{name}", msg="已保存。")

    @post("/{name:str}/check", name="admin_plugin_check", sync_to_thread=True)
    def check(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        name: str,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        problems = get_plugin_manager().self_check(db, tenant, name)
        return self._page(request, tenant, db, name, checked=True, problems=problems)
