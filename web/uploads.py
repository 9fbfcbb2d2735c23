"""Streaming multipart uploads, shared by the JSON API and the pages: the request body is
parsed as it arrives; small text fields are kept, the one file part goes straight into an
``IncomingFile`` (type sniffed, size counted, hashed, encrypted to a temporary file); then
stored and committed so that no object is left that no row names."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header
from sqlalchemy.orm import Session

from core.cases import materials, service
from core.cases.models import CaseMaterial
from core.cases.orphans import remove_unless_committed
from core.db import Database
from core.errors import InvalidInput
from core.identity import Principal
from core.storage import recording_puts
from core.storage.pdf_scripts import PdfScripts, message_for
from core.tenancy import Tenant

__all__ = ["receive_upload", "store_upload"]

PDF = "application/pdf"


async def receive_upload(
    request: Request[Any, Any, Any],
) -> tuple[materials.IncomingFile, dict[str, str]]:
    """Parse multipart/form-data from the request stream: small text fields kept, the one
    file part streamed into an ``IncomingFile``."""
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype != "multipart/form-data" or not options.get("boundary"):
        raise materials.UnsupportedType("请以 multipart/form-data 上传", field="file")
    fields: dict[str, str] = {}
    incoming: materials.IncomingFile | None = None
    target: Any = None
    scripts = PdfScripts()
    try:
        with PushMultipartParser(options["boundary"], max_segment_count=8) as parser:
            async for chunk in _chunks(request):
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        if part.filename is not None and part.name == "file":
                            if incoming is not None:
                                raise InvalidInput("一次只能上传一个文件", field="file")
                            incoming = materials.IncomingFile(part.filename)
                            target = incoming
                            scripts = PdfScripts()
                        else:
                            target = [part.name, bytearray()]
                    elif part:
                        if isinstance(target, materials.IncomingFile):
                            target.write(bytes(part))
                            _look_into(target, scripts, bytes(part))
                        elif target is not None:
                            target[1] += part
                            if len(target[1]) > 1000:
                                raise InvalidInput("表单字段过长", field=target[0])
                    else:
                        if isinstance(target, list):
                            fields[target[0]] = target[1].decode("utf-8", "replace")
                        target = None
    except MultipartError as exc:
        if incoming is not None:
            incoming.discard()
        raise InvalidInput(f"上传格式不正确: {exc}", field="file") from None
    except BaseException:
        if incoming is not None:
            incoming.discard()
        raise
    if incoming is None:
        raise InvalidInput("请选择要上传的文件", field="file")
    incoming.finish()
    if incoming.content_type == PDF and (found := scripts.finish()) is not None:
        incoming.discard()
        raise InvalidInput(message_for(found), field="file")
    return incoming, fields


def _look_into(incoming: materials.IncomingFile, scripts: PdfScripts, chunk: bytes) -> None:
    """A PDF is read for script as it arrives (core/storage/pdf_scripts.py): one that would
    run something when a member of staff opens it is refused at once."""
    if incoming.content_type not in (None, PDF):
        return
    found = scripts.feed(chunk)
    if found is not None and incoming.content_type == PDF:
        raise InvalidInput(message_for(found), field="file")


async def _chunks(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


def store_upload(
    db: Session,
    tenant: Tenant,
    who: Principal,
    number: str,
    index: int,
    incoming: materials.IncomingFile,
    *,
    before_commit: Callable[[CaseMaterial], None] | None = None,
) -> CaseMaterial:
    """Store a received upload as material ``index`` and commit, leaving no object behind
    that no row names: what was stored is deleted when the work fails before its commit,
    and when the commit fails, once the database says the row is not there."""
    database = db.info.get("database")
    with recording_puts() as stored:
        try:
            row = materials.attach_upload(db, tenant, who, number, index, incoming)
            if before_commit is not None:
                before_commit(row)
        except BaseException:
            _quietly_roll_back(db)
            if isinstance(database, Database):
                remove_unless_committed(database, list(stored), certain=True)
            raise
        try:
            service.commit(db)
        except BaseException:
            _quietly_roll_back(db)
            if isinstance(database, Database):
                remove_unless_committed(database, list(stored))
            raise
    return row


def _quietly_roll_back(db: Session) -> None:
    # the connection may be gone: then nothing of ours is left on it to roll back
    with contextlib.suppress(Exception):
        db.rollback()
