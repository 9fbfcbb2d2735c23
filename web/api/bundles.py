"""API: joint-approval bundles (联审联办) — what the county offers, and applying for one with
the combined form (一表通)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Response
from sqlalchemy.orm import Session

from core.cases import bundles, service
from core.cases.service import Applicant, Consent
from core.errors import NotFound
from core.forms import json_schema
from core.identity import Principal
from core.tenancy import Tenant
from web.api.case_schemas import CaseOut, case_out
from web.api.scoped import anyone, needs
from web.auth import require

__all__ = ["BundlesApi"]


class BundleItemOut(msgspec.Struct):
    item: str
    required: bool


class BundleOut(msgspec.Struct):
    code: str
    name: str
    description: str
    overall_days: int
    items: list[BundleItemOut]
    form: list[dict[str, Any]]


class BundleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    form: dict[str, Any] = {}
    delivery: str = "pickup"
    address: str | None = None
    applicant: Applicant | None = None
    consent: Consent | None = None


def bundle_out(b: bundles.Bundle) -> BundleOut:
    return BundleOut(
        code=b.code,
        name=b.name,
        description=b.description,
        overall_days=b.overall_days,
        items=[BundleItemOut(item=i.item, required=i.required) for i in b.items],
        form=[msgspec.to_builtins(f) for f in b.form],
    )


class BundlesApi(Controller):
    path = "/api/v1/t/{slug:str}/bundles"
    tags = ["bundles"]

    @get(
        "/",
        summary="The joint-approval bundles this county offers (anyone)",
        sync_to_thread=True,
        **anyone(),
    )
    def list_bundles(self, db: Session, tenant: Tenant) -> list[BundleOut]:
        return [bundle_out(b) for b in bundles.bundles_of(db, tenant).values()]

    @get(
        "/{code:str}/form",
        summary="The bundle's one combined form (一表通) as JSON Schema (draft 2020-12)",
        description="The bundle's shared fields, then each sub-item's own fields under a "
        "heading; a key several sub-items share is asked once. Same extensions as "
        "`GET /items/{code}/form`. Submit the values as `form` of `POST /bundles/{code}/cases`.",
        sync_to_thread=True,
        **anyone(),
    )
    def form(self, request: Request[Any, Any, Any], db: Session, tenant: Tenant, code: str) -> Any:
        bundle = bundles.bundles_of(db, tenant).get(code)
        if bundle is None or bundles.missing_items(db, tenant, bundle):
            raise NotFound(f"联办事项 {code} 不存在", field="bundle")
        schema = json_schema(
            bundles.combined_form(db, tenant, bundle),
            title=f"{bundle.name}（一表通）",
            schema_id=str(request.url),
        )
        return Response(schema, media_type="application/schema+json")

    @post(
        "/{code:str}/cases",
        summary="Apply for a bundle: the parent case and a draft sub-case per item",
        sync_to_thread=True,
        **needs("cases:write"),
    )
    def apply(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        code: str,
        data: BundleCreate,
    ) -> Response[CaseOut]:
        """Upload each sub-case's materials, then submit the parent (``POST
        /cases/{number}/submit``): every sub-case is submitted with it. Send
        ``Idempotency-Key`` to make a retry return the first parent (200)."""
        who = require(principal)
        key = (request.headers.get("idempotency-key") or "").strip()[:80] or None
        parent, created = bundles.open_bundle(
            db,
            tenant,
            who,
            code,
            form=data.form,
            delivery=data.delivery,
            address=data.address,
            idempotency_key=key,
            applicant=data.applicant,
            consent=data.consent,
        )
        service.commit(db)
        return Response(case_out(db, parent, who), status_code=201 if created else 200)
