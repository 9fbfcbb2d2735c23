"""Errors of the tenancy capability."""

from core.errors import Conflict, NotFound


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class TenantSuspended(Conflict):
    code = "tenant_suspended"
    status = 403


class TenantExists(Conflict):
    code = "tenant_exists"
