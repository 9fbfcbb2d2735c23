"""Retries that are safe, on the web side (see :mod:`core.cases.idempotency`): the API's
``Idempotency-Key`` header, and the hidden ``idempotency_key`` every case form carries so
that a page posted twice (a double click, a reload that resends, a retry after an error
page) does its work once."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from litestar import MediaType, Request
from litestar.response import Redirect, Response
from litestar.serialization import encode_json
from markupsafe import Markup
from sqlalchemy.orm import Session

from core.cases import idempotency, service
from core.cases.idempotency import Answer
from core.errors import Conflict
from core.identity import Principal
from core.tenancy import Tenant

__all__ = [
    "FIELD",
    "HEADER",
    "answer_once",
    "fingerprint_of",
    "hidden_input",
    "new_key",
    "page_once",
    "replay",
    "request_key",
]

HEADER = "Idempotency-Key"
#: the hidden field of a page's form (``{{ idempotency_input() }}``)
FIELD = "idempotency_key"
#: a replayed answer says so
REPLAYED = "Idempotency-Replayed"

T = TypeVar("T")


def new_key() -> str:
    """A fresh key for one rendering of a form."""
    return secrets.token_urlsafe(18)


def hidden_input() -> Markup:
    """The hidden field a case form carries (a template's ``{{ idempotency_input() }}``):
    a new key each time the form is drawn, the same one however often it is posted."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{new_key()}">')  # noqa: S704


def request_key(request: Request[Any, Any, Any]) -> str | None:
    return idempotency.clean_key(request.headers.get(HEADER.lower()))


def replay(answer: Answer) -> Response[Any]:
    """The remembered answer, as it was first sent."""
    headers = {**answer.headers, REPLAYED: "true"}
    if answer.headers.get("location"):
        return Redirect(answer.headers["location"], status_code=303, headers=headers)
    return Response(
        answer.body, status_code=answer.status, media_type=answer.media_type, headers=headers
    )


def answer_once(
    db: Session,
    tenant: Tenant,
    who: Principal,
    key: str | None,
    asked: str,
    work: Callable[[], Any],
    *,
    status: int = 200,
    retried: Callable[[], Any] | None = None,
) -> Response[Any]:
    """Do ``work`` (in ``db``'s transaction; it returns what to answer) and commit, once per
    key: the answer is remembered in the same transaction, so it exists exactly when the
    work does, and the same key again answers it again.

    ``retried`` is asked when the work conflicts with the case's state: it returns what to
    answer when the caller's own earlier attempt already did it (200), or None (the 409)."""
    if key is not None:
        first = idempotency.recall(db, who, key, asked)
        if first is not None:
            return replay(first)
    try:
        out = work()
        body = encode_json(out)
        if key is not None:
            answer = Answer(status=status, media_type=MediaType.JSON, body=body, headers={})
            idempotency.remember(db, tenant, who, key, asked, answer)
        service.commit(db)
    except Conflict:
        db.rollback()
        if key is not None:  # the same key sent twice at once: the one that won
            first = idempotency.recall(db, who, key, asked)
            if first is not None:
                return replay(first)
        done = retried() if retried is not None else None
        if done is None:
            raise
        return Response(done, status_code=200)
    return Response(body, status_code=status, media_type=MediaType.JSON)


def _form_fingerprint(handler: str, kwargs: dict[str, Any], data: Any) -> str:
    """What a page's post asked: the handler, its path's values and the form's fields (not
    the CSRF token, which changes with the session, nor the key itself)."""
    path = sorted((k, v) for k, v in kwargs.items() if isinstance(v, str))
    items = data.multi_items() if hasattr(data, "multi_items") else data.items()
    kept = sorted((str(k), str(v)) for k, v in items if k not in ("_csrf_token", FIELD))
    return idempotency.fingerprint(handler, encode_json(path), encode_json(kept))


def page_once(handler: Callable[..., T]) -> Callable[..., T | Response[Any]]:
    """For a page's POST handler (sync, taking ``db``, ``tenant``, ``principal`` and the
    posted ``data``): a form posted again with the same hidden key gets the redirect
    the first post got, and its work is not done twice. The handler commits its own work;
    its answer is remembered right after (a success only: a refusal shows the form again,
    with a new key). Unlike the API's, the same key with other values (another button of a
    form drawn before) is simply a new post: the case's rules decide it."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> T | Response[Any]:
        db, tenant, who = kwargs["db"], kwargs["tenant"], kwargs["principal"]
        data = kwargs.get("data", kwargs.get("posted"))
        key = idempotency.clean_key(data.get(FIELD) if data is not None else None)
        if key is None or who is None:
            return handler(*args, **kwargs)
        asked = _form_fingerprint(handler.__qualname__, kwargs, data)
        try:
            first = idempotency.recall(db, who, key, asked)
        except idempotency.KeyReused:  # another button of a page drawn earlier: a new post
            return handler(*args, **kwargs)
        if first is not None:
            return replay(first)
        response = handler(*args, **kwargs)
        location = getattr(response, "url", None)
        if isinstance(response, Redirect) and location and "error=" not in str(location):
            try:
                answer = Answer(
                    status=response.status_code or 302,
                    media_type="",
                    body=b"",
                    headers={"location": str(location)},
                )
                idempotency.remember(db, tenant, who, key, asked, answer)
                db.commit()
            except Exception:  # the work is done; only a later retry would repeat it
                db.rollback()
        return response

    return wrapper


def fingerprint_of(request: Request[Any, Any, Any], data: Any = None) -> str:
    """What an API request asked, for its ``Idempotency-Key``: method, path and JSON body."""
    body = msgspec.json.encode(data, order="sorted") if data is not None else b""
    return idempotency.fingerprint(request.method, request.url.path, body)
