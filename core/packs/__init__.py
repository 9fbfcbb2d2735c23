"""Tenant packs: declarative folders that create or update tenants, idempotently and all or
nothing (``govhall tenants apply PATH``), each change shown as a line of a diff against the live
state; and a tenant's live state written back as a pack (``govhall tenants export``)."""

from core.packs.apply import ApplyReport, Pack, PackError, apply_packs, load_packs
from core.packs.changes import Change, TenantChanges
from core.packs.export import export_pack

__all__ = [
    "ApplyReport",
    "Change",
    "Pack",
    "PackError",
    "TenantChanges",
    "apply_packs",
    "export_pack",
    "load_packs",
]
