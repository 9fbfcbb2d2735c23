"""Object storage for materials, generated documents and branding: a local directory by
default, any S3-compatible service through boto3 in production. Keys are per tenant."""

from __future__ import annotations

import threading

from core.config import get_settings
from core.storage.base import (
    ObjectInfo,
    Storage,
    StorageError,
    note_put,
    recording_puts,
    tenant_key,
)
from core.storage.local import LocalStorage

__all__ = [
    "ObjectInfo",
    "Storage",
    "StorageError",
    "get_storage",
    "note_put",
    "recording_puts",
    "reset_storage",
    "tenant_key",
]

_storage: Storage | None = None
_making = threading.Lock()


def get_storage() -> Storage:
    """The process's storage, picked once from ``GOVHALL_STORAGE_URL``. Made under a lock: the
    first requests of a web process arrive together, and each thread making its own boto3
    client (12 MB of models each) left the process 50 MB larger for good."""
    global _storage
    if _storage is not None:
        return _storage
    with _making:
        if _storage is None:
            _storage = _make()
        return _storage


def _make() -> Storage:
    url = get_settings().resolved_storage_url
    if url.startswith("file://"):
        return LocalStorage(url.removeprefix("file://"))
    if url.startswith("s3://"):
        # boto3 is heavy: loaded only by installations that store in S3
        from core.storage.s3 import S3Storage

        return S3Storage(url.removeprefix("s3://"), get_settings().s3_endpoint_url or None)
    raise ValueError(f"GOVHALL_STORAGE_URL must be file://DIR or s3://BUCKET, not {url}")


def reset_storage(storage: Storage | None = None) -> None:
    global _storage
    _storage = storage
