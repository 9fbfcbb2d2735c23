"""What staff may do on a case now (core.cases.available): the list agrees with what perform()
accepts for every state and demo role; the case page offers only it, with a plain empty state;
the 受理 opinion is kept; the applicant reveal is on the trail; materials preview inline; the
queues count and filter; a 首席代表 decides a delegated item on the spot; the API carries the
list."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.calendar import calendar_for
from core.cases.action_types import ACTIONS, STEP_ACTIONS, ActionIn, MaterialIssue
from core.cases.actions import perform
from core.cases.available import availability
from core.cases.engine import open_tasks
from core.cases.models import Case, CaseEvent, CaseMaterial
from core.cases.queue import QueueFilter, staff_queue
from core.catalog import get_item_by_code
from core.errors import GovhallError
from core.forms import parse_form
from core.identity import Principal
from tests.cases.conftest import Desk
from tests.form_values import values_for
from tests.helpers import bearer, csrf_token, staff_token

ITEM = "HC-SC03"  # accept → review → approve → issue
STAFF = ("hechi-clerk", "hechi-reviewer", "hechi-approver", "hechi-issuer", "hechi-supervisor")


def _payload(action: str, task: str | None) -> ActionIn:
    return ActionIn(
        action=action,
        task=task,
        reason="经审查",
        materials=[MaterialIssue(index=0, reason="不清晰")]
        if action == "request_correction"
        else [],
        kind="hearing" if action == "suspend" else None,
        days=3 if action in ("suspend", "extend") else None,
        amount=None,
    )


def _accepted(desk: Desk, number: str, action: str, task: str | None) -> bool:
    """Whether perform() takes the action (never committed)."""
    with desk.session() as s:
        who = _who[0]
        try:
            case = s.scalar(select(Case).where(Case.number == number))
            payload = _payload(action, task)
            if action == "pay":
                payload.amount = case.fee_total if case is not None else None
            perform(s, desk.tenant, who, number, payload)
            return True
        except GovhallError:
            return False
        finally:
            s.rollback()


_who: list[Principal] = []


def _cases(desk: Desk) -> list[str]:
    li = desk.citizen("13800000008")
    clerk, reviewer = desk.staff("hechi-clerk"), desk.staff("hechi-reviewer")
    approver = desk.staff("hechi-approver")
    submitted = desk.apply(li, ITEM)
    correcting = desk.apply(li, ITEM)
    desk.act(clerk, correcting, "request_correction", materials=[{"index": 0, "reason": "不清晰"}])
    reviewing = desk.apply(li, ITEM)
    desk.act(clerk, reviewing, "accept")
    approving = desk.apply(li, ITEM)
    desk.act(clerk, approving, "accept")
    desk.act(reviewer, approving, "review")
    suspended = desk.apply(li, ITEM)
    desk.act(clerk, suspended, "accept")
    desk.act(reviewer, suspended, "suspend", kind="hearing", days=5, reason="听证")
    issuing = desk.apply(li, ITEM)
    desk.act(clerk, issuing, "accept")
    desk.act(reviewer, issuing, "review")
    desk.act(approver, issuing, "approve")
    return [submitted, correcting, reviewing, approving, suspended, issuing]


def test_the_list_and_perform_agree_for_every_state_and_role(hechi: Desk) -> None:
    for number in _cases(hechi):
        for username in STAFF:
            who = hechi.staff(username)
            _who[:] = [who]
            with hechi.session() as s:
                case = s.scalar(select(Case).where(Case.number == number))
                assert case is not None
                can = availability(s, hechi.tenant, case, who)
                offered = {(a.code, a.task) for a in can.actions}
                tasks = [str(t.id) for t in open_tasks(s, case)]
            for action in ACTIONS:
                if action in STEP_ACTIONS or action == "claim":
                    for task in tasks:
                        assert _accepted(hechi, number, action, task) == (
                            (action, task) in offered
                        ), (number, username, action)
                elif action != "chief_decide":
                    assert _accepted(hechi, number, action, None) == ((action, None) in offered), (
                        number,
                        username,
                        action,
                    )


def _login(client: Any, username: str, slug: str = "hechi") -> None:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    response = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    assert response.status_code < 400


def test_the_page_offers_nothing_to_someone_with_nothing_to_do(hechi: Desk, client) -> None:
    number = hechi.apply(hechi.citizen("13800000008"), ITEM)
    _login(client, "hechi-reviewer")
    page = client.get(f"/t/hechi/workbench/cases/{number}").text
    assert 'data-testid="nothing-to-do"' in page
    assert "此件正在受理环节，由河池市政务服务中心的窗口受理员办理" in page
    assert 'value="accept"' not in page and 'value="review"' not in page
    assert "accept" not in page.split('data-testid="trail"')[1]  # the trail is in words


def test_the_accept_opinion_is_kept_and_shown(hechi: Desk, client) -> None:
    number = hechi.apply(hechi.citizen("13800000008"), ITEM)
    _login(client, "hechi-clerk")
    url = f"/t/hechi/workbench/cases/{number}"
    page = client.get(url).text
    assert 'value="accept"' in page
    with hechi.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        task = str(open_tasks(s, case)[0].id)
    token = csrf_token(client, url)
    client.post(
        f"{url}/act",
        data={
            "action": "accept",
            "task": task,
            "reason": "材料齐全，予以受理",
            "_csrf_token": token,
        },
    )
    with hechi.session() as s:
        event = s.scalar(
            select(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number == number, CaseEvent.action == "accept")
        )
        assert event is not None and event.reason == "材料齐全，予以受理"
    page = client.get(url).text
    assert "材料齐全，予以受理" in page and "受理" in page


def test_the_applicant_reveal_is_on_the_trail(hechi: Desk, client) -> None:
    number = hechi.apply(hechi.citizen("13800000008"), ITEM)
    _login(client, "hechi-clerk")
    url = f"/t/hechi/workbench/cases/{number}"
    page = client.get(url).text
    assert "138****0008" in page and "13800000008" not in page
    token = csrf_token(client, url)
    shown = client.post(
        f"{url}/applicant/reveal", data={"_csrf_token": token}, headers={"hx-request": "true"}
    ).text
    assert "13800000008" in shown
    with hechi.session() as s:
        count = s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number == number, CaseEvent.action == "applicant_revealed")
        )
    assert count == 1
    assert "查看申请人身份信息" in client.get(url).text


def test_a_material_is_previewed_with_its_own_type(hechi: Desk, client) -> None:
    number = hechi.apply(hechi.citizen("13800000008"), ITEM)
    with hechi.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        material = s.scalar(select(CaseMaterial).where(CaseMaterial.case_id == case.id))
        mid = material.id
    _login(client, "hechi-clerk")
    url = f"/t/hechi/workbench/cases/{number}"
    assert f"materials/{mid}/preview" in client.get(url).text
    response = client.get(f"{url}/materials/{mid}/preview")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.content.startswith(b"%PDF-")
    _login(client, "hechi-clerk")
    other = f"/t/hebei/workbench/cases/{number}/materials/{mid}/preview"
    assert client.get(other, follow_redirects=False).status_code in (302, 401, 403, 404)


def test_queues_count_and_filter(hechi: Desk, client) -> None:
    li, clerk = hechi.citizen("13800000008"), hechi.staff("hechi-clerk")
    hechi.apply(li, ITEM)
    accepted = hechi.apply(li, ITEM)
    hechi.act(clerk, accepted, "accept")
    reviewer = hechi.staff("hechi-reviewer")
    with hechi.session() as s:
        calendar, today = calendar_for(s, hechi.tenant), date.today()
        mine = staff_queue(s, clerk, today, calendar, QueueFilter())
        assert mine.counts.get("window_clerk", 0) >= 1
        assert all(r.queue in ("window_clerk", "deliver") for r in mine.rows)
        theirs = staff_queue(s, reviewer, today, calendar, QueueFilter(queue="reviewer"))
        assert theirs.total >= 1 and any(r.case.number == accepted for r in theirs.rows)
        none = staff_queue(s, reviewer, today, calendar, QueueFilter(item="没有这个事项"))
        assert none.total == 0 and sum(none.counts.values()) == 0
        dated = [r.due_on for r in theirs.rows if r.due_on]
        assert dated == sorted(dated)
        early = staff_queue(s, reviewer, today, calendar, QueueFilter(due_before=date(2000, 1, 1)))
        assert early.total == 0
        # a citizen at the counter names their case: its number finds it, whatever the page
        by_number = staff_queue(s, reviewer, today, calendar, QueueFilter(item=accepted))
        assert [r.case.number for r in by_number.rows] == [accepted]
    _login(client, "hechi-reviewer")
    html = client.get("/t/hechi/workbench/queue?queue=reviewer&colour=&item=").text
    assert accepted in html and 'data-testid="count-reviewer"' in html


def _filled(desk: Desk, item: str) -> dict[str, Any]:
    with desk.session() as s:
        fields = parse_form(get_item_by_code(s, desk.tenant, item).effective["form"])
    return values_for(fields, desk.tenant.division_code or "430821")


def test_a_chief_representative_decides_on_the_spot(db, client) -> None:
    cili = Desk(db, "cili")
    chief = cili.staff("cili-shouxi")
    values = _filled(cili, "CL-TZ01")
    number = cili.apply(cili.citizen("13800000057"), "CL-TZ01", form=values)
    with cili.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        codes = [a.code for a in availability(s, cili.tenant, case, chief).actions]
    assert "chief_decide" in codes
    _login(client, "cili-shouxi", "cili")
    url = f"/t/cili/workbench/cases/{number}"
    assert 'value="chief_decide"' in client.get(url).text
    token = csrf_token(client, url)
    client.post(
        f"{url}/act",
        data={"action": "chief_decide", "reason": "现场核验通过", "_csrf_token": token},
    )
    with cili.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case.state.value == "completed" and case.decision == "approved"
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        ).all()
    actions = [e.action for e in events]
    assert {"accept", "review", "approve", "chief_decide"} <= set(actions)
    last = [e for e in events if e.action == "chief_decide"][0]
    assert last.actor_name == "孙首席代表" and last.reason == "现场核验通过"
    assert "首席代表即办" in client.get(url).text
    # someone without the delegation is offered no such thing
    other = cili.apply(cili.citizen("13800000057"), "CL-TZ01", form=values)
    with cili.session() as s:
        case = s.scalar(select(Case).where(Case.number == other))
        clerk = cili.staff("cili-clerk")
        assert "chief_decide" not in [
            a.code for a in availability(s, cili.tenant, case, clerk).actions
        ]
    with pytest.raises(GovhallError):
        cili.act(clerk, other, "chief_decide")


def test_delegations_are_managed_by_the_admin_on_the_audit_log(db, client) -> None:
    cili = Desk(db, "cili")
    with cili.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
    _login(client, "cili-admin", "cili")
    url = "/t/cili/admin/chief-representatives/"
    page = client.get(url)
    assert page.status_code == 200 and "孙首席代表" in page.text
    token = csrf_token(client, url)
    bad = client.post(
        url, data={"username": "cili-lianban", "items": "NOPE-1", "_csrf_token": token}
    )
    assert bad.status_code == 422 and "NOPE-1" in bad.text
    client.post(url, data={"username": "cili-lianban", "items": "CL-TZ04", "_csrf_token": token})
    assert 'data-testid="delegation-cili-lianban"' in client.get(url).text
    client.post(f"{url}cili-lianban/remove", data={"_csrf_token": token})
    assert 'data-testid="delegation-cili-lianban"' not in client.get(url).text
    with cili.session() as s:
        after = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
    assert after - before == 2
    _login(client, "cili-clerk", "cili")
    assert client.get(url).status_code in (403, 404)


def test_the_api_carries_available_actions(hechi: Desk, db, client) -> None:
    number = hechi.apply(hechi.citizen("13800000008"), ITEM)
    clerk = staff_token(db, "hechi", "hechi-clerk")
    body = client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(clerk)).json()
    assert "accept" in [a["action"] for a in body["available_actions"]]
    reviewer = staff_token(db, "hechi", "hechi-reviewer")
    body = client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(reviewer)).json()
    assert [a["action"] for a in body["available_actions"]] == ["comment"]
    # who has it, and where: a clerk placed in a department would not see it in their queue
    assert body["waiting"] == "此件正在受理环节，由河池市政务服务中心的窗口受理员办理"


def test_a_review_on_the_page_needs_an_opinion(hechi: Desk, client) -> None:
    """审核意见 is the record of why: the page refuses 审核通过 with an empty box, says what to
    write, and takes it with one (the API leaves the opinion to the calling system)."""
    number = hechi.apply(hechi.citizen("13800000008"), ITEM)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    _login(client, "hechi-reviewer")
    url = f"/t/hechi/workbench/cases/{number}"
    token = csrf_token(client, url)
    empty = client.post(
        f"{url}/act", data={"action": "review", "reason": " ", "_csrf_token": token}
    )
    assert "请填写审核意见" in empty.text
    assert hechi.case(number).state.value == "in_progress"
    with hechi.session() as s:
        assert [
            t.step for t in open_tasks(s, s.scalar(select(Case).where(Case.number == number)))
        ] == ["review"]
    signed = client.post(
        f"{url}/act", data={"action": "review", "reason": "同意。", "_csrf_token": token}
    )
    assert "已审核通过，办件已转入下一环节" in signed.text
    with hechi.session() as s:
        steps = [t.step for t in open_tasks(s, s.scalar(select(Case).where(Case.number == number)))]
    assert steps != ["review"]


def test_the_whole_id_number_is_shown_only_to_who_works_the_case(hechi: Desk, client) -> None:
    """A clerk's reveal shows the applicant's confirmed ID number; the agent who filed the case
    for her, and an administrator who works no cases, get the phone only — the number she
    confirmed is not theirs to learn by typing her phone."""
    from core.cases.service import Applicant, Consent

    her_id = "450102199207080224"  # 李娜's, confirmed
    agent = hechi.staff("hechi-agent")
    number = hechi.apply(
        agent,
        ITEM,
        applicant=Applicant(phone="13800000008", name="李娜"),
        consent=Consent(method="signed_form"),
    )

    def revealed(username: str) -> str:
        _login(client, username)
        url = f"/t/hechi/workbench/cases/{number}"
        token = csrf_token(client, url)
        return client.post(
            f"{url}/applicant/reveal", data={"_csrf_token": token}, headers={"hx-request": "true"}
        ).text

    for who in ("hechi-agent", "hechi-admin"):
        shown = revealed(who)
        assert "13800000008" in shown, who
        assert her_id not in shown and "身份证号仅向办理、监察本件的工作人员完整显示" in shown, who
        client.post("/t/hechi/staff/logout", data={"_csrf_token": csrf_token(client, "/t/hechi/")})
        client.cookies.clear()
    assert her_id in revealed("hechi-clerk")


def test_a_clerk_who_submits_at_the_counter_lands_on_the_cases_working_page(
    hechi: Desk, client
) -> None:
    """Taking an application in at the counter ends on the case's working page, where 受理
    is, with a word on what to do — not on the applicant's view saying 请留意短信通知."""
    from core.cases.service import Applicant, Consent

    clerk = hechi.staff("hechi-clerk")
    number = hechi.apply(
        clerk,
        ITEM,
        submit=False,
        applicant=Applicant(phone="13800000008", name="李娜"),
        consent=Consent(method="in_person"),
    )
    _login(client, "hechi-clerk")
    mine = f"/t/hechi/my/cases/{number}"
    # the confirm step reads back whom the case is for, before it is submitted
    whom = (
        client.get(f"{mine}/review").text.split('data-testid="filed-for"')[1].split("</section>")[0]
    )
    assert "李娜" in whom and "13800000008" in whom and "本人到场确认" in whom
    token = csrf_token(client, mine)
    done = client.post(f"{mine}/do/submit", data={"_csrf_token": token}, follow_redirects=False)
    assert done.status_code in (302, 303), done.text
    assert done.headers["location"].startswith(f"/t/hechi/workbench/cases/{number}")
    page = client.get(done.headers["location"]).text
    assert "请核对材料后在“办理”中受理" in page and "请留意短信通知" not in page
    # the correction the clerk takes in at the counter goes back to the same page
    hechi.act(clerk, number, "request_correction", materials=[{"index": 0, "reason": "不清晰"}])
    hechi.upload(clerk, number, 0)
    token = csrf_token(client, mine)
    done = client.post(f"{mine}/do/correct", data={"_csrf_token": token}, follow_redirects=False)
    assert done.headers["location"].startswith(f"/t/hechi/workbench/cases/{number}")
    assert "请核对补正的材料后" in client.get(done.headers["location"]).text


def test_a_correction_offers_only_the_fields_the_applicant_was_shown(hechi: Desk, client) -> None:
    """居住证 on the grounds of a job: the clerk's 一次性补正 list offers the employer, not the
    housing or the landlord's fields the applicant never saw."""
    from core.catalog import get_item_by_code
    from core.forms import parse_form
    from tests.form_values import values_for

    with hechi.session() as s:
        item = get_item_by_code(s, hechi.tenant, "HC-HJ05")
        fields = parse_form((item.effective or {}).get("form") or [])
    form = values_for(fields, "451202")  # 金城江区: an address names a county
    form.update({"basis": "job", "employer": "河池市某某有限公司"})
    for hidden in ("housing", "landlord_name", "landlord_phone"):
        form.pop(hidden, None)
    number = hechi.apply(hechi.citizen("13800000008"), "HC-HJ05", form=form)
    _login(client, "hechi-clerk")
    page = client.get(f"/t/hechi/workbench/cases/{number}").text
    assert 'data-testid="fix-employer"' in page
    assert 'data-testid="fix-landlord_name"' not in page
    assert 'data-testid="fix-housing"' not in page
