"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from core.audit import models as audit_models  # noqa: F401
from core.calendar import models as calendar_models  # noqa: F401
from core.cases import idempotency as idempotency_models  # noqa: F401
from core.cases import models as case_models  # noqa: F401
from core.catalog import favourites as favourite_models  # noqa: F401
from core.catalog import models as catalog_models  # noqa: F401
from core.consult import models as consult_models  # noqa: F401
from core.db import Base, ProvinceOwned, TenantOwned
from core.identity import models as identity_models  # noqa: F401
from core.notify import outbox as outbox_models  # noqa: F401
from core.plugins import models as plugin_models  # noqa: F401
from core.portal import models as portal_models  # noqa: F401
from core.supervision import models as supervision_models  # noqa: F401
from core.tenancy import models as tenancy_models  # noqa: F401
from core.workflow import models as workflow_models  # noqa: F401

metadata = Base.metadata

__all__ = ["owned_tables", "metadata"]


def owned_tables() -> dict[str, str]:
    """Every tenant- or province-owned table and its owning column (row-level security)."""
    out = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = str(getattr(cls, "__tablename__", ""))
        if issubclass(cls, TenantOwned):
            out[table] = "tenant_id"
        elif issubclass(cls, ProvinceOwned):
            out[table] = "province_id"
    return dict(sorted(out.items()))
