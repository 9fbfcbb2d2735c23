"""Streaming multipart uploads, shared by the JSON API and the pages: the request body is
parsed as it arrives; small text fields are kept, the one file part goes straight into an
``IncomingFile`` (type sniffed, size counted, hashed, encrypted to a temporary file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from core.cases import materials
from core.errors import InvalidInput

__all__ = ["receive_upload"]


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
                        else:
                            target = [part.name, bytearray()]
                    elif part:
                        if isinstance(target, materials.IncomingFile):
                            target.write(bytes(part))
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
    return incoming, fields


async def _chunks(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk
