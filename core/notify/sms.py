"""SMS: message templates, and immediate sending with failover (the vendor interface plugins
implement is in :mod:`core.notify.types`).

Chinese SMS vendors send only pre-approved templates under an approved signature, so every
message names a template (``otp``, ``case_received`` …) that a tenant maps to the vendor's
template code; the rendered text is what console and generic gateways send.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, time
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.calendar import TZ
from core.db import utcnow
from core.errors import GovhallError
from core.notify.outbox import OutboxMessage
from core.notify.routing import sending_vendors, try_vendors
from core.notify.types import NoSmsVendor, SendResult, SmsMessage
from core.tenancy import Tenant

__all__ = [
    "DEFAULT_TEMPLATES",
    "render_sms",
    "send_sms_now",
    "sent_today",
    "signature_of",
]

#: parameters never kept on the row a message sent at once leaves (the sign-in code itself)
_SECRET_PARAMS = frozenset({"code"})

log = logging.getLogger("govhall.notify")

DEFAULT_TEMPLATES: dict[str, str] = {
    "otp": "您的验证码为{code}，{minutes}分钟内有效，请勿泄露给他人。",
    "consent": (
        "{agent}正在为您代办“{item}”，授权验证码{code}，{minutes}分钟内有效。"
        "同意代办请将验证码告诉经办人；如非本人申请，请勿告知。"
    ),
    "case_received": "您申请的“{item}”已收件，办件编号{number}，查询码{query_code}。",
    "case_correction": "您申请的“{item}”（{number}）需补正材料，请查看一次性补正告知书并一次补齐。",
    "case_accepted": "您申请的“{item}”（{number}）已受理，承诺于{due_on}前办结。",
    "case_refused": "您申请的“{item}”（{number}）不予受理，原因：{reason}",
    "case_payment": "您申请的“{item}”（{number}）需缴费{amount}元，请按缴费通知书缴纳。",
    "case_completed": "您申请的“{item}”（{number}）已办结，结果：{decision}。{pickup}",
    "case_shipped": (
        "您申请的“{item}”（{number}）办理结果已交{carrier}寄出，运单号{tracking_number}。"
    ),
    "case_delivered": "您申请的“{item}”（{number}）结果已送达（{method}）。",
    "case_pickup": (
        "您申请的“{item}”（{number}）办理结果改为窗口领取，请携带有效身份证件到政务服务中心领取。"
    ),
    "rating_request": (
        "您申请的“{item}”（{number}）已办结。请直接回复0至100的数字为本次服务评分："
        "100非常满意，80满意，60基本满意，30不满意，0非常不满意。"
    ),
    "rating_thanks": "感谢您为“{item}”（{number}）评分{score}分，我们会继续改进服务。",
    "rating_thanks_low": (
        "感谢您为“{item}”（{number}）评分{score}分。很抱歉未让您满意，工作人员将尽快回访。"
    ),
    "card_yellow": "【催办】办件{number}（{item}）“{step}”环节将于{due_on}到期，请抓紧办理。",
    "card_red": (
        "【红牌】办件{number}（{item}）“{step}”环节已超过办理时限（{due_on}），请立即办理。"
    ),
    "card_manual": "【督办】办件{number}（{item}）“{step}”环节：{reason}",
    "follow_up": "【回访】办件{number}（{item}）收到{kind}，请及时处理。",
    "task_assigned": "【待办】办件{number}（{item}）“{step}”环节待您办理，办理时限{due_on}。",
    "consult_answered": (
        "您的{kind}（编号{number}）已答复，请登录网上办事大厅在“我的咨询与投诉”中查看。"
    ),
    "consult_yellow": "【催办】{kind}{number}（{item}）将于{due_on}到期，请抓紧答复。",
    "consult_red": "【红牌】{kind}{number}（{item}）已超过答复时限（{due_on}），请立即答复。",
}


def signature_of(tenant: Tenant) -> str:
    return str(tenant.settings.get("sms_signature") or f"【{tenant.display_name}】")


def render_sms(tenant: Tenant, template: str, params: dict[str, Any]) -> str:
    templates = {**DEFAULT_TEMPLATES, **tenant.settings.get("sms_templates", {})}
    try:
        body = str(templates[template]).format(**params)
    except KeyError as exc:
        raise GovhallError(f"unknown SMS template or parameter: {exc}") from exc
    return signature_of(tenant) + body


def send_sms_now(
    session: Session, tenant: Tenant, phone: str, template: str, params: dict[str, Any]
) -> SendResult:
    """Send at once through the tenant's vendors, healthy and highest priority first,
    failing over (see ``core.notify.routing``); every vendor's failure is recorded for the
    tenant (core/plugins/health.py).

    Used for sign-in codes, which are worthless once late; everything else goes through
    the outbox. A message sent leaves an outbox row in the caller's transaction, already
    ``sent`` and without the code, whose id was the vendor reference: the vendor's delivery
    receipt moves it to ``delivered`` or ``failed`` like any other message's.
    """
    vendors = sending_vendors(session, tenant)
    if not vendors:
        raise NoSmsVendor("本地区尚未启用短信服务")
    message_id = uuid.uuid4()
    message = SmsMessage(
        id=str(message_id),
        tenant_slug=tenant.slug,
        phone=phone,
        template=template,
        params=params,
        signature=signature_of(tenant),
        text=render_sms(tenant, template, params),
    )
    result, sender, errors = try_vendors(tenant.id, vendors, message)
    if sender is not None:
        now = utcnow()
        session.add(
            OutboxMessage(
                tenant_id=tenant.id,
                id=message_id,
                template=template,
                phone=phone,
                params={k: v for k, v in params.items() if k not in _SECRET_PARAMS},
                state="sent",
                attempts=1,
                next_attempt_at=now,
                vendor=str(sender.name)[:40],
                vendor_ref=str(result.vendor_ref or "")[:80] or None,
                sent_at=now,
                created_at=now,
            )
        )
        return cast(SendResult, result)
    log.warning("SMS vendors failed for %s: %s", tenant.slug, "; ".join(errors))
    # the vendors' own words are for the log: a citizen learns only that it failed
    raise NoSmsVendor("短信发送失败，请稍后重试")


def sent_today(session: Session, tenant: Tenant, template: str = "otp") -> dict[str, int]:
    """How the messages of ``template`` sent since midnight (Beijing time) fared, by state:
    ``sent`` (no receipt yet), ``delivered``, ``failed``."""
    midnight = datetime.combine(utcnow().astimezone(TZ).date(), time(), tzinfo=TZ)
    rows = session.execute(
        select(OutboxMessage.state, func.count())
        .where(
            OutboxMessage.tenant_id == tenant.id,
            OutboxMessage.template == template,
            OutboxMessage.created_at >= midnight,
        )
        .group_by(OutboxMessage.state)
    )
    counts = {"sent": 0, "delivered": 0, "failed": 0}
    for state, count in rows:
        counts[str(state)] = counts.get(str(state), 0) + int(count)
    return counts
