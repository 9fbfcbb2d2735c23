"""Application forms end to end through the API and the case service: 户口迁移 at Hechi asks
for the applicant, both addresses and the reason (with what each reason needs); a submission
names every missing and wrong field at once; what we know of the applicant is prefilled; staff
see personal values masked until they reveal them (on the trail); a correction may name a form
field, and the application (申请表) is printed at submission and again after a correction."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

from core.cases.forms import prefill_for
from core.cases.models import CaseEvent
from core.db import Database
from core.forms import FormField
from tests.cases.conftest import Desk
from tests.helpers import account_token, bearer, staff_token

CITIZEN = "13800000008"  # 李娜, a demo citizen of Guangxi
HER_ID = "450102199207080224"
ITEM = "HC-HJ01"  # 户口迁移: three materials, a form with conditions and a table
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def move(**typed: Any) -> dict[str, Any]:
    """A complete 户口迁移 form: moving for work from 宜州区 to 金城江区."""
    return {
        "applicant_name": "李娜",
        "applicant_id_number": HER_ID,
        "contact_phone": CITIZEN,
        "move_from": {"division": "451203", "street": "庆远镇中山路 12 号"},
        "move_to": {"division": "451202", "street": "金城江街道新建路 8 号"},
        "reason": "work",
        "receiving_unit": "河池市示范科技有限公司",
        "head_name": "李娜",
        "relation_to_head": "head",
        **typed,
    }


def _upload_all(client, token: str, number: str, count: int = 3) -> None:
    for index in range(count):
        sent = client.post(
            f"/api/v1/t/hechi/cases/{number}/materials",
            files={"file": ("a.pdf", io.BytesIO(PDF), "application/pdf")},
            data={"index": str(index)},
            headers=bearer(token),
        )
        assert sent.status_code == 201, sent.text


def _pdf_text(client, token: str, number: str, code: str) -> str:
    got = client.get(f"/api/v1/t/hechi/cases/{number}/notices/{code}/pdf", headers=bearer(token))
    assert got.status_code == 200
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(got.content)).pages)


def test_the_form_is_published_as_json_schema(client) -> None:
    got = client.get(f"/api/v1/t/hechi/items/{ITEM}/form")
    assert got.status_code == 200 and got.headers["content-type"].startswith(
        "application/schema+json"
    )
    schema = got.json()
    assert schema["title"] == "户口迁移（市外迁入）申请表"
    assert {"applicant_id_number", "move_from", "reason", "movers"} <= set(schema["properties"])
    assert schema["properties"]["move_from"]["x-govhall-type"] == "address"
    assert schema["properties"]["applicant_name"]["x-govhall-prefill"] == "person.name"
    assert client.get("/api/v1/t/hechi/items/NOPE-1/form").status_code == 404


def test_a_submission_names_every_missing_and_wrong_field_at_once(client, db: Database) -> None:
    token = account_token(db, "hechi", CITIZEN)

    def hers() -> int:
        listed = client.get("/api/v1/t/hechi/cases?limit=100", headers=bearer(token)).json()
        return sum(c["item_code"] == ITEM for c in listed["cases"])

    before = hers()
    form = move(applicant_id_number=HER_ID[:-1] + "9")
    del form["move_to"]
    refused = client.post(
        "/api/v1/t/hechi/cases",
        json={"item": ITEM, "form": form, "submit": True},
        headers=bearer(token),
    )
    assert refused.status_code == 422, refused.text
    problems = {p["field"]: p["detail"] for p in refused.json()["problems"]}
    assert set(problems) == {"form.applicant_id_number", "form.move_to"}
    assert "校验位" in problems["form.applicant_id_number"]
    assert problems["form.move_to"] == "请填写「迁入地址」"
    assert hers() == before  # nothing was created

    # a draft may be incomplete, never wrong
    wrong = client.post(
        "/api/v1/t/hechi/cases",
        json={"item": ITEM, "form": {"contact_phone": "1380000"}},
        headers=bearer(token),
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "form.contact_phone"
    draft = client.post(
        "/api/v1/t/hechi/cases",
        json={"item": ITEM, "form": {"reason": "other"}},
        headers=bearer(token),
    )
    assert draft.status_code == 201
    number = draft.json()["number"]
    open_form = client.get(f"/api/v1/t/hechi/cases/{number}/form", headers=bearer(token)).json()
    missing = {m["field"] for m in open_form["missing"]}
    assert {"form.reason_other", "form.move_from", "materials[0]"} <= missing
    assert "form.receiving_unit" not in missing  # asked only when moving for work
    assert open_form["prefill"]["applicant_id_number"] == HER_ID  # what we know of her

    early = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=bearer(token))
    assert early.status_code == 422
    assert {p["field"] for p in early.json()["problems"]} == missing

    saved = client.put(
        f"/api/v1/t/hechi/cases/{number}/form",
        json={"form": move(reason="other", reason_other="照顾年迈父母")},
        headers=bearer(token),
    )
    assert saved.status_code == 200, saved.text
    assert (
        saved.json()["form"]["move_to"]["text"]
        == "广西壮族自治区 河池市 金城江区金城江街道新建路 8 号"
    )
    assert "receiving_unit" not in saved.json()["form"]  # hidden by the reason: not kept
    _upload_all(client, token, number)
    done = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=bearer(token))
    assert done.status_code == 200, done.text
    late = client.put(
        f"/api/v1/t/hechi/cases/{number}/form", json={"form": move()}, headers=bearer(token)
    )
    assert late.status_code == 409  # submitted: the form is the department's now


def test_what_we_know_of_the_applicant_is_prefilled(hechi: Desk) -> None:
    her = hechi.citizen(CITIZEN)
    fields = [
        FormField(key="n", label="姓名", prefill="person.name"),
        FormField(key="i", label="身份证号", prefill="person.id_number"),
        FormField(key="p", label="手机", prefill="person.phone"),
        FormField(key="head_name", label="户主", prefill="last_case"),
        FormField(key="e", label="企业", prefill="enterprise.name"),
    ]
    with hechi.session() as s:
        first = prefill_for(s, hechi.tenant, her.id, ITEM, fields, {})
        kept = prefill_for(s, hechi.tenant, her.id, ITEM, fields, {"n": "已填的名字"})
    assert {k: first[k] for k in "nip"} == {"n": "李娜", "i": HER_ID, "p": CITIZEN}
    assert "e" not in first  # she is a person, not an enterprise
    assert "n" not in kept  # what the applicant typed is never replaced
    hechi.apply(her, ITEM, form=move(head_name="李大山", relation_to_head="child"))
    with hechi.session() as s:
        again = prefill_for(s, hechi.tenant, her.id, ITEM, fields, {})
    assert again["head_name"] == "李大山"  # from her last case of this item


def test_staff_reveal_personal_values_on_the_trail_and_see_a_correction(
    client, db: Database, hechi: Desk
) -> None:
    citizen = account_token(db, "hechi", CITIZEN)
    number = hechi.apply(hechi.citizen(CITIZEN), ITEM, form=move())
    clerk = staff_token(db, "hechi", "hechi-clerk")
    seen = client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(clerk)).json()
    assert seen["form"]["applicant_id_number"] == "4501**********0224"  # masked for staff
    revealed = client.post(f"/api/v1/t/hechi/cases/{number}/form/reveal", headers=bearer(clerk))
    assert revealed.status_code == 200 and revealed.json()["applicant_id_number"] == HER_ID
    stranger = account_token(db, "hechi", "13800000001")
    assert (
        client.post(
            f"/api/v1/t/hechi/cases/{number}/form/reveal", headers=bearer(stranger)
        ).status_code
        == 404
    )
    with hechi.session() as s:
        case = hechi.case(number)
        actions = s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id)).all()
    assert "form_revealed" in actions

    # the clerk names one field of the form in the one-time correction notice
    asked = client.post(
        f"/api/v1/t/hechi/cases/{number}/actions",
        json={
            "action": "request_correction",
            "reason": "请核对迁入地址",
            "fields": [{"key": "move_to", "reason": "门牌号与房产证不一致"}],
        },
        headers=bearer(clerk),
    )
    assert asked.status_code == 200, asked.text
    notice = next(n for n in asked.json()["notices"] if n["kind"] == "correction")
    assert "门牌号与房产证不一致" in _pdf_text(client, citizen, number, notice["code"])
    corrected = move(move_to={"division": "451202", "street": "金城江街道新建路 18 号"})
    put = client.put(
        f"/api/v1/t/hechi/cases/{number}/form", json={"form": corrected}, headers=bearer(citizen)
    )
    assert put.status_code == 200, put.text
    back = client.post(f"/api/v1/t/hechi/cases/{number}/correct", headers=bearer(citizen))
    assert back.status_code == 200, back.text
    case = hechi.case(number)
    assert case.form_first["move_to"]["street"] == "金城江街道新建路 8 号"  # as first submitted
    assert case.form["move_to"]["street"] == "金城江街道新建路 18 号"
    applications = [n for n in back.json()["notices"] if n["kind"] == "application"]
    assert len(applications) == 2  # at submission, and after the correction
    printed = _pdf_text(client, citizen, number, applications[-1]["code"])
    assert "补正后" in printed and "新建路 18 号" in printed
    assert HER_ID not in printed and "4501" in printed  # the ID number partly masked


def test_a_clerk_filing_for_someone_is_not_shown_what_we_know_of_them(hechi: Desk) -> None:
    """Typing a citizen's phone at the counter must not fill in their full name, ID number
    or earlier forms: the clerk types what the person shows them. The citizen's own view of
    the same draft is prefilled."""
    from core.cases.forms import prefill
    from core.cases.models import Case
    from core.cases.service import Applicant, Consent

    clerk = hechi.staff("hechi-clerk")
    number = hechi.apply(
        clerk,
        ITEM,
        submit=False,
        applicant=Applicant(phone=CITIZEN, name="李娜"),
        consent=Consent(method="signed_form"),
    )
    with hechi.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case is not None
        assert prefill(s, hechi.tenant, case, clerk) == {}
        hers = prefill(s, hechi.tenant, case, hechi.citizen(CITIZEN))
    assert hers["applicant_id_number"] == HER_ID


def test_typing_a_phone_at_the_counter_never_tells_whose_it_is(hechi: Desk) -> None:
    """The applicant's name on a counter or agent case is the one typed from the ID card;
    a phone whose owner confirmed their name and ID number takes only a matching name and
    ID number, and a mismatch says so without the registered name. A phone whose owner
    never confirmed theirs links the case and leaves the account as it was."""
    from core.cases.models import Case
    from core.cases.service import Applicant, Consent, create_case
    from core.db import blind_index, new_id
    from core.errors import InvalidInput
    from core.identity import Account, AccountKind
    from core.identity.service import find_account_by_phone

    clerk = hechi.staff("hechi-clerk")
    consent = Consent(method="in_person")

    def file(applicant: Applicant) -> Case:
        with hechi.session() as s:
            case, _ = create_case(
                s, hechi.tenant, clerk, ITEM, applicant=applicant, consent=consent
            )
            s.commit()
            return case

    for wrong in (
        Applicant(phone=CITIZEN, name="王五"),
        Applicant(phone=CITIZEN, name="李娜", id_number="11010519491231002X"),
        Applicant(phone=CITIZEN),
    ):
        with pytest.raises(InvalidInput) as refused:
            file(wrong)
        assert refused.value.field == "applicant.name"
        assert "李娜" not in refused.value.detail and "李" not in refused.value.detail
    assert file(Applicant(phone=CITIZEN, name="李娜", id_number=HER_ID)).applicant_name == "李娜"

    # signed in once by SMS, never confirmed: the account is named after its phone, as the
    # first sign-in names it
    fresh = "13900007731"
    with hechi.session() as s:
        s.add(
            Account(
                province_id=hechi.tenant.province_id,
                id=new_id(),
                kind=AccountKind.citizen,
                name="用户7731",
                phone=fresh,
                phone_index=blind_index(fresh),
            )
        )
        s.commit()
    case = file(Applicant(phone=fresh, name="张伟"))
    assert case.applicant_name == "张伟"
    with hechi.session() as s:
        account = find_account_by_phone(s, hechi.tenant.province_id, fresh)
        assert isinstance(account, Account) and account.id == case.applicant_id
        assert account.name == "用户7731"  # what the clerk typed is the case's, not the account's


def test_consent_by_sms_needs_the_code_the_person_was_sent(hechi: Desk, sms_outbox) -> None:
    """短信验证授权 is the person's code, not the agent's say-so: without a code, or with a
    wrong one, nothing is filed (a wrong one counted even so); the code the person received
    — naming the agent and the item — files the case once, and opens no sign-in."""
    from core.cases.models import Case
    from core.cases.service import Applicant, Consent, create_case
    from core.errors import InvalidInput
    from core.identity.errors import BadCredentials
    from core.identity.models import OneTimeCode
    from core.identity.service import request_consent_code, sign_in_account_with_code
    from tests.helpers import last_sms, sms_code

    agent = hechi.staff("hechi-agent")
    applicant = Applicant(phone=CITIZEN, name="李娜")

    def file(code: str) -> Case:
        with hechi.session() as s:
            case, _ = create_case(
                s,
                hechi.tenant,
                agent,
                ITEM,
                applicant=applicant,
                consent=Consent(method="sms_code", code=code),
            )
            s.commit()
            return case

    with pytest.raises(InvalidInput) as missing:
        file("")
    assert missing.value.field == "consent.code"
    with hechi.session() as s:
        request_consent_code(s, hechi.tenant, CITIZEN, agent=agent.name, item="社保卡申领")
        s.commit()
    told = last_sms(sms_outbox)
    assert agent.name in told["text"] and "社保卡申领" in told["text"]
    code = sms_code(sms_outbox)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidInput) as refused:
        file(wrong)
    assert refused.value.field == "consent.code"
    with hechi.session() as s:  # the wrong try was counted, though nothing was filed
        attempts = s.scalars(select(OneTimeCode.attempts).order_by(OneTimeCode.created_at.desc()))
        assert next(iter(attempts)) == 1
    with hechi.session() as s, pytest.raises(BadCredentials):
        sign_in_account_with_code(s, hechi.tenant, CITIZEN, code)  # not a sign-in code
    assert file(code).agent_id == agent.id
    with pytest.raises(InvalidInput):
        file(code)  # used up
