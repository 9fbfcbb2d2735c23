"""Who is acting: a staff member with roles, or a citizen/enterprise account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from core.identity.models import Role

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" | "citizen" | "enterprise" | "client"
    id: uuid.UUID | None
    name: str
    tenant_id: uuid.UUID | None  # staff: their tenant; accounts: None (province-wide)
    province_id: uuid.UUID
    roles: frozenset[tuple[Role, uuid.UUID | None]] = field(default_factory=frozenset)
    client_id: str | None = None
    #: the account's or staff member's session version when this principal was read
    session_version: int = 0
    #: what a bearer token may reach (None: a browser session, limited by roles alone)
    scopes: frozenset[str] | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_account(self) -> bool:
        return self.kind in ("citizen", "enterprise")

    def has_role(self, role: Role, org_unit_id: uuid.UUID | None = None) -> bool:
        """True when the role is held tenant-wide or in ``org_unit_id`` (any unit if None)."""
        for held, unit in self.roles:
            if held is not role:
                continue
            if org_unit_id is None or unit is None or unit == org_unit_id:
                return True
        return False

    def has_role_name(self, name: str) -> bool:
        return any(r.value == name for r, _ in self.roles)

    def role_names(self) -> list[str]:
        return sorted({r.value for r, _ in self.roles})
