"""The audit log of administrative changes: who, when, from where, what, before → after."""

from core.audit.log import (
    AUDIT_ACTIONS,
    ORIGIN_KEY,
    SYSTEM_ACTOR,
    AuditActor,
    ChainReport,
    action_label,
    changed,
    origin,
    record,
    set_origin,
    verify_chain,
)
from core.audit.models import AuditEntry, AuditHead

__all__ = [
    "AUDIT_ACTIONS",
    "ORIGIN_KEY",
    "SYSTEM_ACTOR",
    "AuditActor",
    "AuditEntry",
    "AuditHead",
    "ChainReport",
    "action_label",
    "changed",
    "origin",
    "record",
    "set_origin",
    "verify_chain",
]
