"""The error vocabulary shared by every capability; the web layer maps them to HTTP.

Each error has a stable ``code`` (the JSON ``error`` field) and an HTTP ``status``; ``field``
names the offending input where there is one.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "Forbidden",
    "GovhallError",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "Throttled",
]


class GovhallError(Exception):
    code = "error"
    status = 400

    def __init__(
        self, detail: str = "", *, field: str | None = None, fields: list[str] | None = None
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        #: the offending input; ``fields`` names every one when several are wrong at once
        self.field = field or (fields[0] if fields else None)
        self.fields = fields


class InvalidInput(GovhallError):
    code = "invalid_input"
    status = 422


class NotAuthenticated(GovhallError):
    code = "not_authenticated"
    status = 401


class Forbidden(GovhallError):
    code = "forbidden"
    status = 403


class NotFound(GovhallError):
    code = "not_found"
    status = 404


class Conflict(GovhallError):
    code = "conflict"
    status = 409


class Throttled(GovhallError):
    code = "throttled"
    status = 429

    def __init__(self, detail: str = "", *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
