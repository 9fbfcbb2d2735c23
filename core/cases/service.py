"""The applicant's side of a case: create (online, or by an agent or clerk on a citizen's
behalf), submit, correct once, withdraw, rate. Staff actions are in ``core.cases.actions``.

Every function changes the case in the caller's transaction and appends to its trail;
``commit`` turns a concurrent change into a 409.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.cases import clock, engine, fees
from core.cases.access import get_case, is_filer
from core.cases.delivery import check_address
from core.cases.documents import issue_notice
from core.cases.forms import issue_application, require_submittable
from core.cases.idempotency import already_done
from core.cases.materials import current_materials
from core.cases.messages import notify
from core.cases.models import Case, CaseState, FeeStatus
from core.cases.numbers import next_number, query_code
from core.cases.trail import Actor, append_event
from core.catalog import get_item_by_code
from core.catalog.availability import check_available
from core.catalog.models import ItemStatus, ItemVersion
from core.catalog.presentation import applies_online
from core.db import Database, new_id
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.forms import FormInvalid, parse_form, require_valid
from core.identity import Account, AccountKind, Principal, Role
from core.identity.service import (
    check_consent_code,
    create_account,
    find_account_by_phone,
    normalize_phone,
    validate_id_number,
)
from core.tenancy import Tenant, scope_for
from core.workflow import resolve_definition

__all__ = [
    "Applicant",
    "commit",
    "correct_case",
    "create_case",
    "notify",
    "submit_case",
    "submit_locked",
    "withdraw_case",
]


class Applicant(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The citizen an agent or clerk applies for; found by phone, or registered."""

    phone: str
    name: str = ""
    id_number: str | None = None


class Consent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the citizen authorised the agent (代办授权). ``sms_code``: the code the person
    received by SMS (``request_consent_code``) and told the agent, checked here."""

    method: str  # signed_form | sms_code | in_person
    note: str = ""
    code: str = ""


def commit(session: Session) -> None:
    """Commit; a concurrent change of the same case (or a duplicate key) becomes a 409."""
    try:
        session.commit()
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        raise Conflict("办件已被他人同时修改，请刷新后重试") from exc


def _on_behalf(
    session: Session, tenant: Tenant, principal: Principal, applicant: Applicant
) -> tuple[Account, str]:
    """The account a clerk or agent applies for, and the applicant's name as the case keeps
    it: the one typed (from the ID card in front of them). The platform never tells whoever
    types a phone number whose it is: an account found by the phone lends the case nothing
    but its link, and one whose owner has confirmed their name and ID number must match
    what was typed — else 422, which says only that it does not."""
    phone = normalize_phone(applicant.phone)
    name = applicant.name.strip()
    if not name:
        raise InvalidInput("请填写申请人姓名（与身份证一致）", field="applicant.name")
    account = find_account_by_phone(session, tenant.province_id, phone)
    if account is None:
        return create_account(
            session,
            tenant,
            kind=AccountKind.citizen,
            name=name,
            phone=phone,
            id_number=applicant.id_number,
        ), name
    typed_id = validate_id_number(applicant.id_number) if applicant.id_number else None
    if account.id_number and (
        name != account.name or (typed_id is not None and typed_id != account.id_number)
    ):
        raise InvalidInput(
            "该手机号已由申请人本人实名登记，与填写的姓名或身份证号不一致。"
            "请核对申请人的身份证，或使用申请人本人的手机号",
            field="applicant.name",
        )
    return account, name


def _check_consent(session: Session, tenant: Tenant, phone: str, code: str) -> None:
    """The applicant's consent code, used up in this transaction (an application refused for
    something else leaves it usable). A wrong one is first counted in a transaction of its
    own, committed at once: the refusal rolls this one back, and the five tries a code has and
    the lock-out must not roll back with it."""
    checked: set[tuple[str, str]] = session.info.setdefault("consent-checked", set())
    if (phone, code.strip()) in checked:  # a joint application's other items: the same consent
        return
    database = session.info.get("database")
    if isinstance(database, Database):
        with database.session(scope=scope_for(tenant)) as own:
            try:
                check_consent_code(own, tenant, phone, code)
            except InvalidInput:
                own.commit()
                raise
            own.rollback()  # right: used up below, with the case
    check_consent_code(session, tenant, phone, code)
    checked.add((phone, code.strip()))


def _agent_unit(principal: Principal) -> uuid.UUID | None:
    return next((unit for role, unit in principal.roles if role is Role.agent), None)


def create_case(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    item_code: str,
    *,
    form: dict[str, Any] | None = None,
    delivery: str = "pickup",
    address: str | None = None,
    applicant: Applicant | None = None,
    consent: Consent | None = None,
    idempotency_key: str | None = None,
) -> tuple[Case, bool]:
    """A draft case for the item's live version; returns (case, created). A repeated key
    returns the case the first request made."""
    if principal.is_account:
        if applicant is not None:
            raise InvalidInput("群众账户只能为本人申请", field="applicant")
        account = session.get(Account, (tenant.province_id, principal.id))
        applicant_name = account.name if account is not None else ""
        channel, agent = "online", None
    elif principal.is_staff and (
        principal.has_role(Role.agent) or principal.has_role(Role.window_clerk)
    ):
        if applicant is None:
            raise InvalidInput("请填写申请人", field="applicant")
        if consent is None or consent.method not in ("signed_form", "sms_code", "in_person"):
            raise InvalidInput("代办须记录申请人的授权方式", field="consent.method")
        if consent.method == "sms_code":  # 短信验证授权: the person's code, not a claim
            if not consent.code.strip():
                raise InvalidInput(
                    "短信验证授权须填写申请人收到的授权验证码（先点“发送授权验证码”）",
                    field="consent.code",
                )
            _check_consent(session, tenant, applicant.phone, consent.code)
        account, applicant_name = _on_behalf(session, tenant, principal, applicant)
        channel = "agent" if principal.has_role(Role.agent) else "counter"
        agent = principal
    else:
        raise Forbidden("只有申请人、代办员或窗口人员可以提交申请")
    if account is None or not account.active:
        raise Forbidden("账户不可用")
    if idempotency_key:
        existing = session.scalars(
            select(Case).where(
                Case.applicant_id == account.id, Case.idempotency_key == idempotency_key
            )
        ).first()
        if existing is not None:
            return existing, False
    try:
        item = get_item_by_code(session, tenant, item_code)
    except NotFound:
        raise NotFound(f"事项 {item_code} 不存在", field="item") from None
    if item.status is not ItemStatus.active or item.live_version_id is None:
        raise Conflict("该事项当前不受理申请", field="item")
    content = dict(item.effective or {})
    check_available(session, tenant, item.code, content)  # 暂停办理: its plugin is missing
    if channel == "online" and not applies_online(content):
        raise InvalidInput("该事项不支持网上申办，请到窗口办理", field="item")
    if delivery not in content.get("delivery", ["pickup"]):
        raise InvalidInput(f"该事项不支持“{delivery}”送达方式", field="delivery")
    # what is there must be right now; what is missing may come later (the draft is saved as
    # the applicant goes, and the submission asks for everything)
    form = require_valid(parse_form(content.get("form") or []), form, complete=False)
    if delivery == "courier" and (address or "").strip():
        address = check_address(address)  # a bad one: 422 on address, nothing created
    definition = resolve_definition(session, tenant, content.get("process") or "short")
    today = clock.today()
    version = _version_number(session, item.live_version_id)
    case = Case(
        tenant_id=tenant.id,
        id=new_id(),
        number=next_number(session, tenant, today),
        query_code=query_code(),
        idempotency_key=idempotency_key,
        state=CaseState.draft,
        item_id=item.id,
        item_code=item.code,
        item_name=item.name,
        item_version_id=item.live_version_id,
        item_version=version,
        content=content,
        definition=msgspec.to_builtins(definition),
        department_code=item.department_code,
        applicant_id=account.id,
        applicant_kind=account.kind.value,
        applicant_name=applicant_name,
        applicant_phone=account.phone,
        channel=channel,
        agent_id=agent.id if agent else None,
        agent_name=agent.name if agent else None,
        origin_unit_id=_agent_unit(agent) if agent else None,
        # how the person agreed, not the code they told (used up; an sms_code was checked)
        consent={"method": consent.method, "note": consent.note} if consent else None,
        form=form,
        delivery_method=delivery,
        delivery_address=(address or "").strip() or None,
        fee_status=FeeStatus.free,
        fee_total="0",
        extension_days=0,
        corrections=0,
        event_count=0,
        last_hash="",
        created_at=clock.now(),
    )
    session.add(case)
    session.flush()
    append_event(
        session,
        case,
        Actor.of(principal),
        "create",
        from_state="",
        data={"item": item.code, "version": version, "channel": channel}
        | ({"consent": case.consent, "for": account.name} if agent else {}),
    )
    session.flush()
    return case, True


def _version_number(session: Session, version_id: uuid.UUID) -> int:
    row = session.scalars(select(ItemVersion).where(ItemVersion.id == version_id)).first()
    return row.number if row else 0


def _start(session: Session, tenant: Tenant, case: Case, step_code: str) -> None:
    """Open ``step_code``; steps the applicant's side already did (applying, the agent's own
    collection) or below the level the case came in at are completed on the spot."""
    definition = engine.definition_of(case)
    today = clock.today()
    queue = [engine.open_step(session, case, definition.step(step_code), today)]
    while queue:
        task = queue.pop(0)
        skip = (
            task.role == "applicant"
            or (task.role == "agent" and case.channel == "agent")
            or (task.level in ("village", "township") and case.origin_unit_id is None)
        )
        if skip:
            opened, _ = engine.finish(session, case, task, "submitted", today)
            queue.extend(opened)


def submit_case(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    number: str,
    *,
    with_bundle: bool = False,
) -> Case:
    """Submit a draft; a bundle's parent submits all its sub-cases (``with_bundle``: no
    receipt SMS of their own, the parent's receipt lists them). A sub-case is never
    submitted alone."""
    case = get_case(session, number, principal, lock=True, with_materials=True)
    return submit_locked(session, tenant, principal, case, with_bundle=with_bundle)


def submit_locked(
    session: Session,
    tenant: Tenant,
    principal: Principal,
    case: Case,
    *,
    with_bundle: bool = False,
) -> Case:
    """:func:`submit_case` for a case the caller has just read with
    ``get_case(..., lock=True, with_materials=True)`` (the submit button reads it once)."""
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以提交")
    if case.state is not CaseState.draft:
        if already_done(session, principal, case, "submit"):
            return case  # a retry: the first attempt went through, its answer was lost
        raise Conflict(f"办件已提交（当前状态：{case.state.value}）", field="state")
    if case.bundle_code:  # the submit button goes through core.cases.bundles.submit
        raise Conflict("联办申请须整体提交", field="state")
    if case.parent_id and not with_bundle:
        raise Conflict("联办事项请在联办申请中统一提交", field="state")
    require_submittable(session, tenant, case)  # everything missing named; the county's rules
    if case.form_first is None:
        case.form_first = dict(case.form or {})  # what a correction is compared with
    engine.no_tasks_yet(session, case)
    with session.no_autoflush:  # one flush at commit: each statement is a round trip
        case.state, case.submitted_at = CaseState.submitted, clock.now()
        _start(session, tenant, case, engine.definition_of(case).start)
        engine.recompute_deadlines(session, tenant, case, suspended=[])
    append_event(session, case, Actor.of(principal), "submit", from_state="draft")
    issue_notice(
        session,
        tenant,
        case,
        "receipt",
        [
            "您的申请材料已收到，我们将在规定时限内完成预审并告知是否受理。",
            f"查询码：{case.query_code}（凭办件编号和查询码可在网上查询办理进度）。",
        ],
    )
    issue_application(session, tenant, case)
    if not with_bundle:
        notify(session, tenant, case, "case_received", query_code=case.query_code)
    return case


def correct_case(session: Session, tenant: Tenant, principal: Principal, number: str) -> Case:
    """The applicant has replaced every material the correction notice named: back to
    pre-review, the step that asked for it reopens and its clock starts again."""
    case = get_case(session, number, principal, lock=True)
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以提交补正")
    if case.state is not CaseState.correcting:
        if already_done(session, principal, case, "correct"):
            return case  # a retry of the correction that went through
        raise Conflict(f"办件不在补正状态（当前状态：{case.state.value}）", field="state")
    still = {
        f"materials[{m.spec_index}]": f"「{m.name}」尚未补正"
        for m in current_materials(session, case)
        if m.status == "rejected"
    }
    if still:
        raise FormInvalid(still)
    require_submittable(session, tenant, case)
    tasks = engine.tasks_of(session, case)
    asked = next(t for t in reversed(tasks) if t.outcome == "correction")
    case.state = CaseState.submitted
    engine.open_step(session, case, engine.definition_of(case).step(asked.step), clock.today())
    session.flush()
    engine.recompute_deadlines(session, tenant, case)
    append_event(session, case, Actor.of(principal), "correct", from_state="correcting")
    if dict(case.form or {}) != dict(case.form_first or {}):
        issue_application(session, tenant, case, corrected=True)
    return case


def withdraw_case(
    session: Session, tenant: Tenant, principal: Principal, number: str, reason: str = ""
) -> Case:
    case = get_case(session, number, principal, lock=True)
    if not is_filer(principal, case):
        raise Forbidden("只有申请人或代办人可以撤回")
    allowed = (
        CaseState.draft,
        CaseState.submitted,
        CaseState.correcting,
        CaseState.in_progress,
        CaseState.suspended,
    )
    if case.state not in allowed:
        if already_done(session, principal, case, "withdraw"):
            return case  # a retry of the withdrawal that went through
        raise Conflict(f"办件已{case.state.value}，不能撤回", field="state")
    before = case.state
    engine.cancel_open(session, case)
    engine.end_suspensions(session, case)
    case.state, case.due_on = CaseState.withdrawn, None
    append_event(
        session, case, Actor.of(principal), "withdraw", from_state=before.value, reason=reason
    )
    fees.refund_if_paid(session, tenant, case, Actor.of(principal), "申请人撤回")
    return case
