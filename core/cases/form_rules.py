"""A county's own rules for what an application form may hold (``validate_form`` hooks of
its local-procedure plugins), applied after the core's checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.cases.engine import tenant_hooks
from core.errors import InvalidInput
from core.tenancy import Tenant

__all__ = ["check_form"]


def check_form(session: Session, tenant: Tenant, item: str, form: dict[str, Any]) -> None:
    """The county's form rules for ``item``; problems are one 422 naming every field."""
    hooks = tenant_hooks(session, tenant)
    problems = [
        p
        for group in hooks.call("validate_form", item=item, form=form)
        for p in (group or [])
        if isinstance(p, dict)
    ]
    if problems:
        fields = [f"form.{p.get('field', '')}" for p in problems]
        message = "；".join(str(p.get("message") or "") for p in problems)
        raise InvalidInput(message, field=fields[0], fields=fields)
