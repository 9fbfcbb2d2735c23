"""The storage interface: what every backend offers, and the key scheme."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from core.errors import GovhallError

__all__ = ["ObjectInfo", "Storage", "StorageError", "tenant_key"]

_SAFE_PART = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class StorageError(GovhallError):
    code = "storage_unavailable"
    status = 503


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


class Storage(Protocol):
    def put(self, key: str, data: BinaryIO, content_type: str) -> ObjectInfo: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def read(self, key: str) -> bytes: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> None: ...


def tenant_key(tenant_id: uuid.UUID, *parts: str) -> str:
    """``t/{tenant_id}/part/part``; parts are checked so no key escapes its prefix."""
    for part in parts:
        if not _SAFE_PART.match(part) or part in {".", ".."}:
            raise ValueError(f"unsafe storage key part: {part!r}")
    return "/".join(["t", str(tenant_id), *parts])
