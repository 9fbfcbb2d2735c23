"""Recording and verifying administrative changes (审计日志).

Every change an administrator makes — a tenant's status or branding, a plugin or its config,
staff and their roles, org units, the catalog, the calendar, process definitions — calls
:func:`record` inside the same transaction as the change, so the entry exists exactly when the
change does. Secrets never reach an entry: pass configs through the plugin layer's ``redact``
first, and personal data (phone numbers, ID numbers) masked.

The entries of one tenant form a chain (``hash = sha256(prev_hash || canonical JSON)``) whose
head is kept in :class:`AuditHead` and locked while appending, so concurrent changes queue
rather than fork; :func:`verify_chain` finds an edited, removed or inserted entry.
"""

from __future__ import annotations

import contextvars
import hashlib
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry, AuditHead
from core.db import utcnow

__all__ = [
    "AUDIT_ACTIONS",
    "AuditActor",
    "BACKGROUND_ACTOR",
    "ChainReport",
    "GENESIS",
    "ORIGIN_KEY",
    "SYSTEM_ACTOR",
    "action_label",
    "changed",
    "origin",
    "record",
    "set_origin",
    "verify_chain",
]

GENESIS = "0" * 64
#: session.info key: where the session's changes come from (the web layer puts the client's
#: address there for each request)
ORIGIN_KEY = "govhall.audit.origin"

#: what each recorded action is called on the audit page and in its export
AUDIT_ACTIONS: dict[str, str] = {
    "tenant.onboard": "开通地区",
    "tenant.status": "变更服务状态",
    "tenant.branding": "修改门户外观",
    "tenant.settings": "修改设置",
    "tenant.copy_setup": "复制同级地区配置",
    "tenant.enter": "省级管理员进入下级地区管理",
    "tenant.leave": "省级管理员离开下级地区管理",
    "plugin.enable": "启用插件",
    "plugin.disable": "停用插件",
    "plugin.config": "修改插件配置",
    "staff.create": "新增工作人员",
    "staff.update": "修改工作人员",
    "staff.roles": "调整角色",
    "staff.disable": "停用账号",
    "staff.enable": "启用账号",
    "staff.password_reset": "重置密码",
    "staff.totp_required": "要求动态口令",
    "staff.sessions_ended": "强制下线",
    "staff.delegation": "授权首席代表",
    "unit.create": "新增机构",
    "unit.update": "修改机构",
    "unit.move": "调整上级机构",
    "unit.close": "撤销机构",
    "catalog.adopt": "认领标准事项",
    "catalog.item": "修改事项",
    "catalog.publish": "发布事项",
    "catalog.import": "导入事项",
    "calendar.change": "修改工作日历",
    "process.change": "修改办理流程",
    "seal.upload": "上传印章",
    "announcement.change": "修改公告",
    "pack.apply": "应用配置包",
}


def action_label(action: str) -> str:
    return AUDIT_ACTIONS.get(action, action)


class AuditActor(Protocol):
    """Who made a change: a :class:`core.identity.Principal` fits, or :data:`SYSTEM_ACTOR`."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> uuid.UUID | None: ...
    @property
    def name(self) -> str: ...
    @property
    def tenant_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True)
class _Actor:
    kind: str
    id: uuid.UUID | None
    name: str
    tenant_id: uuid.UUID | None = None


#: changes made by the command line or a pack (no person signed in)
SYSTEM_ACTOR: AuditActor = _Actor("cli", None, "命令行")
#: changes made by background work (a catalog import finishing, a scheduled publication)
BACKGROUND_ACTOR: AuditActor = _Actor("system", None, "系统后台")

_origin: contextvars.ContextVar[str] = contextvars.ContextVar("govhall_audit_origin", default="")


@contextmanager
def origin(value: str) -> Iterator[None]:
    """Where the changes made inside come from: the web layer sets the client's address."""
    token = _origin.set(value[:64])
    try:
        yield
    finally:
        _origin.reset(token)


def set_origin(value: str) -> None:
    """Set the origin for the rest of this context (a request handled in its own task)."""
    _origin.set(value[:64])


class _Tenantish(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def province_id(self) -> uuid.UUID: ...


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _digest(prev: str, entry: AuditEntry) -> str:
    body = {
        "tenant": str(entry.tenant_id),
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": [entry.actor_kind, entry.actor_id, entry.actor_name],
        "actor_tenant": str(entry.actor_tenant_id or ""),
        "origin": entry.origin,
        "action": entry.action,
        "target": [entry.target_type, entry.target_id, entry.target_label],
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }
    canonical = msgspec.json.encode(body, order="sorted")
    return hashlib.sha256(prev.encode() + canonical).hexdigest()


def _builtins(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out = msgspec.to_builtins(dict(value), str_keys=True)
    return out if isinstance(out, dict) else None


def record(
    session: Session,
    tenant: _Tenantish,
    actor: AuditActor | None,
    action: str,
    *,
    target_type: str,
    target_id: str | uuid.UUID = "",
    target_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to ``tenant``'s audit chain (the caller commits with its change).

    ``actor`` is the principal acting (None: the command line). A principal whose own tenant
    is not ``tenant`` (a province admin in a county) is recorded with its home tenant.
    """
    who = actor or SYSTEM_ACTOR
    head = session.scalar(
        select(AuditHead)
        .where(AuditHead.province_id == tenant.province_id, AuditHead.tenant_id == tenant.id)
        .with_for_update()
    )
    if head is None:
        head = AuditHead(
            province_id=tenant.province_id, tenant_id=tenant.id, count=0, last_hash=GENESIS
        )
        session.add(head)
    home = who.tenant_id
    entry = AuditEntry(
        province_id=tenant.province_id,
        tenant_id=tenant.id,
        seq=head.count + 1,
        at=(at or utcnow()).astimezone(UTC),
        actor_kind=who.kind,
        actor_id=str(who.id or ""),
        actor_name=who.name[:120],
        actor_tenant_id=home if home is not None and home != tenant.id else None,
        origin=str(
            session.info.get(ORIGIN_KEY) or _origin.get() or ("命令行" if actor is None else "")
        )[:64],
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:80],
        target_label=target_label[:200],
        before=_builtins(before),
        after=_builtins(after),
        reason=reason[:500],
        prev_hash=head.last_hash,
    )
    entry.hash = _digest(entry.prev_hash, entry)
    head.count, head.last_hash = entry.seq, entry.hash
    session.add(entry)
    return entry


class ChainReport(msgspec.Struct):
    intact: bool
    entries: int
    #: the first entry that does not verify (1-based), if any
    broken_at: int | None = None
    problem: str = ""


def verify_chain(session: Session, tenant: _Tenantish) -> ChainReport:
    """Walk ``tenant``'s chain from the start: an edited, missing or cut entry is named."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.province_id == tenant.province_id, AuditEntry.tenant_id == tenant.id)
        .order_by(AuditEntry.seq)
    ).all()
    head = session.scalar(
        select(AuditHead).where(
            AuditHead.province_id == tenant.province_id, AuditHead.tenant_id == tenant.id
        )
    )
    prev = GENESIS
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            return ChainReport(False, len(entries), expected, "有一条记录缺失")
        if entry.prev_hash != prev:
            return ChainReport(False, len(entries), expected, "与上一条记录的链接不符")
        if _digest(prev, entry) != entry.hash:
            return ChainReport(False, len(entries), expected, "记录写入后被改动")
        prev = entry.hash
    count, last = (head.count, head.last_hash) if head else (0, GENESIS)
    if len(entries) != count or prev != last:
        return ChainReport(False, len(entries), len(entries) + 1, "末尾的记录被删除")
    return ChainReport(True, len(entries))
