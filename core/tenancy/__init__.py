"""Tenancy: provinces, cities and counties as tenants, and the org units inside them."""

from core.tenancy.errors import TenantExists, TenantNotFound, TenantSuspended
from core.tenancy.models import OrgUnit, OrgUnitKind, Tenant, TenantDomain, TenantKind, TenantStatus
from core.tenancy.service import (
    active_tenants,
    add_org_unit,
    children_of,
    get_tenant,
    get_tenant_by_host,
    get_tenant_by_slug,
    list_org_units,
    list_tenants,
    onboard_tenant,
    scope_for,
    set_tenant_status,
)

__all__ = [
    "OrgUnit",
    "OrgUnitKind",
    "Tenant",
    "TenantDomain",
    "TenantExists",
    "TenantKind",
    "TenantNotFound",
    "TenantStatus",
    "TenantSuspended",
    "add_org_unit",
    "active_tenants",
    "children_of",
    "get_tenant",
    "get_tenant_by_host",
    "get_tenant_by_slug",
    "list_org_units",
    "list_tenants",
    "onboard_tenant",
    "scope_for",
    "set_tenant_status",
]
