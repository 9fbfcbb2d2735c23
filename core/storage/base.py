"""The storage interface: what every backend offers, the key scheme, and the record of what
a unit of work stored (so that a failed one can take its objects back)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from core.errors import GovhallError

__all__ = [
    "ObjectInfo",
    "Storage",
    "StorageError",
    "note_put",
    "recording_puts",
    "tenant_key",
]

_SAFE_PART = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class StorageError(GovhallError):
    code = "storage_unavailable"
    status = 503
    #: seconds a client should wait before trying again (the ``Retry-After`` header)
    retry_after = 10


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    #: when the object was last written (UTC), where the backend says (listings do)
    modified: datetime | None = None


class Storage(Protocol):
    def put(self, key: str, data: BinaryIO, content_type: str) -> ObjectInfo: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def read(self, key: str) -> bytes: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...
    def check(self) -> None: ...


def tenant_key(tenant_id: uuid.UUID, *parts: str) -> str:
    """``t/{tenant_id}/part/part``; parts are checked so no key escapes its prefix."""
    for part in parts:
        if not _SAFE_PART.match(part) or part in {".", ".."}:
            raise ValueError(f"unsafe storage key part: {part!r}")
    return "/".join(["t", str(tenant_id), *parts])


_recording: ContextVar[list[str] | None] = ContextVar("govhall_storage_puts", default=None)


@contextmanager
def recording_puts() -> Iterator[list[str]]:
    """The keys every backend stores to inside the block, in order: a unit of work whose
    rows are not committed deletes them (no object is left that nothing names)."""
    keys: list[str] = []
    token = _recording.set(keys)
    try:
        yield keys
    finally:
        _recording.reset(token)


def note_put(key: str) -> None:
    """Called by a backend before it writes ``key`` (a write that fails half-way is noted
    too: deleting a key that was never written does nothing)."""
    keys = _recording.get()
    if keys is not None:
        keys.append(key)
