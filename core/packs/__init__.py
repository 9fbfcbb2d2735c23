"""Tenant packs: declarative folders that create or update tenants, idempotently and all or
nothing (``govhall tenants apply PATH``)."""

from core.packs.apply import ApplyReport, Pack, PackError, apply_packs, load_packs

__all__ = ["ApplyReport", "Pack", "PackError", "apply_packs", "load_packs"]
