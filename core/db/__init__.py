"""Database foundation: declarative base, id generation, column types, engine and sessions."""

from core.db._base import Base, ProvinceOwned, TenantOwned, new_id, utcnow
from core.db._effects import (
    CommitEffect,
    clear_commit_effects,
    commit_effects,
    register_commit_effect,
)
from core.db._memo import MEMO_SECONDS, Snapshot, forget_remembered, remembered, snapshot, watch
from core.db._scope import PLATFORM, Scope, TenantScopeError, scope_of
from core.db._session import (
    Database,
    flush_with_effects,
    get_database,
    platform_scope,
    reset_database,
    tx_cache,
)
from core.db._types import (
    EncryptedJSON,
    EncryptedString,
    EncryptedText,
    blind_index,
    decrypt_bytes,
    encrypt_bytes,
)

__all__ = [
    "decrypt_bytes",
    "encrypt_bytes",
    "MEMO_SECONDS",
    "PLATFORM",
    "Base",
    "CommitEffect",
    "Database",
    "EncryptedJSON",
    "EncryptedString",
    "EncryptedText",
    "ProvinceOwned",
    "Scope",
    "Snapshot",
    "TenantOwned",
    "TenantScopeError",
    "blind_index",
    "clear_commit_effects",
    "commit_effects",
    "flush_with_effects",
    "forget_remembered",
    "get_database",
    "new_id",
    "platform_scope",
    "register_commit_effect",
    "remembered",
    "reset_database",
    "scope_of",
    "snapshot",
    "tx_cache",
    "utcnow",
    "watch",
]
