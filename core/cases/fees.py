"""Fees (统一收费, 以费控证): a payment notice on acceptance for an item with fees, payment at
the counter or through a payment plugin, no certificate while unpaid, a refund on refusal."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock
from core.cases.documents import issue_notice
from core.cases.models import Case, CasePayment, CaseState, FeeStatus
from core.cases.trail import Actor, append_event
from core.errors import Conflict, InvalidInput
from core.tenancy import Tenant

__all__ = ["bill", "fee_total", "record_payment", "refund_if_paid", "require_paid"]


def fee_total(content: dict[str, Any]) -> Decimal:
    return sum((Decimal(f.get("amount") or "0") for f in content.get("fees") or []), Decimal(0))


def _yuan(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def bill(session: Session, tenant: Tenant, case: Case) -> bool:
    """On acceptance: a payment notice listing each fee with its basis; free items skip."""
    total = fee_total(case.content)
    if total <= 0:
        case.fee_status, case.fee_total = FeeStatus.free, "0"
        return False
    case.fee_status, case.fee_total = FeeStatus.unpaid, _yuan(total)
    rows = [["收费项目", "金额（元）", "收费依据"]] + [
        [f["name"], _yuan(Decimal(f.get("amount") or "0")), f.get("basis") or ""]
        for f in case.content.get("fees") or []
    ]
    issue_notice(
        session,
        tenant,
        case,
        "payment",
        [
            f"您申请的事项需缴纳费用合计 {case.fee_total} 元，明细及收费依据如下。",
            "可在窗口缴纳或通过网上缴费；费用缴清后方可领取证照（以费控证）。",
        ],
        table=rows,
        extra=[("应缴金额", f"{case.fee_total} 元")],
    )
    return True


def require_paid(case: Case) -> None:
    if case.fee_status is FeeStatus.unpaid:
        raise Conflict(f"费用 {case.fee_total} 元未缴清，不能发证（以费控证）", field="fee_status")


def record_payment(
    session: Session,
    tenant: Tenant,
    case: Case,
    actor: Actor,
    amount: str,
    method: str,
    reference: str,
) -> CasePayment:
    """Record the full payment (the caller has checked who may)."""
    if case.fee_status is not FeeStatus.unpaid:
        raise Conflict(f"该办件无待缴费用（{case.fee_status.value}）", field="fee_status")
    if case.state in (CaseState.refused, CaseState.withdrawn):
        raise Conflict("办件已终止，不能缴费", field="state")
    try:
        paid = Decimal(amount)
    except InvalidOperation:
        raise InvalidInput("金额格式不正确", field="amount") from None
    if paid != Decimal(case.fee_total):
        raise InvalidInput(f"应缴 {case.fee_total} 元，实缴 {amount} 元", field="amount")
    reference = reference.strip()[:80]
    taken = session.scalar(
        select(Case.number)
        .join(CasePayment, CasePayment.case_id == Case.id)
        .where(CasePayment.method == method, CasePayment.reference == reference)
    )
    if taken is not None:  # one receipt pays one case: a typo must not read as a race
        raise Conflict(f"票据号 {reference} 已登记在办件 {taken}", field="reference")
    row = CasePayment(
        tenant_id=tenant.id,
        case_id=case.id,
        kind="payment",
        amount=_yuan(paid),
        method=method,
        reference=reference,
        recorded_by=actor.name,
        at=clock.now(),
    )
    session.add(row)
    case.fee_status = FeeStatus.paid
    append_event(
        session,
        case,
        actor,
        "pay",
        from_state=case.state.value,
        data={"amount": row.amount, "method": method, "reference": row.reference},
    )
    return row


def refund_if_paid(
    session: Session, tenant: Tenant, case: Case, actor: Actor, reason: str
) -> CasePayment | None:
    if case.fee_status is not FeeStatus.paid:
        if case.fee_status is FeeStatus.unpaid:
            case.fee_status = FeeStatus.free  # nothing is owed for a case that ended
        return None
    row = CasePayment(
        tenant_id=tenant.id,
        case_id=case.id,
        kind="refund",
        amount=case.fee_total,
        method="refund",
        reference=f"refund-{case.number}",
        recorded_by=actor.name,
        at=clock.now(),
    )
    session.add(row)
    case.fee_status = FeeStatus.refunded
    append_event(
        session,
        case,
        actor,
        "refund",
        from_state=case.state.value,
        reason=reason,
        data={"amount": case.fee_total},
    )
    return row
