"""SMS: message templates, and immediate sending with failover (the vendor interface plugins
implement is in :mod:`core.notify.types`).

Chinese SMS vendors send only pre-approved templates under an approved signature, so every
message names a template (``otp``, ``case_received`` …) that a tenant maps to the vendor's
template code; the rendered text is what console and generic gateways send.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from sqlalchemy.orm import Session

from core.errors import GovhallError
from core.notify.routing import try_vendors
from core.notify.types import NoSmsVendor, SendResult, SmsMessage, SmsVendor
from core.plugins import get_plugin_manager
from core.tenancy import Tenant

__all__ = ["DEFAULT_TEMPLATES", "render_sms", "send_sms_now", "signature_of"]

log = logging.getLogger("govhall.notify")

DEFAULT_TEMPLATES: dict[str, str] = {
    "otp": "您的验证码为{code}，{minutes}分钟内有效，请勿泄露给他人。",
    "case_received": "您申请的“{item}”已收件，办件编号{number}，查询码{query_code}。",
    "case_correction": "您申请的“{item}”（{number}）需补正材料，请查看一次性补正告知书并一次补齐。",
    "case_accepted": "您申请的“{item}”（{number}）已受理，承诺于{due_on}前办结。",
    "case_refused": "您申请的“{item}”（{number}）不予受理，原因：{reason}",
    "case_payment": "您申请的“{item}”（{number}）需缴费{amount}元，请按缴费通知书缴纳。",
    "case_completed": "您申请的“{item}”（{number}）已办结，结果：{decision}。",
    "case_shipped": (
        "您申请的“{item}”（{number}）办理结果已交{carrier}寄出，运单号{tracking_number}。"
    ),
    "case_delivered": "您申请的“{item}”（{number}）结果已送达（{method}）。",
    "rating_request": (
        "您申请的“{item}”（{number}）已办结。请直接回复0至100之间的数字为本次服务评分"
        "（100为非常满意）。"
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
    failing over (see ``core.notify.routing``).

    Used for sign-in codes, which are worthless once late; everything else goes through
    the outbox.
    """
    hooks = get_plugin_manager().for_tenant(session, tenant)
    vendors: list[SmsVendor] = [v for group in hooks.call("register_sms_vendors") for v in group]
    if not vendors:
        raise NoSmsVendor("本地区尚未启用短信服务")
    message = SmsMessage(
        id=str(uuid.uuid4()),
        tenant_slug=tenant.slug,
        phone=phone,
        template=template,
        params=params,
        signature=signature_of(tenant),
        text=render_sms(tenant, template, params),
    )
    result, sender, errors = try_vendors(tenant.id, vendors, message)
    if sender is not None:
        return cast(SendResult, result)
    log.warning("SMS vendors failed for %s: %s", tenant.slug, "; ".join(errors))
    # the vendors' own words are for the log: a citizen learns only that it failed
    raise NoSmsVendor("短信发送失败，请稍后重试")
