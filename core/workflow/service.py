"""Saving and resolving process definitions: tenant → its province → built-in."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditActor, changed, record
from core.db import platform_scope, remembered, watch
from core.errors import GovhallError
from core.plugins import get_plugin_manager
from core.tenancy import Tenant
from core.workflow.definitions import BUILT_IN, ProcessDefinition, parse_definition
from core.workflow.models import ProcessDefinitionRow

__all__ = ["ProcessUnavailable", "known_codes", "resolve_definition", "save_definition"]

log = logging.getLogger("govhall.workflow")


class ProcessUnavailable(GovhallError):
    """An item's process definition is found nowhere: its plugin is missing or off. The item
    is 暂停办理 until it is back (a temporary state, not a missing page)."""

    code = "item_suspended"
    status = 503


def save_definition(
    session: Session, tenant: Tenant, raw: dict[str, Any], *, actor: AuditActor | None = None
) -> ProcessDefinition:
    """Validate and store a definition for ``tenant`` (the caller commits); a change is
    written to the audit log (its name, its steps with their time limits)."""
    definition = parse_definition(raw)
    row = session.get(ProcessDefinitionRow, (tenant.id, definition.code))
    old = _summary(row.name, row.definition) if row is not None else None
    new = _summary(definition.name, msgspec.to_builtins(definition))
    if old != new:
        before, after = changed(old, new) if old is not None else (None, new)
        record(
            session,
            tenant,
            actor,
            "process.change",
            target_type="process",
            target_id=definition.code,
            target_label=definition.name,
            before=before,
            after=after,
        )
    if row is None:
        row = ProcessDefinitionRow(
            tenant_id=tenant.id, code=definition.code, name=definition.name, definition={}
        )
        session.add(row)
    row.name, row.definition = definition.name, msgspec.to_builtins(definition)
    session.flush()
    return definition


def _summary(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    steps = definition.get("steps") or []
    return {
        "name": name,
        "steps": [f"{s.get('name')}（{s.get('days', 0)}个工作日）" for s in steps],
        "deemed_approval": bool(definition.get("deemed_approval")),
    }


watch(ProcessDefinitionRow)


def resolve_definition(session: Session, tenant: Tenant, code: str) -> ProcessDefinition:
    """The tenant's own definition, else its province's, else the built-in one (remembered
    for a moment: every item page and every case action resolves one)."""
    return remembered(
        session, ("process", tenant.id, code), lambda: _resolve(session, tenant, code)
    )


def _resolve(session: Session, tenant: Tenant, code: str) -> ProcessDefinition:
    row = session.get(ProcessDefinitionRow, (tenant.id, code))
    if row is None and tenant.province_id != tenant.id:
        with platform_scope(session) as s:
            row = s.get(ProcessDefinitionRow, (tenant.province_id, code))
    if row is not None:
        return msgspec.convert(row.definition, ProcessDefinition)
    found = plugin_definition(session, tenant, code)
    if found is not None:
        return found
    if code in BUILT_IN:
        return BUILT_IN[code]
    raise ProcessUnavailable(
        "该事项暂停办理：办理流程暂不可用，请稍后再试或到办事窗口咨询", field="process"
    )


def known_codes(session: Session, tenant: Tenant) -> set[str]:
    codes = set(BUILT_IN)
    codes.update(
        session.scalars(
            select(ProcessDefinitionRow.code).where(ProcessDefinitionRow.tenant_id == tenant.id)
        )
    )
    if tenant.province_id != tenant.id:
        with platform_scope(session) as s:
            codes.update(
                s.scalars(
                    select(ProcessDefinitionRow.code).where(
                        ProcessDefinitionRow.tenant_id == tenant.province_id
                    )
                )
            )
    codes.update(plugin_process_codes(session, tenant))
    return codes


def plugin_definition(session: Session, tenant: Tenant, code: str) -> ProcessDefinition | None:
    """A process definition with this code from the tenant's enabled plugins, validated."""
    for group in get_plugin_manager().for_tenant(session, tenant).call("register_processes"):
        for raw in group or []:
            if isinstance(raw, dict) and raw.get("code") == code:
                try:
                    return parse_definition(raw)
                except GovhallError as exc:
                    log.warning("plugin process %s is invalid: %s", code, exc.detail)
    return None


def plugin_process_codes(session: Session, tenant: Tenant) -> set[str]:
    return {
        str(raw.get("code"))
        for group in get_plugin_manager().for_tenant(session, tenant).call("register_processes")
        for raw in group or []
        if isinstance(raw, dict)
    }
