"""Which SMS vendor to try first, and whether a tenant may send now.

**Health.** Each (tenant, vendor) keeps an error rate: an exponential moving average of its
attempts (a failure counts 1, a success 0, each new attempt weighing ``ALPHA``) that decays
towards zero with a half-life of ``HALF_LIFE`` seconds while the vendor is not tried. A vendor
whose rate is at or above ``DEMOTE_AT`` is demoted: tried after every healthy one, whatever
its priority. So one failure does not demote a good vendor (damping), a vendor that keeps
failing is demoted after a few messages, and a demoted vendor drifts back once it has rested
— or at once when a message it is finally tried with succeeds. The rate lives in each
process; what every process shares is the durable record: each send through a vendor is
recorded for the tenant (:func:`sending_vendors`, a failure with its error, see
core/plugins/health.py), and a process that has not tried a vendor yet starts from that
record — a vendor on record as failing (three failures in a row) is demoted there too, at
the rate its run of failures would have given, decayed since its last failure.

**Limits.** Tenant settings ``sms_rate_per_minute`` and ``sms_daily_quota`` (unset: no limit)
count the messages the tenant's outbox sent in the last minute and since midnight, Beijing
time. A message over a limit is not an attempt: it waits for the next minute or the next day.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.calendar import TZ
from core.db import utcnow
from core.notify.outbox import OutboxMessage
from core.notify.types import SendResult, SmsMessage, SmsVendor
from core.plugins import TenantHooks, get_plugin_manager
from core.plugins.health import vendor_health
from core.tenancy import Tenant

__all__ = [
    "ALPHA",
    "DEMOTE_AT",
    "HALF_LIFE",
    "error_rate",
    "order",
    "record",
    "reset",
    "sending_vendors",
    "set_clock",
    "try_vendors",
    "wait_until",
]

ALPHA = 0.3
HALF_LIFE = 300.0
DEMOTE_AT = 0.5

log = logging.getLogger("govhall.notify")
V = TypeVar("V")
_lock = threading.Lock()
_health: dict[tuple[uuid.UUID, str], tuple[float, float]] = {}  # → (rate, at)
_clock: Callable[[], float] = time.monotonic


def set_clock(clock: Callable[[], float] | None) -> None:
    """Tests move time forward to watch a demoted vendor drift back."""
    global _clock
    _clock = clock or time.monotonic


def reset() -> None:
    with _lock:
        _health.clear()


def _decayed(rate: float, at: float, now: float) -> float:
    return float(rate * 0.5 ** (max(0.0, now - at) / HALF_LIFE))


def error_rate(tenant_id: uuid.UUID, vendor: str) -> float:
    with _lock:
        rate, at = _health.get((tenant_id, vendor), (0.0, 0.0))
    return _decayed(rate, at, _clock())


def record(tenant_id: uuid.UUID, vendor: str, ok: bool) -> None:
    now = _clock()
    with _lock:
        rate, at = _health.get((tenant_id, vendor), (0.0, now))
        rate = _decayed(rate, at, now) * (1 - ALPHA) + (0.0 if ok else ALPHA)
        _health[(tenant_id, vendor)] = (rate, now)


def seed(tenant_id: uuid.UUID, vendor: str, failures: int, seconds_ago: float) -> None:
    """Start this process's rate for a vendor it has not tried from the durable record:
    ``failures`` in a row, the last ``seconds_ago``."""
    rate = 1 - (1 - ALPHA) ** max(0, failures)
    now = _clock()
    with _lock:
        _health.setdefault((tenant_id, vendor), (rate, now - max(0.0, seconds_ago)))


def order(tenant_id: uuid.UUID, vendors: Sequence[V]) -> list[V]:
    """Healthy vendors by priority, then demoted ones by priority."""

    def key(v: Any) -> tuple[bool, int]:
        demoted = error_rate(tenant_id, v.name) >= DEMOTE_AT
        return demoted, -int(getattr(v, "priority", 0))

    return sorted(vendors, key=key)


def try_vendors(
    tenant_id: uuid.UUID, vendors: Sequence[Any], message: Any
) -> tuple[Any, Any | None, list[str]]:
    """Send through ``vendors`` in health-and-priority order until one accepts; each attempt
    counts towards that vendor's health. Returns (result, the vendor that sent, errors)."""
    errors: list[str] = []
    result = SendResult(ok=False, error="no vendor")
    for vendor in order(tenant_id, vendors):
        try:
            result = vendor.send(message)
        except Exception as exc:
            result = SendResult(ok=False, error=f"{exc.__class__.__name__}: {exc}")
        record(tenant_id, vendor.name, result.ok)
        if result.ok:
            return result, vendor, errors
        errors.append(f"{vendor.name}: {result.error}")
    return result, None, errors


class RecordedVendor:
    """A tenant's SMS vendor whose every send is recorded for the tenant: a refusal, an
    error or a timeout as the plugin's failure (scrubbed of its secrets), a success as the
    end of a run of failures."""

    def __init__(self, hooks: TenantHooks, plugin: str, vendor: SmsVendor) -> None:
        self.hooks, self.plugin, self.vendor = hooks, plugin, vendor
        self.name: str = str(vendor.name)
        self.priority: int = int(getattr(vendor, "priority", 0))

    def send(self, message: SmsMessage) -> SendResult:
        try:
            result = self.vendor.send(message)
        except Exception as exc:
            log.warning("SMS vendor %s raised: %r", self.name, exc)  # its own words: the log
            self._failed(_what_went_wrong(exc))
            raise
        if result.ok:
            self.hooks.record_success(self.plugin, "send_sms", vendor=self.name)
        else:
            self._failed(f"服务商拒绝发送：{result.error or '未说明原因'}")
        return result

    def _failed(self, detail: str) -> None:
        self.hooks.record_failure(self.plugin, "send_sms", detail, vendor=self.name)

    def __getattr__(self, name: str) -> Any:  # a vendor's own extras (its webhooks' parsers)
        return getattr(self.vendor, name)


def _what_went_wrong(exc: Exception) -> str:
    """An exception of a vendor's ``send()`` in the county admin's words: a network failure
    by its kind (the library's English stays in the log), anything else with its message
    (a plugin's own error, often already in Chinese)."""
    kind = exc.__class__.__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"服务商响应超时（{kind}）"
    if isinstance(exc, (httpx.ConnectError, httpx.NetworkError)):
        return f"无法连接服务商（{kind}）"
    if isinstance(exc, httpx.HTTPError):
        return f"与服务商通信出错（{kind}）"
    return f"发送时出错（{kind}: {exc}）"


def sending_vendors(session: Session, tenant: Tenant) -> list[RecordedVendor]:
    """The tenant's SMS vendors, each send recorded; this process's health of a vendor it
    has not tried yet starts from the durable record."""
    hooks = get_plugin_manager().for_tenant(session, tenant)
    vendors = [
        RecordedVendor(hooks, plugin, vendor)
        for plugin, group in hooks.call_named("register_sms_vendors")
        for vendor in group or []
    ]
    now = utcnow()
    for (_plugin, name), record in vendor_health(session, tenant).items():
        if record.last_error_at is not None:
            seconds = (now - record.last_error_at).total_seconds()
            seed(tenant.id, name, record.failures, seconds)
    return vendors


def wait_until(session: Session, tenant: Any, now: datetime) -> tuple[datetime, str] | None:
    """When the tenant's limits let the next message go, if not now: (time, reason)."""
    settings = tenant.settings or {}
    per_minute, per_day = settings.get("sms_rate_per_minute"), settings.get("sms_daily_quota")
    if not per_minute and not per_day:
        return None

    def sent_since(start: datetime) -> int:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.tenant_id == tenant.id,
                    OutboxMessage.channel == "sms",
                    OutboxMessage.sent_at >= start,
                )
            )
            or 0
        )

    if per_day:
        midnight = datetime.combine(now.astimezone(TZ).date(), dtime(), tzinfo=TZ)
        if sent_since(midnight) >= int(per_day):
            return midnight + timedelta(days=1), f"已达每日短信配额（{per_day} 条）"
    if per_minute and sent_since(now - timedelta(minutes=1)) >= int(per_minute):
        return now + timedelta(seconds=60), f"已达每分钟发送上限（{per_minute} 条）"
    return None
