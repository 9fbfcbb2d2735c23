"""Joint approval (联审联办): Suning's 四证一章 opens five sub-cases from one form and its parent
completes only after all five; Cili's 投资报建 runs 60 working days overall with one unified
fee and an optional item that does not hold it back; a bundle naming an item the county does
not offer cannot be enabled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.calendar import calendar_for
from core.cases import clock
from core.cases.bundles import bundles_of, combined_form, open_bundle, sub_cases
from core.cases.bundles import submit as submit_bundle_or_case
from core.cases.forms import save_form
from core.cases.models import Case, CaseEvent, CaseTask, TaskState
from core.cases.service import commit
from core.errors import InvalidInput, NotFound
from core.forms import FormInvalid
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk
from tests.form_values import as_posted, values_for


def filled(d: Desk, code: str, **typed: Any) -> dict[str, Any]:
    """What a careful applicant types into the bundle's one form (一表通)."""
    with d.session() as s:
        bundle = bundles_of(s, d.tenant)[code]
        values = values_for(combined_form(s, d.tenant, bundle), d.tenant.division_code)
    return {**values, **typed}


COMPANY_NAME = "肃宁县示范商贸有限公司"


def desk(db: Any, slug: str, offer: list[str]) -> Iterator[Desk]:
    d = Desk(db, slug)
    manager = get_plugin_manager()
    with d.session() as s:
        before = manager.states(s, d.tenant)["bundles"]
        was_on, was_config = before.enabled, dict(before.raw_config)
        manager.set_enabled(s, d.tenant, "bundles", True, {"offer": offer})
        s.commit()
    yield d
    # as the demo pack left it (the demo counties offer their bundles), not simply off
    with d.session() as s:
        manager.set_enabled(s, d.tenant, "bundles", was_on, was_config)
        s.commit()


@pytest.fixture
def suning(db) -> Iterator[Desk]:
    yield from desk(db, "suning", ["SN-4Z1Z"])


@pytest.fixture
def cili(db) -> Iterator[Desk]:
    yield from desk(db, "cili", ["CL-TZBJ", "CL-QYKB"])


def apply_bundle(d: Desk, phone: str, code: str, form: dict[str, str]) -> tuple[str, list[str]]:
    who = d.citizen(phone)
    with d.session() as s:
        parent, created = open_bundle(s, d.tenant, who, code, form=form)
        assert created
        number = parent.number
        subs = [(c.number, len(c.content.get("materials") or [])) for c in sub_cases(s, parent)]
        commit(s)
    return number, [n for n, _ in subs]


def upload_all(d: Desk, phone: str, numbers: list[str]) -> None:
    who = d.citizen(phone)
    for number in numbers:
        for index in range(len(d.case(number).content.get("materials") or [])):
            d.upload(who, number, index)


def submit(d: Desk, phone: str, number: str) -> None:
    with d.session() as s:
        submit_bundle_or_case(s, d.tenant, d.citizen(phone), number)
        commit(s)


def decide(d: Desk, clerk: str, worker: str, number: str) -> None:
    d.act(d.staff(clerk), number, "accept")
    d.act(d.staff(worker), number, "review")
    d.act(d.staff(worker), number, "approve")


def test_si_zheng_yi_zhang_opens_five_sub_cases_and_completes_after_all(suning: Desk) -> None:
    phone = "13800000064"
    company = filled(suning, "SN-4Z1Z", enterprise_name=COMPANY_NAME)
    with suning.session() as s, pytest.raises(FormInvalid) as wrong:
        bad = {**company, "legal_rep_id_number": "130926198001011230"}
        open_bundle(s, suning.tenant, suning.citizen(phone), "SN-4Z1Z", form=bad)
    assert list(wrong.value.problems) == ["form.legal_rep_id_number"]
    assert "校验位不符" in wrong.value.problems["form.legal_rep_id_number"]
    half = {k: v for k, v in company.items() if k != "business_scope"}
    parent, subs = apply_bundle(suning, phone, "SN-4Z1Z", half)  # a draft may be incomplete
    assert len(subs) == 5
    assert sorted(suning.case(n).item_code for n in subs) == [f"SN-LB0{i}" for i in range(1, 6)]

    with pytest.raises(FormInvalid) as not_yet:  # nothing submitted while anything lacks
        submit(suning, phone, parent)
    assert not_yet.value.problems["form.business_scope"].startswith("请填写「经营范围")
    lacking = [m for p, m in not_yet.value.problems.items() if p.startswith("sub_cases[")]
    assert any(m.startswith("企业设立登记") for m in lacking)  # each sub-case's materials
    with suning.session() as s:
        save_form(s, suning.tenant, suning.citizen(phone), parent, company)
        commit(s)
    for n in subs:  # the one form, saved on the parent, reached every department
        sub = suning.case(n)
        assert sub.form["enterprise_name"] == COMPANY_NAME
        assert sub.form["legal_rep_id_number"] == company["legal_rep_id_number"]
    registration = next(suning.case(n) for n in subs if suning.case(n).item_code == "SN-LB01")
    assert registration.form["business_scope"] == company["business_scope"]  # its own part
    seal = next(suning.case(n) for n in subs if suning.case(n).item_code == "SN-LB05")
    assert "business_scope" not in seal.form and seal.form["seals"] == company["seals"]
    assert all(suning.case(n).state.value == "draft" for n in subs)
    upload_all(suning, phone, subs)
    submit(suning, phone, parent)
    top = suning.case(parent)
    assert top.state.value == "in_progress" and top.due_on is not None
    assert all(suning.case(n).state.value == "submitted" for n in subs)
    depts = {suning.case(n).department_code for n in subs}
    assert depts == {"SN-SCJ", "SN-ZLJ", "SN-GSJ", "SN-DSJ", "SN-GAJ"}  # each its own clock

    for number in subs[:-1]:
        decide(suning, "suning-clerk", "suning-lianban", number)
        assert suning.case(parent).state.value == "in_progress"  # not until all five
    decide(suning, "suning-clerk", "suning-lianban", subs[-1])
    done = suning.case(parent)
    assert (done.state.value, done.decision) == ("completed", "approved")
    with suning.session() as s:
        last = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == done.id).order_by(CaseEvent.seq.desc())
        ).first()
        open_tasks = s.scalars(
            select(CaseTask).where(CaseTask.case_id == done.id, CaseTask.state == TaskState.open)
        ).all()
    assert last.action == "settle" and open_tasks == []


def test_investment_projects_run_sixty_days_with_one_fee_and_an_optional_item(
    cili: Desk,
) -> None:
    phone = "13800000043"
    parent, subs = apply_bundle(cili, phone, "CL-TZBJ", filled(cili, "CL-TZBJ"))
    upload_all(cili, phone, subs)
    submit(cili, phone, parent)
    top = cili.case(parent)
    with cili.session() as s:
        expected = calendar_for(s, cili.tenant).add_working_days(clock.today(), 60)
    assert top.due_on == expected and (top.due_on - clock.today()).days >= 80
    assert (top.fee_status.value, top.fee_total) == ("unpaid", "10.00")  # 统一收费, once
    assert all(cili.case(n).fee_status.value == "free" for n in subs)
    by_item = {cili.case(n).item_code: n for n in subs}
    assert cili.case(by_item["CL-TZ05"]).optional  # the environmental approval may lag
    for code in ("CL-TZ01", "CL-TZ02", "CL-TZ03", "CL-TZ04"):
        decide(cili, "cili-clerk", "cili-lianban", by_item[code])
    assert cili.case(parent).state.value == "in_progress"  # the fee is not paid yet
    cili.act(cili.staff("cili-clerk"), parent, "pay", amount="10", reference="POS-88")
    done = cili.case(parent)
    assert (done.state.value, done.decision) == ("completed", "approved")
    assert cili.case(by_item["CL-TZ05"]).state.value == "submitted"  # still on its own clock


def test_a_bundle_with_an_item_the_county_lacks_cannot_be_enabled(db) -> None:
    hechi = Desk(db, "hechi")
    manager = get_plugin_manager()
    with hechi.session() as s:
        with pytest.raises(InvalidInput) as refused:
            manager.set_enabled(s, hechi.tenant, "bundles", True, {"offer": ["SN-4Z1Z"]})
        assert "SN-LB01" in refused.value.detail
        s.rollback()
        with pytest.raises(InvalidInput):
            manager.set_enabled(s, hechi.tenant, "bundles", True, {"offer": ["NOPE"]})
        s.rollback()
    with hechi.session() as s, pytest.raises(NotFound):
        open_bundle(s, hechi.tenant, hechi.citizen("13800000001"), "SN-4Z1Z", form={})


def test_the_bundle_api_lists_and_opens_with_one_form(cili: Desk, client, db) -> None:
    from tests.helpers import account_token, bearer

    listed = client.get("/api/v1/t/cili/bundles").json()
    codes = {b["code"]: b for b in listed}
    assert codes["CL-TZBJ"]["overall_days"] == 60 and len(codes["CL-QYKB"]["items"]) == 4
    assert client.get("/api/v1/t/hechi/bundles").json() == []  # not offered there
    token = account_token(db, "cili", "13800000043")
    headers = {**bearer(token), "Idempotency-Key": "kb-1"}
    url = "/api/v1/t/cili/bundles/CL-QYKB/cases"
    form = client.get("/api/v1/t/cili/bundles/CL-QYKB/form")
    assert form.status_code == 200 and form.headers["content-type"].startswith(
        "application/schema+json"
    )
    schema = form.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"enterprise_name", "legal_rep_id_number", "invoice_types"} <= set(schema["properties"])
    layout = [e.get("heading") for e in schema["x-govhall-layout"] if "heading" in e]
    assert layout[0].startswith("共同信息") and len(layout) == 5  # shared, then each item
    company = filled(cili, "CL-QYKB", enterprise_name="慈利示范")
    assert client.get("/api/v1/t/hechi/bundles/CL-QYKB/form").status_code == 404
    bad = client.post(
        url,
        json={
            "form": {"enterprise_name": "x", "contact_phone": "1380000", "legal_rep_id_number": "1"}
        },
        headers=headers,
    )
    assert bad.status_code == 422
    named = {p["field"] for p in bad.json()["problems"]}
    assert named == {"form.contact_phone", "form.legal_rep_id_number"}  # every problem at once
    made = client.post(url, json={"form": company}, headers=headers)
    assert made.status_code == 201, made.text
    again = client.post(url, json={"form": company}, headers=headers)
    assert again.status_code == 200 and again.json()["number"] == made.json()["number"]
    body = made.json()
    assert body["bundle"] == "CL-QYKB" and len(body["sub_cases"]) == 4
    child = client.get(
        f"/api/v1/t/cili/cases/{body['sub_cases'][0]['number']}", headers=bearer(token)
    ).json()
    assert child["parent"] == body["number"]
    with cili.session() as s:
        assert s.scalar(select(Case.fee_total).where(Case.number == body["number"])) == "0"


def test_the_portal_offers_the_bundle_and_keeps_what_was_typed(app, suning: Desk) -> None:
    import re

    from litestar.testing import TestClient

    from tests.helpers import csrf_token

    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = csrf_token(browser, "/t/suning/login")
        browser.post(
            "/t/suning/login/password",
            data={"phone": "13800000071", "password": "Demo-2026", "_csrf_token": token},
        )
        home = browser.get("/t/suning/")
        assert 'data-testid="bundles"' in home.text and "四证一章联办" in home.text
        page = browser.get("/t/suning/bundles/SN-4Z1Z")
        assert page.status_code == 200 and 'name="form.enterprise_name"' in page.text
        key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
        typed = as_posted(filled(suning, "SN-4Z1Z", enterprise_name=COMPANY_NAME))
        wrong = {**typed, "form.legal_rep_id_number": "130926198001011230"}
        refused = browser.post(
            "/t/suning/bundles/SN-4Z1Z", data={**wrong, "_csrf_token": token, "key": key}
        )
        assert refused.status_code == 422 and "」有误（校验位不符）" in refused.text
        assert COMPANY_NAME in refused.text  # nothing typed is lost
        assert 'aria-invalid="true"' in refused.text
        made = browser.post(
            "/t/suning/bundles/SN-4Z1Z",
            data={**typed, "_csrf_token": token, "key": key},
            follow_redirects=False,
        )
        assert made.status_code in (302, 303)
        parent_page = browser.get(made.headers["location"])
        assert parent_page.text.count("data-number=") == 5
        assert "核对并提交联办申请" in parent_page.text
        assert 'data-testid="application-form"' in parent_page.text  # the one form, editable
        child = re.search(r'data-number="([^"]+)"', parent_page.text).group(1)
        child_page = browser.get(f"/t/suning/my/cases/{child}")
        assert 'data-testid="parent"' in child_page.text
        assert 'data-testid="submit"' not in child_page.text  # only together, from the parent
        alone = browser.post(f"/t/suning/my/cases/{child}/do/submit", data={"_csrf_token": token})
        assert "统一提交" in alone.text
