"""Object storage for materials, generated documents and branding: a local directory by
default, any S3-compatible service through boto3 in production. Keys are per tenant."""

from __future__ import annotations

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


def get_storage() -> Storage:
    """The process's storage, picked once from ``GOVHALL_STORAGE_URL``."""
    global _storage
    if _storage is None:
        url = get_settings().resolved_storage_url
        if url.startswith("file://"):
            _storage = LocalStorage(url.removeprefix("file://"))
        elif url.startswith("s3://"):
            # boto3 is heavy: loaded only by installations that store in S3
            from core.storage.s3 import S3Storage

            _storage = S3Storage(url.removeprefix("s3://"), get_settings().s3_endpoint_url or None)
        else:
            raise ValueError(f"GOVHALL_STORAGE_URL must be file://DIR or s3://BUCKET, not {url}")
    return _storage


def reset_storage(storage: Storage | None = None) -> None:
    global _storage
    _storage = storage
