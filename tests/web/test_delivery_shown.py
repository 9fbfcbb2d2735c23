"""Where the result goes is in sight after submission: the applicant's case page says 快递送达
and the address, and so does the clerk's, who posts the result there; a correction's form
keeps the address it had."""

from __future__ import annotations

from tests.cases.conftest import Desk
from tests.helpers import csrf_token

ADDRESS = "河池市金城江区新建路88号 李娜 13800000008"


def _sign_in(client, path: str, data: dict[str, str]) -> None:
    login = path.rsplit("/", 1)[0] if path.endswith("/password") else path
    data["_csrf_token"] = csrf_token(client, login)
    response = client.post(path, data=data, follow_redirects=False)
    assert response.status_code in (302, 303), response.text[:300]


def test_the_courier_address_is_shown_to_the_applicant_and_the_clerk(client, db) -> None:
    desk = Desk(db, "hechi")
    li = desk.citizen("13800000008")
    number = desk.apply(li, "HC-SC03", delivery="courier", address=ADDRESS)

    _sign_in(client, "/t/hechi/login/password", {"phone": "13800000008", "password": "Demo-2026"})
    mine = client.get(f"/t/hechi/my/cases/{number}").text
    assert "快递送达" in mine and ADDRESS in mine

    desk.act(
        desk.staff("hechi-clerk"),
        number,
        "request_correction",
        materials=[{"index": 0, "reason": "复印件不清晰"}],
    )
    correcting = client.get(f"/t/hechi/my/cases/{number}").text
    assert ADDRESS in correcting  # the form in correction keeps it

    client.cookies.clear()
    _sign_in(client, "/t/hechi/staff/login", {"username": "hechi-clerk", "password": "Demo-2026"})
    staff = client.get(f"/t/hechi/workbench/cases/{number}").text
    assert "快递送达" in staff and ADDRESS in staff


def test_after_submission_the_applicant_sees_personal_values_in_part(client, db) -> None:
    from core.catalog import get_item_by_code
    from core.forms import parse_form
    from tests.form_values import values_for

    desk = Desk(db, "hechi")
    li = desk.citizen("13800000008")
    with desk.session() as s:
        fields = parse_form(get_item_by_code(s, desk.tenant, "HC-HJ01").effective["form"])
    personal = [f for f in fields if f.personal and f.type == "id_number"]
    assert personal, "户口迁移 asks for an ID number"
    values = values_for(fields, "451202")  # 金城江区: addresses need a county
    number = desk.apply(li, "HC-HJ01", form=values)
    full = str(values[personal[0].key])

    _sign_in(client, "/t/hechi/login/password", {"phone": "13800000008", "password": "Demo-2026"})
    page = client.get(f"/t/hechi/my/cases/{number}").text
    assert 'data-testid="application-lines"' in page
    assert full not in page and full[:3] in page  # shown in part
