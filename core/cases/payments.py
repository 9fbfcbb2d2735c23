"""Online payment (网上缴费) through the ``create_payment`` and ``confirm_payment`` hooks.

The applicant is sent to the provider's page; the provider's signed notice is the only thing
that records a payment, once per transaction id, for exactly the amount owed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import fees
from core.cases.access import get_case, is_filer
from core.cases.bundles import settle
from core.cases.models import Case, CasePayment, FeeStatus
from core.cases.trail import Actor
from core.config import get_settings
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity import Principal
from core.plugins import get_plugin_manager
from core.tenancy import Tenant

__all__ = ["confirm_online", "online_available", "start_online"]


def _hooks(session: Session, tenant: Tenant) -> Any:
    return get_plugin_manager().for_tenant(session, tenant)


def online_available(session: Session, tenant: Tenant) -> bool:
    """Whether the tenant has a payment plugin enabled (the portal shows 网上缴费)."""
    return bool(_hooks(session, tenant).implements("create_payment"))


def start_online(
    session: Session, tenant: Tenant, principal: Principal, number: str
) -> dict[str, str]:
    """Ask the tenant's payment plugins for a payment page; returns provider and pay_url."""
    case = get_case(session, number, principal)
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以缴费")
    if case.fee_status is not FeeStatus.unpaid:
        raise Conflict(f"该办件无待缴费用（{case.fee_status.value}）", field="fee_status")
    base = get_settings().base_url.rstrip("/")
    payment = {
        "reference": case.number,
        "amount": case.fee_total,
        "items": [
            {"name": f["name"], "amount": f.get("amount") or "0", "basis": f.get("basis") or ""}
            for f in case.content.get("fees") or []
        ],
        "payer": case.applicant_name,
        "notify_url": f"{base}/api/v1/t/{tenant.slug}/payments/{{provider}}/notify",
        "return_url": f"{base}/t/{tenant.slug}/my/cases/{case.number}",
    }
    hooks = _hooks(session, tenant)
    answer = hooks.first("create_payment", payment=payment)  # one order
    url = str(answer.get("pay_url") or "") if isinstance(answer, dict) else ""
    # never send the applicant to a javascript: or data: address
    if url and urlsplit(url).scheme in ("https", "http"):
        return {"provider": str(answer.get("provider") or ""), "pay_url": url}
    if hooks.implements("create_payment"):  # offered, but the provider failed just now
        raise Conflict(
            "网上缴费暂时无法使用，请稍后再试，或到窗口缴纳（本次未产生任何费用）",
            field="payment",
        )
    raise Conflict("本地区未开通网上缴费，请到窗口缴纳", field="payment")


def confirm_online(
    session: Session, tenant: Tenant, provider: str, headers: dict[str, str], body: bytes
) -> tuple[Case, bool]:
    """Record the payment a verified provider notice reports; returns (case, newly recorded).

    The caller commits. A notice nobody vouches for is a 404 (the provider is unknown here);
    a forged one or a wrong amount 422; a second notice of the same transaction changes
    nothing."""
    answer = _hooks(session, tenant).first(
        "confirm_payment", provider=provider, headers=headers, body=body
    )
    if not answer:
        raise NotFound("未知的支付渠道", field="provider")
    if answer.get("error"):
        raise InvalidInput(f"支付通知验证失败：{answer['error']}", field="signature")
    reference = str(answer.get("reference") or "")
    transaction = str(answer.get("transaction_id") or "")[:70]
    if not reference or not transaction:
        raise InvalidInput("支付通知缺少办件编号或交易号", field="reference")
    case = session.scalars(select(Case).where(Case.number == reference).with_for_update()).first()
    if case is None:
        raise NotFound("办件不存在", field="reference")
    method = f"online:{provider}"[:40]
    seen = session.scalars(
        select(CasePayment).where(
            CasePayment.case_id == case.id,
            CasePayment.method == method,
            CasePayment.reference == transaction,
        )
    ).first()
    if seen is not None:
        return case, False
    actor = Actor("system", provider, f"网上缴费（{provider}）")
    fees.record_payment(
        session, tenant, case, actor, str(answer.get("amount")), method, transaction
    )
    if case.bundle_code:  # a bundle's unified fee: the parent may be done now
        settle(session, tenant, case)
    return case, True
