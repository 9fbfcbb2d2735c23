"""Texts to the applicant about their case, through the outbox (written in the transaction
of the change they report)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.cases.models import Case
from core.notify.outbox import enqueue_sms
from core.tenancy import Tenant

__all__ = ["notify"]


def notify(session: Session, tenant: Tenant, case: Case, template: str, **params: Any) -> None:
    """Queue SMS ``template`` to the applicant, with the case's item and number."""
    params = {"item": case.item_name, "number": case.number, **params}
    enqueue_sms(session, tenant, case.applicant_phone, template, params, case_id=case.id)
