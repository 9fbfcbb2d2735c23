"""API: what anyone may ask without signing in — the e-license signing keys, verification of
a notice or e-license by its code, and the progress query by case number and query code.
:func:`progress_out` and :func:`verify_out` are shared with the public pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from sqlalchemy.orm import Session

from core.cases import (
    licenses,
    queries,
)
from core.errors import NotFound
from core.tenancy import Tenant
from web.api.case_schemas import (
    KeyOut,
    ProgressOut,
    ProgressStep,
    VerifyOut,
    mask_name,
)
from web.api.scoped import anyone
from web.clients import client_address


class CasePublicApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["cases"]

    # -- public -----------------------------------------------------------------------------

    @get(
        "/license-keys",
        summary="Public keys that sign this tenant's e-licenses (Ed25519)",
        sync_to_thread=True,
        **anyone(),
    )
    def keys(self, db: Session) -> list[KeyOut]:
        return [
            KeyOut(
                key_id=k.key_id,
                algorithm="Ed25519",
                public_key=k.public_key,
                active=k.active,
                created_at=k.created_at,
                retired_at=k.retired_at,
            )
            for k in licenses.public_keys(db)
        ]

    @get(
        "/verify/{code:str}",
        summary="Verify a notice or e-license by its code (public)",
        sync_to_thread=True,
        **anyone(),
    )
    def verify_code(self, db: Session, tenant: Tenant, code: str) -> VerifyOut:
        return verify_out(db, tenant, code)

    @get(
        "/progress",
        summary="Public progress query by case number and query code",
        sync_to_thread=True,
        **anyone(),
    )
    def progress(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        number: str,
        code: str,
    ) -> ProgressOut:
        try:
            case = queries.throttled_progress(db, tenant.id, number, code, client_address(request))
        except NotFound:
            db.commit()
            raise
        return progress_out(db, case)


def progress_out(db: Session, case: Any) -> ProgressOut:
    from core.cases.actions import STATE_LABELS
    from core.cases.engine import tasks_of

    return ProgressOut(
        number=case.number,
        item_name=case.item_name,
        state=case.state.value,
        state_label=STATE_LABELS[case.state.value],
        submitted_at=case.submitted_at,
        due_on=case.due_on,
        steps=[
            ProgressStep(
                name=t.name, state=t.state.value, started_on=t.started_on, finished_at=t.finished_at
            )
            for t in tasks_of(db, case)
        ],
    )


def verify_out(db: Session, tenant: Tenant, code: str) -> VerifyOut:
    found = queries.find_by_code(db, code)
    case = found["case"]
    if found["kind"] == "notice":
        n = found["notice"]
        return VerifyOut(
            valid=True,
            kind="notice",
            title=n.title,
            issuer=tenant.display_name,
            code=n.code,
            message=found["message"],
            case_number=case.number,
            issued_at=n.issued_at.isoformat(),
            holder=mask_name(case.applicant_name),
            sha256=n.sha256,
            department=found["department"],
        )
    lic = found["license"]
    return VerifyOut(
        valid=found["valid"],
        kind="license",
        title=lic.title,
        issuer=tenant.display_name,
        code=lic.code,
        message=found["message"],
        case_number=case.number if case else "",
        issued_at=lic.issued_on.isoformat(),
        holder=mask_name(lic.holder_name),
        number=lic.number,
        department=found["department"],
    )
