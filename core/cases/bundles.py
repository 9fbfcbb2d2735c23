"""Joint approval (联审联办): a bundle, offered by a plugin, is one combined form (一表通) that
opens one sub-case per department item — each with its own process and clock — under one
parent case with an overall limit and one unified fee (统一收费). The parent completes, by
itself, once every required sub-case has been decided and the fee is paid.

The parent is a case like any other (a number, a query code, the trail, notices, ratings);
its one step, 联办协调, is worked by nobody — it carries the overall deadline, so the sweep
cards a bundle that runs late like any step.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock, engine, fees
from core.cases.access import get_case, is_filer
from core.cases.delivery import check_address
from core.cases.documents import issue_notice
from core.cases.forms import bundle_part, issue_application, sub_cases, submission_problems
from core.cases.messages import notify
from core.cases.models import OPEN_STATES, Case, CaseState, FeeStatus, TaskState
from core.cases.numbers import next_number, query_code
from core.cases.service import create_case, submit_case, submit_locked
from core.cases.trail import SYSTEM, Actor, append_event
from core.catalog import get_item_by_code
from core.catalog.models import ItemStatus
from core.db import new_id
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.forms import FormField, FormInvalid, parse_form, require_valid
from core.identity import Principal
from core.plugins import get_plugin_manager
from core.tenancy import Tenant

__all__ = [
    "Bundle",
    "bundles_of",
    "combined_form",
    "missing_items",
    "open_bundle",
    "parse_bundle",
    "settle",
    "sub_cases",
    "submit_bundle",
]

BUNDLE_NAMESPACE = uuid.UUID("6c1f7d0e-5b5a-4f7e-9a53-6f1c2b0a9e11")


class BundleItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    item: str
    required: bool = True


class Bundle(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: str
    name: str
    items: list[BundleItem]
    #: the overall limit in working days, from submission
    overall_days: int
    description: str = ""
    #: the fields entered once for every sub-item (applicant, enterprise name, credit code,
    #: address, contact), ahead of the sub-items' own fields in the combined form (一表通)
    form: list[FormField] = []
    #: keys several sub-items ask, entered once at the top of the combined form (共同信息):
    #: the applicant, the enterprise's name and credit code, the address, the contact
    shared: list[str] = []
    #: per item code, the sub-item's field keys that differ from the combined form's:
    #: ``{"CL-KB03": {"taxpayer_name": "company_name"}}`` — entered once as company_name
    keys: dict[str, dict[str, str]] = {}
    #: the org unit that coordinates (the service centre's joint window), by code
    department: str = ""


def _legacy_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Bundles written before forms were data named their fields ``name`` (all text)."""
    fields = [
        {"key": f["name"], "label": f.get("label", f["name"]), "required": f.get("required", True)}
        if isinstance(f, dict) and "name" in f and "key" not in f
        else f
        for f in raw.get("form") or []
    ]
    return {**raw, "form": fields}


def parse_bundle(raw: Any) -> Bundle:
    """A bundle from what a plugin registers; a wrong form definition is named."""
    try:
        bundle = msgspec.convert(_legacy_fields(dict(raw)), Bundle)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"联办事项定义有误：{exc}", field="bundle") from None
    parse_form(msgspec.to_builtins(bundle.form))  # names a wrong field
    return bundle


def bundles_of(session: Session, tenant: Tenant) -> dict[str, Bundle]:
    """The bundles the tenant's enabled plugins offer."""
    hooks = get_plugin_manager().for_tenant(session, tenant)
    out: dict[str, Bundle] = {}
    for group in hooks.call("register_bundles"):
        for raw in group or []:
            bundle = parse_bundle(raw)
            out[bundle.code] = bundle
    return out


def _item_fields(
    session: Session, tenant: Tenant, bundle: Bundle
) -> list[tuple[str, list[FormField]]]:
    """Each sub-item's name and value fields, under the combined form's keys."""
    out = []
    for entry in bundle.items:
        item = get_item_by_code(session, tenant, entry.item)
        mapping = bundle.keys.get(entry.item, {})
        fields = []
        for f in parse_form((item.effective or {}).get("form") or []):
            if f.holds_value:
                conditions = [
                    msgspec.structs.replace(c, field=mapping.get(c.field, c.field))
                    for c in f.show_when
                ]
                key = mapping.get(f.key, f.key)
                fields.append(msgspec.structs.replace(f, key=key, show_when=conditions))
        out.append((item.name, fields))
    return out


def combined_form(
    session: Session, tenant: Tenant, bundle: Bundle, problems: list[str] | None = None
) -> list[FormField]:
    """The one form of a bundle (一表通): the bundle's own fields; then, under 共同信息, the
    ``shared`` keys (each as the first sub-item that asks it defines it); then under a
    heading per sub-item the fields of its form not already asked. A key several sub-items
    ask — directly or mapped by ``keys`` — is asked once, required if any requires it.
    ``problems`` collects the keys asked with differing types (a plugin's self-check)."""
    parts = _item_fields(session, tenant, bundle)
    out = list(bundle.form)
    at = {f.key: i for i, f in enumerate(out)}
    first: dict[str, FormField] = {}
    for _, fields in parts:
        for f in fields:
            first.setdefault(f.key, f)
    shared = [first[k] for k in bundle.shared if k in first and k not in at]
    if shared:
        out.append(FormField(key="bundle_shared", type="heading", label="共同信息（各部门共用）"))
        for f in shared:
            at[f.key] = len(out)
            out.append(f)
    for n, (name, fields) in enumerate(parts, 1):
        own: dict[str, FormField] = {}
        for f in fields:
            if f.key in own:
                continue
            if f.key in at:
                kept = out[at[f.key]]
                if problems is not None and kept.type != f.type:
                    problems.append(
                        f"{name}的「{f.label}」（{f.type}）与一表通中的「{f.key}」"
                        f"（{kept.type}）类型不同，不能合并填写"
                    )
                if f.required and not kept.required:
                    out[at[f.key]] = msgspec.structs.replace(kept, required=True)
                continue
            own[f.key] = f
        if own:
            out.append(FormField(key=f"bundle_part_{n}", type="heading", label=name))
            for key, f in own.items():
                at[key] = len(out)
                out.append(f)
    return out


def missing_items(session: Session, tenant: Tenant, bundle: Bundle) -> list[str]:
    """Items of the bundle the tenant's catalog does not offer live."""
    missing = []
    for entry in bundle.items:
        try:
            item = get_item_by_code(session, tenant, entry.item)
        except NotFound:
            missing.append(entry.item)
            continue
        if item.status is not ItemStatus.active or item.live_version_id is None:
            missing.append(entry.item)
    return missing


def _definition(bundle: Bundle) -> dict[str, Any]:
    return {
        "code": "bundle",
        "name": "联审联办",
        "start": "coordinate",
        "steps": [
            {
                "code": "coordinate",
                "name": "联办协调",
                "role": "window_clerk",
                "days": bundle.overall_days,
                "actions": [],
            }
        ],
    }


def open_bundle(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    code: str,
    *,
    form: dict[str, Any] | None = None,
    delivery: str = "pickup",
    address: str | None = None,
    idempotency_key: str | None = None,
    **filing: Any,
) -> tuple[Case, bool]:
    """The parent and one draft sub-case per item, filled from the one combined form. The
    caller commits. Materials are uploaded to each sub-case; submitting the parent submits
    them all. Returns (parent, created): a repeated ``idempotency_key`` returns the parent
    the first request made."""
    if idempotency_key:
        earlier = session.scalars(
            select(Case).where(
                Case.idempotency_key == idempotency_key,
                Case.bundle_code == code,
            )
        ).first()
        if earlier is not None and _same_filer(earlier, principal):
            return earlier, False
    bundle = bundles_of(session, tenant).get(code)
    if bundle is None:
        raise NotFound(f"联办事项 {code} 不存在", field="bundle")
    if missing_items(session, tenant, bundle):
        raise Conflict("该联办事项暂不受理（所含事项未全部上线）", field="bundle")
    combined = combined_form(session, tenant, bundle)
    form = require_valid(combined, form, complete=False)
    parent_id, unified = new_id(), []
    subs = []
    for entry in bundle.items:
        item = get_item_by_code(session, tenant, entry.item)
        own = parse_form((item.effective or {}).get("form") or [])
        sub, _ = create_case(
            session,
            tenant,
            principal,
            entry.item,
            form=bundle_part(bundle.keys.get(entry.item, {}), own, form),
            delivery="pickup",  # the results go out together, with the parent
            **filing,
        )
        for fee in sub.content.get("fees") or []:
            unified.append({**fee, "name": f"{fee['name']}（{sub.item_name}）"})
        sub.content = {**sub.content, "fees": []}  # billed once, on the parent
        sub.parent_id, sub.optional = parent_id, not entry.required
        subs.append(sub)
    first = subs[0]
    ident = uuid.uuid5(BUNDLE_NAMESPACE, f"{tenant.id}:{bundle.code}")
    parent = Case(
        tenant_id=tenant.id,
        id=parent_id,
        number=_number(session, tenant),
        query_code=_query_code(),
        idempotency_key=idempotency_key,
        state=CaseState.draft,
        item_id=ident,
        item_code=bundle.code,
        item_name=bundle.name,
        item_version_id=ident,
        item_version=1,
        content={
            "name": bundle.name,
            "promised_days": bundle.overall_days,
            "legal_days": bundle.overall_days,
            "fees": unified,
            "materials": [],
            "bundle": msgspec.to_builtins(bundle),
            "form": msgspec.to_builtins(combined),
        },
        definition=_definition(bundle),
        department_code=bundle.department or first.department_code,
        bundle_code=bundle.code,
        applicant_id=first.applicant_id,
        applicant_kind=first.applicant_kind,
        applicant_name=first.applicant_name,
        applicant_phone=first.applicant_phone,
        channel=first.channel,
        agent_id=first.agent_id,
        agent_name=first.agent_name,
        origin_unit_id=first.origin_unit_id,
        consent=first.consent,
        form=form,
        delivery_method=delivery,
        delivery_address=address if delivery == "courier" else None,
        fee_status=FeeStatus.free,
        fee_total="0",
        extension_days=0,
        corrections=0,
        event_count=0,
        last_hash="",
        created_at=clock.now(),
    )
    if delivery == "courier":
        parent.delivery_address = check_address(address)
    session.add(parent)
    session.flush()
    append_event(
        session,
        parent,
        Actor.of(principal),
        "create",
        from_state="",
        data={"bundle": bundle.code, "sub_cases": [s.number for s in subs]},
    )
    return parent, True


def _same_filer(case: Case, principal: Principal) -> bool:
    mine = principal.id
    return mine is not None and mine in (case.applicant_id, case.agent_id)


def _number(session: Session, tenant: Tenant) -> str:
    return next_number(session, tenant, clock.today())


def _query_code() -> str:
    return query_code()


def submit(session: Session, tenant: Tenant, principal: Principal, number: str) -> Case:
    """The applicant's submit button: a bundle's parent goes with all its sub-cases, any
    other case on its own (:func:`core.cases.service.submit_case`)."""
    case = get_case(session, number, principal, lock=True, with_materials=True)
    if not case.bundle_code:
        return submit_locked(session, tenant, principal, case)
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以提交")
    if case.state is not CaseState.draft:
        raise Conflict(f"办件已提交（当前状态：{case.state.value}）", field="state")
    return submit_bundle(session, tenant, principal, case)


def submit_bundle(session: Session, tenant: Tenant, principal: Principal, parent: Case) -> Case:
    """Submit every sub-case (each then runs its own process and clock) and start the
    parent's overall clock; bill the unified fee. All or nothing: a sub-case missing a
    material is named and nothing is submitted."""
    subs = sub_cases(session, parent)
    problems = submission_problems(session, parent)  # the combined form and every sub-case
    if problems:
        raise FormInvalid(problems)
    for sub in subs:
        if sub.state is CaseState.draft:
            submit_case(session, tenant, principal, sub.number, with_bundle=True)
    today = clock.today()
    parent.state, parent.submitted_at = CaseState.in_progress, clock.now()
    parent.accepted_on = today
    definition = engine.definition_of(parent)
    with session.no_autoflush:
        engine.no_tasks_yet(session, parent)
        engine.open_step(session, parent, definition.step(definition.start), today)
        engine.recompute_deadlines(session, tenant, parent, suspended=[])
    billed = fees.bill(session, tenant, parent)
    append_event(
        session,
        parent,
        Actor.of(principal),
        "submit",
        from_state="draft",
        data={"due_on": str(parent.due_on), "sub_cases": [s.number for s in subs]},
    )
    issue_notice(
        session,
        tenant,
        parent,
        "receipt",
        [
            f"您申请的“{parent.item_name}”已收件，以下 {len(subs)} 个事项同时办理，"
            f"承诺于 {parent.due_on:%Y年%m月%d日} 前全部办结。",
            f"查询码：{parent.query_code}。",
        ],
        table=[["办件编号", "事项", "是否必办"]]
        + [[s.number, s.item_name, "否" if s.optional else "是"] for s in subs],
    )
    issue_application(session, tenant, parent)
    notify(session, tenant, parent, "case_received", query_code=parent.query_code)
    if billed:
        notify(session, tenant, parent, "case_payment", amount=parent.fee_total)
    return parent


def settle(session: Session, tenant: Tenant, case: Case) -> bool:
    """After any change to a bundle's parent or sub-case: complete the parent once every
    required sub-case is decided and the unified fee is paid. Returns whether it did."""
    if case.bundle_code:
        parent: Case | None = case
    elif case.parent_id:
        parent = session.scalars(
            select(Case).where(Case.id == case.parent_id).with_for_update()
        ).first()
    else:
        return False
    if parent is None or parent.state is not CaseState.in_progress:
        return False
    subs = sub_cases(session, parent)
    required = [s for s in subs if not s.optional]
    if any(s.state in OPEN_STATES or s.state is CaseState.draft for s in required):
        return False
    if parent.fee_status is FeeStatus.unpaid:
        return False
    approved = all(s.decision == "approved" for s in required)
    for task in engine.open_tasks(session, parent):
        task.state, task.outcome, task.finished_at = TaskState.done, "settled", clock.now()
    parent.state, parent.completed_at = CaseState.completed, clock.now()
    parent.decision = "approved" if approved else "denied"
    engine.stop_clock(session, tenant, parent)
    results = [
        [s.number, s.item_name, {"approved": "准予"}.get(s.decision or "", "未准予")] for s in subs
    ]
    append_event(
        session,
        parent,
        SYSTEM,
        "settle",
        from_state=CaseState.in_progress.value,
        data={"decision": parent.decision, "sub_cases": results},
    )
    issue_notice(
        session,
        tenant,
        parent,
        "completion",
        [
            "您申请的联办事项已全部办结，各事项结果如下。"
            if approved
            else "您申请的联办事项已办结，其中部分事项未获准予，详见下表及各事项的决定书。",
            "欢迎对本次服务进行评价。",
        ],
        table=[["办件编号", "事项", "结果"], *results],
    )
    notify(
        session,
        tenant,
        parent,
        "case_completed",
        decision="全部准予" if approved else "部分未准予",
        pickup=(
            f"请携带本人身份证原件到{place.name}领取。"
            if approved and (place := engine.pickup_place(session, parent)) is not None
            else ""
        ),
    )
    notify(session, tenant, parent, "rating_request")
    return True
