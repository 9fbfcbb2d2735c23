"""Database foundation: declarative base, id generation, column types, engine and sessions."""

from core.db._base import Base, ProvinceOwned, TenantOwned, new_id, utcnow
from core.db._scope import PLATFORM, Scope, TenantScopeError, scope_of
from core.db._session import Database, get_database, platform_scope, reset_database, tx_cache
from core.db._types import EncryptedJSON, EncryptedString, blind_index

__all__ = [
    "PLATFORM",
    "Base",
    "Database",
    "EncryptedJSON",
    "EncryptedString",
    "ProvinceOwned",
    "Scope",
    "TenantOwned",
    "TenantScopeError",
    "blind_index",
    "get_database",
    "new_id",
    "platform_scope",
    "reset_database",
    "scope_of",
    "tx_cache",
    "utcnow",
]
