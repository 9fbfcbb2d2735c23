"""API: a case's materials — streamed multipart upload, reuse from the applicant's earlier
cases, removal, short-lived download links."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Response, Stream
from sqlalchemy.orm import Session

from core.cases import (
    idempotency,
    materials,
)
from core.cases.access import get_case
from core.cases.models import CaseMaterial
from core.errors import Conflict, InvalidInput, NotFound
from core.identity import Principal
from core.tenancy import Tenant
from web.api.case_schemas import (
    LinkOut,
    MaterialOut,
    ReuseIn,
    material_out,
)
from web.api.scoped import anyone, needs
from web.auth import require
from web.idempotency import answer_once, fingerprint_of, replay, request_key
from web.uploads import receive_upload, store_upload


class CaseMaterialsApi(Controller):
    path = "/api/v1/t/{slug:str}"
    tags = ["cases"]

    # -- materials --------------------------------------------------------------------------

    @post(
        "/cases/{number:str}/materials",
        summary="Upload a material (multipart: index, file)",
        status_code=201,
        # not the API's JSON limit: the stream is counted against GOVHALL_MAX_UPLOAD_BYTES
        # as it arrives (core.cases.materials), and refused with 413 past it
        request_max_body_size=None,
        **needs("cases:write"),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        index: int | None = None,
    ) -> Response[MaterialOut]:
        """Streamed: the file is checked by its first bytes, counted, hashed and encrypted as
        it arrives; nothing is stored unless it is complete and allowed (415, 413), and an
        object whose row is not committed is deleted. With ``Idempotency-Key``, the same
        file sent again for the same material answers the first upload (nothing stored
        twice); the key with another file or material is a 422."""
        who = require(principal)
        key = request_key(request)  # a bad key is refused before the file is read
        case = await anyio.to_thread.run_sync(get_case, db, number, who)  # 404 before reading
        if index is not None:
            materials.check_upload_allowed(case, who, index)
        incoming, fields = await receive_upload(request)
        try:
            if index is None:
                try:
                    index = int(fields.get("index", ""))
                except ValueError:
                    raise InvalidInput("请指定材料序号 index", field="index") from None
            at = index
            asked = idempotency.fingerprint(
                request.method, request.url.path, str(at), incoming.sha256, str(incoming.size)
            )

            def store() -> Response[MaterialOut]:
                if key is not None:
                    first = idempotency.recall(db, who, key, asked)
                    if first is not None:
                        return replay(first)
                kept: list[MaterialOut] = []

                def remember(row: CaseMaterial) -> None:
                    kept.append(material_out(row))
                    if key is not None:
                        body = msgspec.json.encode(kept[0])
                        answer = idempotency.Answer(201, "application/json", body, {})
                        idempotency.remember(db, tenant, who, key, asked, answer)

                try:
                    store_upload(db, tenant, who, number, at, incoming, before_commit=remember)
                except Conflict:
                    first = idempotency.recall(db, who, key, asked) if key else None
                    if first is None:
                        raise
                    return replay(first)  # the same key sent twice at once: the one that won
                return Response(kept[0], status_code=201)

            return await anyio.to_thread.run_sync(store)
        finally:
            incoming.discard()

    @post(
        "/cases/{number:str}/materials/reuse",
        summary="Use an e-license or an earlier material instead of an upload",
        sync_to_thread=True,
        status_code=201,
        **needs("cases:write"),
    )
    def reuse(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        data: ReuseIn,
    ) -> Response[MaterialOut]:
        who = require(principal)

        def work() -> MaterialOut:
            row = materials.reuse_material(
                db,
                tenant,
                who,
                number,
                data.index,
                license_code=data.license_code,
                material_id=data.material_id,
            )
            return material_out(row)

        key, asked = request_key(request), fingerprint_of(request, data)
        return answer_once(db, tenant, who, key, asked, work, status=201)

    @get(
        "/cases/{number:str}/materials/{material_id:uuid}/link",
        summary="A link to the material valid for five minutes",
        sync_to_thread=True,
        **needs("cases:read"),
    )
    def link(
        self,
        db: Session,
        tenant: Tenant,
        principal: Principal | None,
        number: str,
        material_id: uuid.UUID,
    ) -> LinkOut:
        case = get_case(db, number, require(principal))
        row = db.get(CaseMaterial, (tenant.id, material_id))
        if row is None or row.case_id != case.id or not row.storage_key:
            raise NotFound("材料不存在", field="material_id")
        return LinkOut(url=materials.material_link(tenant, row), expires_in=materials.LINK_SECONDS)

    @get(
        "/files/{token:str}",
        summary="Download through a short-lived link",
        sync_to_thread=True,
        **anyone(),
    )
    def file(self, db: Session, tenant: Tenant, token: str) -> Stream:
        row = materials.resolve_link(db, tenant, token)
        chunks: Iterator[bytes] = materials.open_material(row)
        return Stream(
            chunks,
            media_type=row.content_type or "application/octet-stream",
            headers={"content-disposition": "attachment", "cache-control": "no-store"},
        )
