"""Object storage for materials, generated documents and branding: a local directory by
default, any S3-compatible service through boto3 in production. Keys are per tenant."""

from core.storage.base import (
    ObjectInfo,
    Storage,
    StorageError,
    get_storage,
    reset_storage,
    tenant_key,
)

__all__ = ["ObjectInfo", "Storage", "StorageError", "get_storage", "reset_storage", "tenant_key"]
