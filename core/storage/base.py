"""The storage interface and the factory that picks a backend from ``GOVHALL_STORAGE_URL``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from core.config import get_settings
from core.errors import GovhallError

__all__ = ["ObjectInfo", "Storage", "StorageError", "get_storage", "reset_storage", "tenant_key"]

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


_storage: Storage | None = None


def get_storage() -> Storage:
    global _storage
    if _storage is None:
        url = get_settings().resolved_storage_url
        if url.startswith("file://"):
            from core.storage.local import LocalStorage

            _storage = LocalStorage(url.removeprefix("file://"))
        elif url.startswith("s3://"):
            from core.storage.s3 import S3Storage

            _storage = S3Storage(url.removeprefix("s3://"), get_settings().s3_endpoint_url or None)
        else:
            raise ValueError(f"GOVHALL_STORAGE_URL must be file://DIR or s3://BUCKET, not {url}")
    return _storage


def reset_storage(storage: Storage | None = None) -> None:
    global _storage
    _storage = storage
