"""API: online payment of a case's fees — start it (the applicant) and receive the payment
provider's signed notice; a courier's tracking callbacks (public; the plugin vouches for
each)."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, post
from litestar.params import Parameter
from sqlalchemy.orm import Session

from core.cases import payments, service
from core.identity import Principal
from core.tenancy import Tenant
from web.api.scoped import anyone, needs
from web.auth import require

__all__ = ["PaymentsApi"]

#: a provider's notice is small; anything larger is not one
MAX_NOTICE_BYTES = 64 * 1024


class PaymentOut(msgspec.Struct):
    provider: str
    pay_url: str


class NoticeAck(msgspec.Struct):
    ok: bool
    case: str
    recorded: bool


class TrackingAck(msgspec.Struct):
    success: bool
    cases: list[str]


class PaymentsApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["payments"]

    @post(
        "/cases/{number:str}/payment",
        summary="Start paying a case's fees online: returns the provider's payment page",
        sync_to_thread=True,
        status_code=200,
        **needs("cases:write"),
    )
    def start(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str = Parameter(description="办件编号"),
    ) -> PaymentOut:
        """409 when nothing is owed or no payment plugin is enabled for the tenant."""
        answer = payments.start_online(db, tenant, require(principal), number)
        return PaymentOut(**answer)

    @post(
        "/payments/{provider:str}/notify",
        summary="A payment provider's asynchronous notice (no sign-in: the plugin checks it)",
        status_code=200,
        request_max_body_size=MAX_NOTICE_BYTES,
        **anyone(),
    )
    async def notify(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        provider: str,
    ) -> NoticeAck:
        """The raw body goes to the plugins as received, whatever its content type (the
        signature is over those bytes). 404 for a provider no enabled plugin knows, 422 for
        a notice whose signature does not verify or whose amount is wrong; a repeated notice
        answers ``recorded: false`` and changes nothing."""
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}

        def record() -> NoticeAck:
            case, recorded = payments.confirm_online(db, tenant, provider, headers, body)
            if recorded:
                service.commit(db)
            return NoticeAck(ok=True, case=case.number, recorded=recorded)

        return await anyio.to_thread.run_sync(record)

    @post(
        "/couriers/{carrier:str}/tracking",
        summary="A courier's tracking callback (no sign-in: the plugin checks it)",
        status_code=200,
        request_max_body_size=MAX_NOTICE_BYTES,
        **anyone(),
    )
    async def tracking(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        carrier: str,
    ) -> TrackingAck:
        """404 for a carrier no enabled plugin knows, 422 for a callback whose signature does
        not verify; events already recorded are not recorded twice."""
        from core.cases.delivery import apply_tracking

        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}

        def record() -> TrackingAck:
            touched = apply_tracking(db, tenant, carrier, headers, body)
            service.commit(db)
            return TrackingAck(success=True, cases=list(dict.fromkeys(touched)))

        return await anyio.to_thread.run_sync(record)
