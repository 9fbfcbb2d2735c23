"""A case's application form: what the item's pinned version asks, what the applicant has
filled in so far (saved as they go), what is still missing before it can be submitted, and
what may be prefilled from what we already know of them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.access import get_case, is_filer
from core.cases.delivery import check_address
from core.cases.form_rules import check_form
from core.cases.materials import current_materials
from core.cases.models import Case, CaseState, License
from core.cases.trail import Actor, append_event
from core.db import platform_scope
from core.errors import Conflict, Forbidden, InvalidInput
from core.forms import FormField, FormInvalid, fill, parse_form, require_valid
from core.identity import Account, Principal
from core.tenancy import Tenant

__all__ = [
    "changed_keys",
    "reveal",
    "fields_of",
    "prefill",
    "require_submittable",
    "save_form",
    "submission_problems",
]


def fields_of(case: Case) -> list[FormField]:
    """The form of the item version the case was filed under."""
    return parse_form(case.content.get("form") or [])


def _materials_missing(session: Session, case: Case) -> dict[str, str]:
    have = {m.spec_index for m in current_materials(session, case) if m.status == "current"}
    return {
        f"materials[{i}]": f"请上传「{spec.get('name', '')}」"
        for i, spec in enumerate(case.content.get("materials") or [])
        if spec.get("required", "required") == "required" and i not in have
    }


def submission_problems(session: Session, case: Case) -> dict[str, str]:
    """Everything a submission still lacks, by path, in Chinese: the form's required and
    wrong fields, the required materials, the courier address."""
    problems = fill(fields_of(case), case.form or {}, complete=True).problems
    problems.update(_materials_missing(session, case))
    if case.delivery_method == "courier" and not case.delivery_address:
        problems["address"] = "选择快递送达时，请填写寄送地址"
    return problems


def require_submittable(session: Session, tenant: Tenant, case: Case) -> None:
    """A 422 naming every missing piece; then the county's own form rules (plugins)."""
    problems = submission_problems(session, case)
    if problems:
        raise FormInvalid(problems)
    check_form(session, tenant, case.item_code, dict(case.form or {}))


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The form fields whose values differ (compared as stored)."""
    keys = sorted(set(before) | set(after))

    def same(k: str) -> bool:
        return json.dumps(before.get(k), sort_keys=True) == json.dumps(after.get(k), sort_keys=True)

    return [k for k in keys if not same(k)]


def save_form(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    number: str,
    raw: dict[str, Any],
    *,
    delivery: str | None = None,
    address: str | None = None,
) -> Case:
    """Save what the applicant has typed so far (the caller commits): a draft keeps what is
    right and refuses, naming them, the values that are wrong; during a correction the
    changed fields go on the trail (their names, not their values)."""
    case = get_case(session, number, principal, lock=True)
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以填写申请表")
    if case.state not in (CaseState.draft, CaseState.correcting):
        raise Conflict("申请已提交，不能再修改申请表", field="state")
    values = require_valid(fields_of(case), raw, complete=False)
    if delivery is not None:
        if delivery not in case.content.get("delivery", ["pickup"]):
            raise InvalidInput("该事项不支持这种送达方式", field="delivery")
        if case.state is CaseState.draft:
            case.delivery_method = delivery
    if address is not None:
        case.delivery_address = check_address(address) if address.strip() else None
    if case.state is CaseState.correcting:
        changed = changed_keys(dict(case.form or {}), values)
        if changed:
            append_event(
                session,
                case,
                Actor.of(principal),
                "form_corrected",
                from_state=case.state.value,
                data={"fields": changed},
            )
    case.form = values
    return case


def _license_value(session: Session, tenant: Tenant, holder: Any, source: str) -> Any:
    """``license:<type>.<particular>``: from the newest unrevoked license of that type."""
    kind, _, particular = source.removeprefix("license:").partition(".")
    with platform_scope(session) as s:
        row = s.scalars(
            select(License)
            .where(
                License.holder_id == holder,
                License.license_type == kind,
                License.revoked.is_(False),
            )
            .order_by(License.issued_on.desc())
            .limit(1)
        ).first()
        payload = json.loads(row.payload) if row else {}
    particulars = payload.get("particulars") if isinstance(payload, dict) else None
    if particular == "holder":
        return payload.get("holder") if isinstance(payload, dict) else None
    return particulars.get(particular) if isinstance(particulars, dict) else None


def _last_case_form(session: Session, case: Case) -> dict[str, Any]:
    earlier = session.scalars(
        select(Case)
        .where(
            Case.applicant_id == case.applicant_id,
            Case.item_code == case.item_code,
            Case.id != case.id,
            Case.state != CaseState.draft,
        )
        .order_by(Case.created_at.desc())
        .limit(1)
    ).first()
    return dict(earlier.form or {}) if earlier else {}


def prefill(session: Session, tenant: Tenant, case: Case) -> dict[str, Any]:
    """Values the applicant need not type again, for the fields still empty: their name, ID
    number and phone, the enterprise's name and credit code, what they wrote last time for
    this item, a particular of one of their e-licenses. Returns only what it found."""
    account = session.get(Account, (tenant.province_id, case.applicant_id))
    if account is None:
        return {}
    known: dict[str, Any] = {
        "person.name": account.name,
        "person.id_number": account.id_number,
        "person.phone": account.phone,
        "enterprise.name": account.name if account.kind.value == "enterprise" else None,
        "enterprise.credit_code": account.credit_code,
    }
    current = dict(case.form or {})
    last: dict[str, Any] | None = None
    out: dict[str, Any] = {}
    for f in fields_of(case):
        if not f.prefill or current.get(f.key) not in (None, "", [], {}):
            continue
        if f.prefill == "last_case":
            last = _last_case_form(session, case) if last is None else last
            value = last.get(f.key)
        elif f.prefill.startswith("license:"):
            value = _license_value(session, tenant, case.applicant_id, f.prefill)
        else:
            value = known.get(f.prefill)
        if value not in (None, "", [], {}):
            out[f.key] = value
    return out


def reveal(session: Session, principal: Principal, number: str) -> dict[str, Any]:
    """The form with its personal values, for staff who may see the case; each reveal is on
    the trail, with who asked (the caller commits)."""
    case = get_case(session, number, principal, lock=True)
    if not principal.is_staff:
        raise Forbidden("仅限工作人员")
    personal = [f.key for f in fields_of(case) if f.personal]
    append_event(
        session,
        case,
        Actor.of(principal),
        "form_revealed",
        from_state=case.state.value,
        data={"fields": personal},
    )
    return dict(case.form or {})
