"""A plugin's health per tenant: every failure recorded where the county admin sees it, and
its run of failures counted until the next success.

**Recording never waits on the caller.** A plugin fails while the caller's transaction may
hold locks — on SQLite the write lock itself, during a sign-in code request — so a record
written from a second session at once would wait for the caller (10 s, then be lost). An
outcome noted while the caller's session is in a transaction is therefore kept on that
session and written, in a short transaction of its own, as soon as the caller's transaction
ends: committed or rolled back (a failure that makes the caller roll back is still
recorded). Outside a transaction it is written at once.

**Damped health.** Each tenant's plugin keeps, per thing it does — a hook, or sending
through one of its SMS vendors (``send_sms``, its delivery receipts included) — its failures
in a row since the last success there, when that run began, and the times of the last
failure and success. A plugin is
*failing* (异常) from :data:`FAILING_AFTER` failures in a row — one failure among many
successes changes nothing — and healthy again at its next success. The county admin's banner
shows while a plugin is failing and its last failure is less than :data:`BANNER_HOURS` old.
Successes are written only while a failure is on record, so a healthy plugin costs nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from core.db import Database, Scope, get_database, remembered, utcnow
from core.plugins.models import PluginError, PluginHealth
from core.tenancy import Tenant, scope_for

__all__ = [
    "BANNER_HOURS",
    "FAILING_AFTER",
    "HOOK_LABELS",
    "Health",
    "Outcome",
    "failed",
    "forget",
    "health_of",
    "hook_label",
    "is_failing",
    "succeeded",
    "vendor_health",
]

log = logging.getLogger("govhall.plugins")

#: failures in a row from which a plugin is shown as failing (异常) — the point at which the
#: SMS failover (core.notify.routing) demotes a vendor that had been healthy
FAILING_AFTER = 2
#: how long after its last failure a failing plugin still raises the admin's banner
BANNER_HOURS = 24
#: recorded errors are kept this long
KEEP_DAYS = 90

#: what each hook, and each vendor call, does — in the county admin's words
HOOK_LABELS: dict[str, str] = {
    "register_sms_vendors": "提供短信服务商",
    "send_sms": "发送短信",
    "sms_receipt": "短信状态报告",
    "read_sms_receipts": "短信状态报告回调",
    "read_sms_inbound": "短信回复回调",
    "extra_template_vars": "页面内容",
    "create_shipment": "快递下单",
    "track_shipment": "快递轨迹回调",
    "register_items": "提供事项",
    "register_processes": "提供办理流程",
    "validate_form": "表单校验",
    "forward_case_event": "推送办件信息",
    "department_of_client": "识别部门系统",
    "register_bundles": "提供联审联办",
    "create_payment": "创建缴费订单",
    "confirm_payment": "确认缴费",
}


def hook_label(hook: str) -> str:
    return HOOK_LABELS.get(hook, "插件调用")


@dataclass(frozen=True)
class Outcome:
    """One call's result, waiting to be written."""

    scope: Scope
    plugin: str
    vendor: str
    hook: str
    ok: bool
    message: str
    at: datetime
    #: the health it counts towards, when not the hook's own (a receipt: ``send_sms``)
    counts_as: str = ""

    @property
    def health_hook(self) -> str:
        return self.counts_as or self.hook


@dataclass(frozen=True)
class Health:
    """What the plugin page and the banner show of one plugin or vendor."""

    plugin: str
    vendor: str
    hook: str
    failures: int
    failing_since: datetime | None
    last_error_at: datetime | None
    last_ok_at: datetime | None

    @property
    def failing(self) -> bool:
        return self.failures >= FAILING_AFTER

    def alarming(self, now: datetime | None = None) -> bool:
        """Failing, and lately: the banner's condition."""
        now = now or utcnow()
        recent = self.last_error_at is not None and (
            now - self.last_error_at < timedelta(hours=BANNER_HOURS)
        )
        return self.failing and recent


# -- noting outcomes ------------------------------------------------------------------------

_PENDING = "govhall.plugin_outcomes"
_LISTENING = "govhall.plugin_outcomes.listening"
_lock = threading.Lock()
#: what this process last wrote for a key: True failing, False reset
_local: dict[tuple[uuid.UUID, str, str, str], bool] = {}


def failed(
    session: Session | None,
    tenant: Tenant,
    plugin: str,
    hook: str,
    message: str,
    *,
    vendor: str = "",
    counts_as: str = "",
) -> None:
    """Record a failure (``message`` already scrubbed of secrets): written after the
    caller's transaction ends, never inside it. ``counts_as`` names the health it counts
    towards when that is not ``hook``'s own (a failed receipt counts against sending)."""
    outcome = Outcome(
        scope_for(tenant), plugin, vendor, hook, False, message[:2000], utcnow(), counts_as
    )
    with _lock:
        _local[(tenant.id, plugin, vendor, outcome.health_hook)] = True
    _note(session, outcome)


def succeeded(
    session: Session | None, tenant: Tenant, plugin: str, hook: str, *, vendor: str = ""
) -> None:
    """Record a success — written only if a failure of this plugin there is on record."""
    key = (tenant.id, plugin, vendor, hook)
    with _lock:
        local = _local.get(key)
    if not local and (plugin, vendor, hook) not in _on_record(session, tenant):
        return
    with _lock:
        _local[key] = False
    _note(session, Outcome(scope_for(tenant), plugin, vendor, hook, True, "", utcnow()))


def _on_record(session: Session | None, tenant: Tenant) -> frozenset[tuple[str, str, str]]:
    """What of the tenant's plugins has a failure on record (remembered for a moment)."""
    if session is None:
        return frozenset()

    def load() -> frozenset[tuple[str, str, str]]:
        rows = session.execute(
            select(PluginHealth.plugin, PluginHealth.vendor, PluginHealth.hook).where(
                PluginHealth.tenant_id == tenant.id, PluginHealth.failures > 0
            )
        )
        return frozenset((plugin, vendor, hook) for plugin, vendor, hook in rows)

    try:
        return remembered(session, ("plugin-health", tenant.id), load)
    except Exception:  # a session without this tenant's scope: only what we wrote ourselves
        return frozenset()


def _note(session: Session | None, outcome: Outcome) -> None:
    if session is None or not session.in_transaction():
        _write([outcome], _database_of(session))
        return
    session.info.setdefault(_PENDING, []).append(outcome)
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_transaction_end", _after_transaction_end)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint or subtransaction: the caller's transaction goes on
    outcomes = session.info.pop(_PENDING, None)
    if outcomes:
        _write(outcomes, _database_of(session))


def _database_of(session: Session | None) -> Database:
    database = session.info.get("database") if session is not None else None
    return database if isinstance(database, Database) else get_database()


def _write(outcomes: Iterable[Outcome], database: Database) -> None:
    """Each tenant's outcomes in one short transaction; a failure to record is logged (the
    caller's work must not fail because its plugin's failure could not be written)."""
    by_scope: dict[Scope, list[Outcome]] = {}
    for outcome in outcomes:
        by_scope.setdefault(outcome.scope, []).append(outcome)
    for scope, batch in by_scope.items():
        try:
            with database.session(scope) as session:
                for outcome in batch:
                    _apply(session, outcome)
                session.commit()
        except Exception:
            log.exception("could not record %d plugin outcome(s)", len(batch))


def _apply(session: Session, outcome: Outcome) -> None:
    tenant_id = outcome.scope.tenant_id
    if outcome.ok:
        session.execute(
            update(PluginHealth)
            .where(
                PluginHealth.tenant_id == tenant_id,
                PluginHealth.plugin == outcome.plugin,
                PluginHealth.vendor == outcome.vendor,
                PluginHealth.hook == outcome.health_hook,
            )
            .values(failures=0, failing_since=None, last_ok_at=outcome.at)
        )
        return
    session.add(
        PluginError(
            tenant_id=tenant_id,
            plugin=outcome.plugin,
            vendor=outcome.vendor,
            hook=outcome.hook,
            message=outcome.message,
            created_at=outcome.at,
        )
    )
    # one statement, so that two processes failing at once both count
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    row = insert(PluginHealth).values(
        tenant_id=tenant_id,
        plugin=outcome.plugin,
        vendor=outcome.vendor,
        hook=outcome.health_hook,
        failures=1,
        failing_since=outcome.at,
        last_error_at=outcome.at,
    )
    session.execute(
        row.on_conflict_do_update(
            index_elements=["tenant_id", "plugin", "vendor", "hook"],
            set_={
                "failures": PluginHealth.failures + 1,
                "failing_since": func.coalesce(
                    PluginHealth.failing_since, row.excluded.failing_since
                ),
                "last_error_at": row.excluded.last_error_at,
            },
        )
    )
    session.execute(
        delete(PluginError).where(
            PluginError.tenant_id == tenant_id,
            PluginError.plugin == outcome.plugin,
            PluginError.created_at < outcome.at - timedelta(days=KEEP_DAYS),
        )
    )


# -- reading ---------------------------------------------------------------------------------


def health_of(session: Session, tenant: Tenant) -> list[Health]:
    """Every plugin and vendor of the tenant with a failure or success on record."""
    rows = session.scalars(
        select(PluginHealth)
        .where(PluginHealth.tenant_id == tenant.id)
        .order_by(PluginHealth.plugin, PluginHealth.vendor, PluginHealth.hook)
    )
    return [
        Health(
            plugin=row.plugin,
            vendor=row.vendor,
            hook=row.hook,
            failures=row.failures,
            failing_since=row.failing_since,
            last_error_at=row.last_error_at,
            last_ok_at=row.last_ok_at,
        )
        for row in rows
    ]


def vendor_health(session: Session, tenant: Tenant) -> dict[tuple[str, str], Health]:
    """The sending health of each SMS vendor on record as failing, by (plugin, vendor):
    remembered for a moment, for the failover order of every message."""

    def load() -> dict[tuple[str, str], Health]:
        return {
            (h.plugin, h.vendor): h
            for h in health_of(session, tenant)
            if h.vendor and h.hook == "send_sms" and h.failing
        }

    try:
        return remembered(session, ("plugin-vendor-health", tenant.id), load)
    except Exception:  # a session without this tenant's scope
        return {}


def forget(session: Session, tenant: Tenant, plugin: str) -> None:
    """Start the plugin's health afresh (in the caller's transaction): it was switched on or
    off, or its configuration changed. Its recorded errors stay."""
    session.execute(
        delete(PluginHealth).where(
            PluginHealth.tenant_id == tenant.id, PluginHealth.plugin == plugin
        )
    )
    with _lock:
        for key in [k for k in _local if k[0] == tenant.id and k[1] == plugin]:
            del _local[key]


def is_failing(session: Session, tenant: Tenant, plugin: str) -> bool:
    """Whether anything the plugin does for the tenant is failing."""
    return any(h.failing for h in health_of(session, tenant) if h.plugin == plugin)


def forget_local() -> None:
    """Tests start from what the database says."""
    with _lock:
        _local.clear()
