"""The ``govhall`` command: the composition root that wires core, web and workers."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from core.config import get_settings
from core.db import PLATFORM, get_database
from core.errors import GovhallError

log = logging.getLogger("govhall")


def _fail(message: str) -> None:
    click.echo(click.style("错误: ", fg="red") + message, err=True)
    sys.exit(2)


def _tenant(session: Any, slug: str) -> Any:
    from core.tenancy import get_tenant_by_slug

    try:
        return get_tenant_by_slug(session, slug)
    except GovhallError as exc:
        _fail(exc.detail)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="More log output.")
def main(verbose: bool) -> None:
    """govhall — county-level online government service halls."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# -- db --------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from core.db.migrate import upgrade

    url = get_settings().resolved_database_url
    upgrade(url, revision)
    click.echo(f"数据库已升级到 {revision}")


# -- tenants ---------------------------------------------------------------------------------------


@main.group()
def tenants() -> None:
    """Tenants: apply packs, list, onboard."""


@tenants.command("apply")
@click.argument("path", type=click.Path(path_type=Path))
def tenants_apply(path: Path) -> None:
    """Apply the tenant pack at PATH (or every pack below it): idempotent, all or nothing."""
    from core.packs import PackError, apply_packs, load_packs

    try:
        packs = load_packs(path)
        with get_database().session(scope=PLATFORM) as session:
            report = apply_packs(session, packs)
            session.commit()
    except PackError as exc:
        for problem in exc.problems:
            click.echo(click.style("✗ ", fg="red") + problem, err=True)
        _fail(f"{len(exc.problems)} 个问题，未做任何更改")
        return
    click.echo(
        f"已应用 {len(packs)} 个租户包: 新建 {len(report.created)} "
        f"({', '.join(report.created) or '-'}), 更新 {len(report.updated)} "
        f"({', '.join(report.updated) or '-'}), 变更 {report.changes} 处"
    )


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tenants_list(as_json: bool) -> None:
    """Every tenant, provinces first with their cities and counties."""
    from core.tenancy import list_tenants

    with get_database().session(scope=None) as session:
        rows = list_tenants(session)
        by_id = {t.id: t for t in rows}
        data = [
            {
                "slug": t.slug,
                "name": t.name,
                "display_name": t.display_name,
                "kind": t.kind.value,
                "division_code": t.division_code,
                "parent": by_id[t.parent_id].slug if t.parent_id in by_id else None,
                "status": t.status.value,
            }
            for t in rows
        ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for province in (d for d in data if d["parent"] is None):
        click.echo(f"{province['division_code']}  {province['name']} ({province['slug']})")
        for child in (d for d in data if d["parent"] == province["slug"]):
            click.echo(
                f"  {child['division_code']}  {child['name']} ({child['slug']}) [{child['status']}]"
            )


@tenants.command("onboard")
@click.option("--parent", required=True, help="The province's slug.")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--division-code", required=True)
@click.option(
    "--kind", type=click.Choice(["city", "county", "district"]), default="county", show_default=True
)
@click.option("--activate", is_flag=True, help="Make it active at once.")
def tenants_onboard(
    parent: str, slug: str, name: str, division_code: str, kind: str, activate: bool
) -> None:
    """Onboard a city or county under its province."""
    from core.tenancy import TenantKind, TenantStatus, onboard_tenant, set_tenant_status

    with get_database().session(scope=PLATFORM) as session:
        parent_tenant = _tenant(session, parent)
        try:
            tenant = onboard_tenant(
                session,
                parent=parent_tenant,
                slug=slug,
                name=name,
                division_code=division_code,
                kind=TenantKind(kind),
            )
            if activate:
                set_tenant_status(tenant, TenantStatus.active)
        except GovhallError as exc:
            _fail(f"{exc.field or ''}: {exc.detail}")
        session.commit()
        click.echo(
            f"已创建 {tenant.name} ({tenant.slug}, {tenant.division_code}), "
            f"状态 {tenant.status.value}"
        )


# -- plugins ---------------------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """Plugins: list, enable and disable per tenant."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--tenant", "slug", default=None, help="Show this tenant's enabled state too.")
def plugins_list(as_json: bool, slug: str | None) -> None:
    """Every installed plugin (entry-point group 'govhall')."""
    from core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    states = {}
    if slug:
        from core.tenancy import scope_for

        with get_database().session(scope=None) as s:
            tenant = _tenant(s, slug)
        with get_database().session(scope=scope_for(tenant)) as session:
            states = manager.states(session, tenant)
    data = [
        {
            "name": name,
            "title": meta.title,
            "version": meta.version,
            "core_compat": meta.core_compat,
            "compatible": meta.compatible(),
            "config_schema": meta.config_schema(),
            **({"enabled": states[name].enabled} if states else {}),
        }
        for name, meta in manager.metas.items()
    ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for row in data:
        state = ""
        if "enabled" in row:
            state = " [启用]" if row["enabled"] else " [未启用]"
        click.echo(f"{row['name']:<20} {row['version']:<8} {row['title']}{state}")


def _set_plugin(slug: str, name: str, enabled: bool, config: str | None) -> None:
    from core.plugins import get_plugin_manager
    from core.tenancy import scope_for

    parsed = None
    if config is not None:
        try:
            parsed = json.loads(config)
        except json.JSONDecodeError as exc:
            _fail(f"--config is not valid JSON: {exc}")
        if not isinstance(parsed, dict):
            _fail("--config must be a JSON object")
    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            get_plugin_manager().set_enabled(session, tenant, name, enabled, parsed)
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(f"{name}: {'已启用' if enabled else '已停用'} ({slug})")


@plugins.command("enable")
@click.option("--tenant", "slug", required=True)
@click.option("--config", default=None, help="JSON object, validated against the schema.")
@click.argument("name")
def plugins_enable(slug: str, config: str | None, name: str) -> None:
    """Enable plugin NAME for one tenant."""
    _set_plugin(slug, name, True, config)


@plugins.command("disable")
@click.option("--tenant", "slug", required=True)
@click.option("--config", default=None)
@click.argument("name")
def plugins_disable(slug: str, config: str | None, name: str) -> None:
    """Disable plugin NAME for one tenant."""
    _set_plugin(slug, name, False, config)


# -- users and tokens ------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Staff and accounts."""


@users.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="ROLE or ROLE@UNIT_CODE, e.g. window_clerk@ZWFW-01 (repeatable).",
)
@click.option("--phone", default=None)
def users_create(
    slug: str, username: str, name: str, password: str, roles: tuple[str, ...], phone: str | None
) -> None:
    """Create a staff member with roles."""
    from sqlalchemy import select

    from core.identity import Role
    from core.identity.service import create_staff, grant_role
    from core.tenancy import OrgUnit, scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            staff = create_staff(
                session, tenant, username=username, name=name, password=password, phone=phone
            )
            for spec in roles:
                role_name, _, unit_code = spec.partition("@")
                try:
                    role = Role(role_name)
                except ValueError:
                    _fail(f"unknown role '{role_name}'; one of {[r.value for r in Role]}")
                unit = None
                if unit_code:
                    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
                    if unit is None:
                        _fail(f"no org unit with code '{unit_code}' in {slug}")
                grant_role(session, staff, role, unit)
        except GovhallError as exc:
            _fail(f"{exc.field or ''}: {exc.detail}")
        session.commit()
    click.echo(f"已创建工作人员 {username} ({slug})")


@users.command("totp")
@click.option("--tenant", "slug", required=True)
@click.option("--username", required=True)
def users_totp(slug: str, username: str) -> None:
    """Turn on TOTP for a staff member; prints the otpauth:// URI for their authenticator."""
    from sqlalchemy import select

    from core.identity import Staff
    from core.identity.service import enable_totp
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            _fail(f"no staff member '{username}' in {slug}")
        uri = enable_totp(staff)
        session.commit()
    click.echo(uri)


@main.group()
def tokens() -> None:
    """Bearer tokens for the JSON API."""


@tokens.command("issue")
@click.option("--tenant", "slug", required=True)
@click.option("--user", "username", required=True, help="A staff username, or an account's phone.")
@click.option("--days", default=30, show_default=True)
def tokens_issue(slug: str, username: str, days: int) -> None:
    """Print a bearer token for USER in TENANT."""
    from sqlalchemy import select

    from core.identity import Staff
    from core.identity.service import account_principal, find_account_by_phone, staff_principal
    from core.identity.tokens import issue_token
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is not None:
            principal = staff_principal(session, tenant, staff)
        else:
            account = None
            if username.isdigit():
                account = find_account_by_phone(session, tenant.province_id, username)
            if account is None:
                _fail(f"no staff member or account '{username}' in {slug}")
            principal = account_principal(account)
        token = issue_token(session, tenant, principal, ttl=timedelta(days=days))
        session.commit()
    click.echo(token)


@main.group()
def clients() -> None:
    """OAuth 2.0 / OpenID Connect clients."""


@clients.command("register")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(["authorization_code", "client_credentials"]),
)
@click.option("--public", is_flag=True, help="No secret (PKCE only), e.g. a mobile app.")
def clients_register(
    slug: str, name: str, redirect_uris: tuple[str, ...], grants: tuple[str, ...], public: bool
) -> None:
    """Register a client; prints its id and (once) its secret."""
    from core.identity.oidc import register_client
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session:
        try:
            client, secret = register_client(
                session,
                tenant,
                name=name,
                redirect_uris=list(redirect_uris),
                grant_types=list(grants) or None,
                public=public,
            )
        except GovhallError as exc:
            _fail(exc.detail)
        session.commit()
    click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))


# -- catalog --------------------------------------------------------------------------------------


@main.group()
def catalog() -> None:
    """The catalog: import and export items (CSV or XLSX)."""


@catalog.command("import")
@click.option("--tenant", "slug", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_import(slug: str, file: Path) -> None:
    """Import items from FILE: all or nothing, every bad row named with its line."""
    from core.catalog.transfer import ImportFailed, import_rows, read_rows
    from core.tenancy import scope_for

    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    try:
        rows = read_rows(file.read_bytes(), file.name)
    except GovhallError as exc:
        _fail(exc.detail)
        return
    with get_database().session(scope=scope_for(tenant)) as session:
        with click.progressbar(
            length=len(rows), label="导入事项", file=sys.stderr, show_pos=True
        ) as bar:
            last = [0]

            def progress(done: int, total: int, phase: str) -> None:
                if phase == "check":  # the bar counts rows written; checking is quick
                    return
                bar.update(done - last[0])
                last[0] = done

            try:
                report = import_rows(session, tenant, rows, progress)
            except ImportFailed as exc:
                session.rollback()
                click.echo("", err=True)
                for problem in exc.problems:
                    click.echo(click.style("✗ ", fg="red") + problem, err=True)
                _fail(f"{len(exc.problems)} 处错误，未导入任何事项")
                return
        session.commit()
    click.echo(f"新建 {report.created} 项，更新 {report.updated} 项，未变 {report.unchanged} 项")


@catalog.command("export")
@click.option("--tenant", "slug", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def catalog_export(slug: str, file: Path) -> None:
    """Export every published item to FILE (.csv or .xlsx), in the import template."""
    from core.catalog.transfer import export_rows, write_csv, write_xlsx
    from core.tenancy import scope_for

    if file.suffix.lower() not in (".csv", ".xlsx"):
        _fail("FILE must end in .csv or .xlsx")
    with get_database().session(scope=None) as s:
        tenant = _tenant(s, slug)
    with get_database().session(scope=scope_for(tenant)) as session, file.open("wb") as out:
        rows = list(export_rows(session, tenant))
        (write_csv if file.suffix.lower() == ".csv" else write_xlsx)(rows, out)
    click.echo(f"已导出 {len(rows) - 1} 项到 {file}")


# -- processes ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--demo", is_flag=True, help="Print the demo portals and sign-ins first.")
def serve(host: str, port: int, demo: bool) -> None:
    """Serve the web application (with the in-process worker when no Redis is set)."""
    import uvicorn

    from web.app import create_app
    from workers import broker as broker_module

    if broker_module.is_in_process():
        _start_in_process_workers()
    if demo:
        _print_demo(host, port)
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=True)


def _start_in_process_workers() -> None:
    from dramatiq import Worker

    from workers.actors import PERIODIC
    from workers.broker import broker
    from workers.scheduler import LocalLock, Scheduler

    worker = Worker(broker, worker_threads=2)
    worker.start()
    Scheduler(PERIODIC, LocalLock()).start_thread()
    log.info("in-process broker, worker and scheduler started")


def _print_demo(host: str, port: int) -> None:
    from core.tenancy import TenantKind, list_tenants

    with get_database().session(scope=None) as session:
        rows = [t for t in list_tenants(session) if t.kind is not TenantKind.province]
    base = f"http://{host}:{port}"
    click.echo("\n govhall 演示 / demo\n")
    click.echo(f"  平台首页  {base}/")
    for t in rows:
        click.echo(f"  {t.name:<8} {base}/t/{t.slug}/")
    click.echo("\n  演示账号 (demo sign-ins), 密码 password: Demo-2026")
    click.echo("  工作人员 staff   /t/<slug>/staff/login: <slug>-admin -clerk -reviewer -approver")
    click.echo("                   -issuer -supervisor -agent -township  (e.g. hechi-clerk)")
    click.echo("  省级管理员       /t/<province>/staff/login: guangxi-admin, anhui-admin, ...")
    click.echo("  群众 citizens    /t/<slug>/login: 短信验证码 (SMS code, written to the log and")
    click.echo("                   var/sms-outbox.jsonl), or phone + password from")
    click.echo("                   tenants/<province>/people.toml\n")


@main.command()
@click.option("--threads", default=4, show_default=True)
def worker(threads: int) -> None:
    """Run a Dramatiq worker on the Redis broker."""
    from dramatiq import Worker

    import workers.actors  # noqa: F401 - registers the actors
    from workers.broker import broker, is_in_process

    if is_in_process():
        _fail("GOVHALL_REDIS_URL is not set: the embedded worker runs inside `govhall serve`")
    w = Worker(broker, worker_threads=threads)
    w.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"worker started ({threads} threads)")
    stop.wait()
    w.stop()


@main.command()
def scheduler() -> None:
    """Run the scheduler; with several running, one leads (Redis lock)."""
    from workers.actors import PERIODIC
    from workers.scheduler import LeaderLock, Scheduler

    settings = get_settings()
    if not settings.redis_url:
        _fail("GOVHALL_REDIS_URL is not set: the embedded scheduler runs inside `govhall serve`")
    sched = Scheduler(PERIODIC, LeaderLock(settings.redis_url, ttl_seconds=30))
    signal.signal(signal.SIGTERM, lambda *_: sched.stop())
    signal.signal(signal.SIGINT, lambda *_: sched.stop())
    sched.run_forever()


if __name__ == "__main__":
    main()
