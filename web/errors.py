"""Every error as ``{"error": CODE, "detail": TEXT}`` for the API, a page for browsers."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.response import Redirect
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import GovhallError, NotAuthenticated
from core.identity.errors import InsufficientScope
from core.storage import StorageError
from core.validation import JSON_NOT_VALID, explain
from web.deps import tenant_of_path
from web.templating import page, upload_limit_mb

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


#: what the framework's own refusals say, in words a person reads (the API says them too)
_PLAIN = {
    400: "请求的内容不完整或格式不对",
    401: "请先登录",
    403: "没有权限进行此操作",
    404: "页面或内容不存在",
    405: "不支持以这种方式访问此地址",
    409: "操作与当前状态冲突，请刷新后重试",
    415: "不支持的文件类型",
    429: "操作过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}


def too_large_detail() -> str:
    return f"文件不能超过 {upload_limit_mb()} MB，请压缩或分成几份后重新上传"


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    """The API, OAuth and scripts (fetch and htmx) get JSON; a browser opening a page, a page."""
    path = request.url.path
    if path.startswith(("/api/", "/oauth/", "/schema", "/.well-known", "/healthz")):
        return True
    if request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true":
        return True
    return "application/json" in request.headers.get("accept", "") and "text/html" not in (
        request.headers.get("accept", "")
    )


def _without_bad_query(request: Request[Any, Any, Any], keys: set[str]) -> Redirect:
    """The same page without the query parameters it could not read (``?page=abc``: page 1),
    as a relative address so that a tenant's own domain keeps its own path."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in keys]
    # the path as asked: routing drops a trailing slash from scope["path"], and "catalog"
    # relative to ".../catalog/" would be ".../catalog/catalog"
    raw = request.scope.get("raw_path") or request.url.path.encode()
    last = raw.decode("utf-8", "replace").split("?", 1)[0].rsplit("/", 1)[1] or "./"
    return Redirect(last + ("?" + urlencode(kept) if kept else ""), status_code=303)


#: the first path segment under /t/{slug}/ of pages only staff use
_STAFF_AREAS = frozenset({"workbench", "supervision", "admin", "console", "staff", "audit"})


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
        slug, _, rest = request.url.path.split("/t/", 1)[1].partition("/")
        # staff pages (any depth: /admin/staff, /workbench/cases/…) send to the staff sign-in
        staff = rest.split("/", 1)[0] in _STAFF_AREAS
        target = f"/t/{slug}/{'staff/login' if staff else 'login'}?next={request.url.path}"
        return Redirect(target)
    if code == "tenant_suspended":
        return page(
            request,
            "errors/suspended.html",
            status_code=status,
            code=code,
            detail=detail,
            status=status,
            suspended_tenant=request.scope.get("state", {}).get("tenant"),
        )
    shown = page(
        request,
        "errors/error.html",
        tenant=tenant_of_path(request),
        status_code=status,
        code=code,
        detail=detail,
        status=status,
        upload_limit_mb=upload_limit_mb(),
        generic=detail in _PLAIN.values(),  # the title says it already
    )
    shown.headers.update(headers or {})
    return shown


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


def _problem(problem: dict[str, Any], cause: BaseException | None) -> tuple[str, str | None]:
    """The first problem in Chinese, with the path into the body where msgspec names one
    (``departments[0].code: 缺少必填项``): the problem's own message lacks the path, the
    validation error it came from has it (``- at `$.data.departments[0]```)."""
    key = str(problem.get("key") or "")
    message = str(problem.get("message") or "")
    if cause is not None and str(cause).startswith(message):
        message = str(cause)
    if str(problem.get("source")) in ("body", "ParamType.BODY"):
        path, words = explain(message, strip=".data")  # the handler's body parameter
        field = path or (key if key != "data" else "") or None
    else:
        path, words = explain(message, strip=f".{key}" if key else "")
        field = key or path or None
    return (f"{field}: {words}" if field else words), field


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The framework's refusals (no such route, a method the route lacks, a body too large,
    a parameter of the wrong type) in Chinese: the English it words them in stays in the log."""
    status = 401 if isinstance(exc, NotAuthorizedException) else exc.status_code
    detail = too_large_detail() if status == 413 else _PLAIN.get(status, _PLAIN[400])
    if status == 403 and "CSRF" in (exc.detail or ""):
        detail = "页面已过期，请刷新页面后重新提交"
    field = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        problems = [p for p in exc.extra if isinstance(p, dict)]
        query = {
            str(p.get("key"))
            for p in problems
            if str(p.get("source")) in ("query", "ParamType.QUERY")
        }
        if (
            query
            and len(query) == len(problems)
            and request.method == "GET"
            and not _wants_json(request)
        ):
            return _without_bad_query(request, query)
        if problems:
            detail, field = _problem(problems[0], exc.__cause__)
        status = 400 if "JSON" in (exc.detail or "") else status
    elif status == 400 and isinstance(exc.__cause__, SerializationException):
        detail = JSON_NOT_VALID  # "JSON is malformed: …", "Input data was truncated"
    if status >= 400 and exc.detail and exc.detail != detail:
        log.info("%s %s refused (%s): %s", request.method, request.url.path, status, exc.detail)
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


#: seconds a client should wait before retrying while the database is out of reach
RETRY_AFTER_SECONDS = 5
#: SQLite's words for a database another writer holds past the busy timeout, or a file
#: that cannot be opened (a disk gone, a permission lost) — everything else is a bug
_SQLITE_UNREACHABLE = ("locked", "busy", "unable to open", "disk i/o")


def unreachable(exc: BaseException) -> bool:
    """Whether a database error means the database is out of reach for now (refused
    connection, a server restarting or shutting down, a dropped connection, the pool
    exhausted, SQLite locked past its timeout) rather than a fault in the request or code."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(words in str(exc.orig).lower() for words in _SQLITE_UNREACHABLE)
    return True  # psycopg: connection failures, admin shutdown, cannot connect now …


def database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database out of reach: 503 with ``Retry-After`` (the client tries again, with the
    same ``Idempotency-Key``), not a 500; any other database error is a 500."""
    if not unreachable(exc):
        return internal_error(request, exc)
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, str(exc)[:300]
    )
    return _respond(
        request,
        503,
        "database_unavailable",
        "系统正在恢复，请稍等几秒后重试",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def too_deep(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """JSON nested a thousand levels deep exhausts the decoder's recursion: bad input."""
    log.warning("input nested too deeply on %s %s", request.method, request.url.path)
    return _respond(request, 400, "bad_request", "请求内容嵌套层级过深")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    RecursionError: too_deep,
    GovhallError: govhall_error,
    DataError: data_error,
    DBAPIError: database_error,
    PoolTimeout: database_error,
    HTTPException: http_error,
    Exception: internal_error,
}
