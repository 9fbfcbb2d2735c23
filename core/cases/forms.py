"""A case's application form: what the item's pinned version asks, what the applicant has
filled in so far (saved as they go), what is still missing before it can be submitted, and
what may be prefilled from what we already know of them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.access import current_material_indexes, get_case, is_filer
from core.cases.delivery import check_address
from core.cases.documents import issue_notice
from core.cases.form_rules import check_form
from core.cases.models import Case, CaseEvent, CaseMaterial, CaseState, License
from core.cases.trail import Actor, append_event
from core.db import platform_scope
from core.errors import Conflict, Forbidden, InvalidInput
from core.forms import FormField, FormInvalid, fill, lines, parse_form, printed
from core.identity import Account, Principal
from core.tenancy import Tenant

__all__ = [
    "bundle_part",
    "issue_application",
    "changed_keys",
    "correction_asked",
    "reveal",
    "fields_of",
    "prefill",
    "prefill_for",
    "require_submittable",
    "save_form",
    "sub_cases",
    "submission_problems",
]


def fields_of(case: Case) -> list[FormField]:
    """The form of the item version the case was filed under."""
    return parse_form(case.content.get("form") or [])


def _materials_missing(session: Session, case: Case) -> dict[str, str]:
    # the indexes alone (read with the locked case when it was: a submission)
    have = current_material_indexes(session, case)
    if have is None:
        have = set(
            session.scalars(
                select(CaseMaterial.spec_index).where(
                    CaseMaterial.case_id == case.id, CaseMaterial.status == "current"
                )
            )
        )
    return {
        f"materials[{i}]": f"请上传「{spec.get('name', '')}」"
        for i, spec in enumerate(case.content.get("materials") or [])
        if spec.get("required", "required") == "required" and i not in have
    }


def sub_cases(session: Session, parent: Case) -> list[Case]:
    """A bundle's sub-cases, in number order."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.tenant_id == parent.tenant_id, Case.parent_id == parent.id)
            .order_by(Case.number)
        )
    )


def submission_problems(session: Session, case: Case) -> dict[str, str]:
    """Everything a submission still lacks, by path, in Chinese: the form's required and
    wrong fields, the required materials, the courier address; for a bundle's parent, also
    what each of its draft sub-cases lacks (``sub_cases[1].materials[0]``)."""
    problems = fill(fields_of(case), case.form or {}, complete=True).problems
    problems.update(_materials_missing(session, case))
    if case.delivery_method == "courier" and not case.delivery_address:
        problems["address"] = "选择快递送达时，请填写寄送地址"
    if case.bundle_code:
        for i, sub in enumerate(sub_cases(session, case)):
            if sub.state is CaseState.draft:
                for path, message in submission_problems(session, sub).items():
                    problems[f"sub_cases[{i}].{path}"] = f"{sub.item_name}：{message}"
    return problems


def _share_with_sub_cases(session: Session, parent: Case, values: dict[str, Any]) -> None:
    """A bundle's combined form, saved: each draft sub-case receives its part (under its own
    keys, as the bundle maps them)."""
    keys = (parent.content.get("bundle") or {}).get("keys") or {}
    for sub in sub_cases(session, parent):
        if sub.state is not CaseState.draft:
            continue
        part = bundle_part(keys.get(sub.item_code) or {}, fields_of(sub), values)
        sub.form = {**(sub.form or {}), **part}


def bundle_part(
    mapping: dict[str, str], fields: list[FormField], values: dict[str, Any]
) -> dict[str, Any]:
    """A sub-item's share of a bundle's combined values, under the sub-item's own keys
    (``mapping``: its key → the combined form's, where they differ)."""
    return {
        f.key: values[mapping.get(f.key, f.key)]
        for f in fields
        if f.holds_value and mapping.get(f.key, f.key) in values
    }


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
    keep_what_is_right: bool = False,
) -> tuple[Case, dict[str, str]]:
    """Save what the applicant has typed so far (the caller commits). Wrong values are named:
    refused all together (the API), or — ``keep_what_is_right``, as a page saves while one
    types — the right ones saved and the wrong ones returned (a wrong value keeps the field's
    previous one). During a correction the changed fields go on the trail (names only)."""
    case = get_case(session, number, principal, lock=True)
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以填写申请表")
    if case.state not in (CaseState.draft, CaseState.correcting):
        raise Conflict("申请已提交，不能再修改申请表", field="state")
    filled = fill(fields_of(case), raw, complete=False)
    if filled.problems and not keep_what_is_right:
        raise FormInvalid(filled.problems)
    values = dict(filled.values)
    for path in filled.problems:  # form.key or form.table[0].col: the field keeps its old value
        key = path.removeprefix("form.").split(".")[0].split("[")[0]
        if key in (case.form or {}):
            values[key] = (case.form or {})[key]
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
    if case.bundle_code:
        _share_with_sub_cases(session, case, values)
    return case, filled.problems


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


def _last_form(
    session: Session, applicant: Any, item_code: str, exclude: Any = None
) -> dict[str, Any]:
    stmt = select(Case).where(
        Case.applicant_id == applicant,
        Case.item_code == item_code,
        Case.state != CaseState.draft,
    )
    if exclude is not None:
        stmt = stmt.where(Case.id != exclude)
    earlier = session.scalars(stmt.order_by(Case.created_at.desc()).limit(1)).first()
    return dict(earlier.form or {}) if earlier else {}


def prefill_for(
    session: Session,
    tenant: Tenant,
    applicant: Any,
    item_code: str,
    fields: list[FormField],
    current: dict[str, Any],
    *,
    case_id: Any = None,
) -> dict[str, Any]:
    """Values the applicant need not type again, for the fields still empty: their name, ID
    number and phone, the enterprise's name and credit code, what they wrote last time for
    this item, a particular of one of their e-licenses. Returns only what it found."""
    account = session.get(Account, (tenant.province_id, applicant)) if applicant else None
    if account is None:
        return {}
    enterprise = account.kind.value == "enterprise"
    known: dict[str, Any] = {
        "person.name": None if enterprise else account.name,
        "person.id_number": account.id_number,
        "person.phone": account.phone,
        "enterprise.name": account.name if enterprise else None,
        "enterprise.credit_code": account.credit_code,
    }
    last: dict[str, Any] | None = None
    out: dict[str, Any] = {}
    for f in fields:
        if not f.prefill or current.get(f.key) not in (None, "", [], {}):
            continue
        if f.prefill == "last_case":
            if last is None:
                last = _last_form(session, account.id, item_code, case_id)
            value = last.get(f.key)
        elif f.prefill.startswith("license:"):
            value = _license_value(session, tenant, account.id, f.prefill)
        else:
            value = known.get(f.prefill)
        if value not in (None, "", [], {}):
            out[f.key] = value
    return out


def prefill(session: Session, tenant: Tenant, case: Case, viewer: Principal) -> dict[str, Any]:
    """:func:`prefill_for` a case's applicant and item — for the applicant's own eyes only. An
    agent or a clerk filing for someone types what the person shows them: what the platform
    knows of that person (full ID number, earlier forms, e-licenses) is not theirs to read
    because they typed a phone number."""
    if not (viewer.is_account and viewer.id == case.applicant_id):
        return {}
    return prefill_for(
        session,
        tenant,
        case.applicant_id,
        case.item_code,
        fields_of(case),
        dict(case.form or {}),
        case_id=case.id,
    )


def reveal(session: Session, principal: Principal, number: str) -> dict[str, Any]:
    """The form with its personal values, for staff who may see the case; each reveal is on
    the trail, with who asked (the caller commits)."""
    case = get_case(session, number, principal, lock=True)
    if not principal.is_staff:
        raise Forbidden("仅限工作人员")
    personal = [f.key for f in fields_of(case) if f.is_personal]
    append_event(
        session,
        case,
        Actor.of(principal),
        "form_revealed",
        from_state=case.state.value,
        data={"fields": personal},
    )
    return dict(case.form or {})


def correction_asked(session: Session, case: Case) -> dict[str, dict[Any, str]]:
    """What the correction notice asked, in the clerk's words: by material index and by form
    field key (the applicant reads each beside what it concerns)."""
    event = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "request_correction")
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    data = event.data if event else {}
    return {
        "materials": {m["index"]: m["reason"] for m in data.get("materials") or []},
        "fields": {f["key"]: f["reason"] for f in data.get("fields") or []},
    }


def issue_application(
    session: Session, tenant: Tenant, case: Case, *, corrected: bool = False
) -> None:
    """The application as submitted (申请表), among the case's documents for the applicant to
    print or keep; personal values partly masked, as the document's text is kept in plain.
    Nothing when the item has no form."""
    if not case.form:  # nothing filled in (an item without a form, or all optional)
        return
    found = lines(fields_of(case), dict(case.form), reveal=False)
    issue_notice(
        session,
        tenant,
        case,
        "application",
        [
            "以下为补正后的申请表内容。" if corrected else "以下为您提交的申请表内容。",
            "为保护个人信息，身份证号、手机号等已部分隐去；完整内容以系统记录为准。",
        ],
        table=printed(found),
        table_widths=[1, 2.4],
        sealed=True,
    )
