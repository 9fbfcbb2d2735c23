"""Every error as ``{"error": CODE, "detail": TEXT}`` for the API, a page for browsers."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect
from sqlalchemy.exc import DataError

from core.errors import GovhallError, NotAuthenticated
from core.identity.errors import InsufficientScope
from core.storage import StorageError
from web.templating import page

log = logging.getLogger("govhall.web")

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "throttled",
}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/oauth/", "/schema", "/.well-known", "/healthz")):
        return True
    return "application/json" in request.headers.get("accept", "") and "text/html" not in (
        request.headers.get("accept", "")
    )


def _respond(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    fields: list[str] | None = None,
    problems: dict[str, str] | None = None,
) -> Response[Any]:
    if _wants_json(request):
        body: dict[str, Any] = {"error": code, "detail": detail}
        if field:
            body["field"] = field
        if fields:
            body["fields"] = fields
        if problems:  # every problem of a form at once, each with its own message
            body["problems"] = [{"field": k, "detail": v} for k, v in problems.items()]
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    if status == 401 and "/t/" in request.url.path and request.method == "GET":
        slug = request.url.path.split("/t/", 1)[1].split("/", 1)[0]
        staff = "/staff/" in request.url.path or request.url.path.rstrip("/").endswith(
            ("/workbench", "/supervision", "/admin", "/console")
        )
        target = f"/t/{slug}/{'staff/login' if staff else 'login'}?next={request.url.path}"
        return Redirect(target)
    tenant = request.scope.get("state", {}).get("tenant")
    template = "errors/suspended.html" if code == "tenant_suspended" else "errors/error.html"
    return page(
        request,
        template,
        tenant=tenant if code != "tenant_suspended" else None,
        status_code=status,
        code=code,
        detail=detail,
        status=status,
        suspended_tenant=tenant,
    )


def govhall_error(request: Request[Any, Any, Any], exc: GovhallError) -> Response[Any]:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, NotAuthenticated) and _wants_json(request):
        headers["WWW-Authenticate"] = 'Bearer realm="govhall"'
    if isinstance(exc, InsufficientScope):
        headers["WWW-Authenticate"] = (
            f'Bearer realm="govhall", error="insufficient_scope", scope="{" ".join(exc.needed)}"'
        )
    if isinstance(exc, StorageError):
        log.error("storage failure: %s", exc.detail)
    return _respond(
        request,
        exc.status,
        exc.code,
        exc.detail,
        exc.field,
        headers or None,
        exc.fields,
        getattr(exc, "problems", None),
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = exc.detail or _CODES.get(status, "error")
    field = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            field = first.get("key") or None
            message = first.get("message")
            if message:
                detail = f"{field}: {message}" if field else str(message)
        status = 400 if "JSON" in (exc.detail or "") else status
    if isinstance(exc, NotAuthorizedException):
        status = 401
    return _respond(
        request,
        status,
        _CODES.get(status, "error"),
        str(detail),
        field,
        dict(exc.headers) if exc.headers else None,
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, 500, "internal_error", "服务器内部错误，请稍后再试")


def data_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database refused a value the request carried (a NUL character, a number out of
    range): the input's fault, said as a 422, not a server error."""
    log.warning("database refused input on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 422, "invalid_input", "输入包含无法处理的字符或超出范围的数值")


def too_deep(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """JSON nested a thousand levels deep exhausts the decoder's recursion: bad input."""
    log.warning("input nested too deeply on %s %s", request.method, request.url.path)
    return _respond(request, 400, "bad_request", "请求内容嵌套层级过深")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    RecursionError: too_deep,
    GovhallError: govhall_error,
    DataError: data_error,
    HTTPException: http_error,
    Exception: internal_error,
}
