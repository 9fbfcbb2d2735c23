"""我的 — a citizen's own space: the hub; my cases filtered by plain groups of states, the
item's name and the year, each state and next step in words; an e-license read, downloaded
and linked to its verification; favourites kept, listed and dropped (another county's item
is a 404, a visitor is sent to sign in); a finished case rated from the page; the real-name
step before a first application (a wrong check digit refused) and back to the application;
the mobile number changed by a code sent to the new number (a wrong code and a number in use
refused, other sessions ended)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from core.cases import clock
from core.cases.licenses import issue_license
from core.cases.models import Case
from core.db import Database, platform_scope
from core.identity import Account
from core.identity.service import create_account, find_account_by_phone
from core.tenancy import scope_for
from tests.cases.conftest import Desk
from tests.form_values import id_number
from tests.helpers import csrf_token, sms_code

LI = "13800000008"  # 李娜, a demo citizen of Guangxi with her ID number on file
ZHANG = "13800000001"
#: enum values and field paths that must never reach a Chinese page
IDENTIFIERS = re.compile(
    r"\b(draft|submitted|correcting|in_progress|suspended|refused|completed|delivered"
    r"|withdrawn|approved|denied|pickup|citizen|enterprise)\b"
)


@pytest.fixture(autouse=True)
def _clock_runs() -> Iterator[None]:
    yield
    clock.set_now(None)


def _visible(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _sign_in(client: TestClient, phone: str, password: str = "Demo-2026") -> str:
    token = csrf_token(client, "/t/hechi/login")
    answer = client.post(
        "/t/hechi/login/password",
        data={"phone": phone, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text
    return csrf_token(client, "/t/hechi/")


def _new_citizen(db: Database) -> str:
    """A citizen who signed up without giving a name or ID number (a first SMS sign-in)."""
    hechi = Desk(db, "hechi")
    phone = "136" + f"{secrets.randbelow(10**8):08d}"
    with hechi.session() as s:
        create_account(s, hechi.tenant, name="用户" + phone[-4:], phone=phone, password="Demo-2026")
        s.commit()
    return phone


def _finished(hechi: Desk, phone: str) -> str:
    number = hechi.apply(hechi.citizen(phone), "HC-SB05")  # 即办: decided at the counter
    hechi.act(hechi.staff("hechi-clerk"), number, "decide")
    return number


def test_my_cases_are_filtered_and_said_in_plain_words(app, db: Database) -> None:
    hechi = Desk(db, "hechi")
    li = hechi.citizen(LI)
    draft = hechi.apply(li, "HC-SC03", submit=False)
    waiting = hechi.apply(li, "HC-SC03")
    done = _finished(hechi, LI)
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        _sign_in(browser, LI)
        hub = browser.get("/t/hechi/my")
        assert hub.status_code == 200
        for section in ("/my/cases", "/my/licenses", "/my/favourites", "/my/ratings"):
            assert f'href="/t/hechi{section}"' in hub.text
        assert 'href="/t/hechi/my/consultations"' in hub.text
        assert 'href="/t/hechi/my/profile"' in hub.text

        every = browser.get("/t/hechi/my/cases")
        assert every.status_code == 200
        for number in (draft, waiting, done):
            assert f'data-number="{number}"' in every.text
        assert not IDENTIFIERS.search(_visible(every.text)), IDENTIFIERS.search(
            _visible(every.text)
        )
        assert "等待窗口受理，无需操作" in every.text  # the next step, in words

        drafts = browser.get("/t/hechi/my/cases?show=draft")
        assert f'data-number="{draft}"' in drafts.text
        assert f'data-number="{waiting}"' not in drafts.text
        assert "填写申请、上传材料，核对后提交" in drafts.text
        open_ = browser.get("/t/hechi/my/cases?show=open")
        assert f'data-number="{waiting}"' in open_.text
        assert f'data-number="{draft}"' not in open_.text
        finished = browser.get("/t/hechi/my/cases?show=done")
        assert f'data-number="{done}"' in finished.text
        assert f'data-number="{waiting}"' not in finished.text
        assert "已办结" in finished.text

        by_name = browser.get("/t/hechi/my/cases", params={"q": "食品经营"})
        assert f'data-number="{waiting}"' in by_name.text
        assert f'data-number="{done}"' not in by_name.text  # another item
        this_year = clock.today().year
        by_year = browser.get(f"/t/hechi/my/cases?year={this_year}")
        assert f'data-number="{waiting}"' in by_year.text
        long_ago = browser.get("/t/hechi/my/cases?year=2001")
        assert 'data-testid="case-row"' not in long_ago.text
        assert "没有符合条件的办件" in long_ago.text
        # paging past the end shows the last page, an unknown filter all of them
        assert browser.get("/t/hechi/my/cases?page=999").status_code == 200
        assert f'data-number="{draft}"' in browser.get("/t/hechi/my/cases?show=x").text


def test_an_e_license_is_read_downloaded_and_linked_to_its_verification(app, db: Database) -> None:
    hechi = Desk(db, "hechi")
    number = _finished(hechi, LI)
    with hechi.session() as s:  # the certificate a decided case produces
        case = s.scalar(select(Case).where(Case.number == number))
        assert case is not None
        lic = issue_license(s, hechi.tenant, case)
        code, title = lic.code, lic.title
        s.commit()
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        _sign_in(browser, LI)
        library = browser.get("/t/hechi/my/licenses")
        assert f'href="/t/hechi/my/licenses/{code}"' in library.text
        assert f'href="/t/hechi/my/licenses/{code}/pdf"' in library.text
        assert f'href="/t/hechi/verify/{code}"' in library.text
        page = browser.get(f"/t/hechi/my/licenses/{code}")
        assert page.status_code == 200
        assert title in page.text and "李娜" in page.text and "电子签名有效" in page.text
        pdf = browser.get(f"/t/hechi/my/licenses/{code}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"].startswith("application/pdf")
        assert pdf.content.startswith(b"%PDF")
    with TestClient(app=app, base_url="http://testserver.local") as stranger:
        _sign_in(stranger, ZHANG)
        assert stranger.get(f"/t/hechi/my/licenses/{code}").status_code == 404
        assert stranger.get(f"/t/hechi/my/licenses/{code}/pdf").status_code == 404


def test_favourites_are_kept_listed_and_dropped(app, db: Database) -> None:
    with TestClient(app=app, base_url="http://testserver.local") as visitor:
        token = csrf_token(visitor, "/t/hechi/items/HC-SC03")
        sent = visitor.post(
            "/t/hechi/my/favourites/HC-SC03",
            data={"_csrf_token": token, "next": "/t/hechi/items/HC-SC03"},
            follow_redirects=False,
        )
        assert sent.status_code in (302, 303)
        assert sent.headers["location"].startswith("/t/hechi/login?next=")
        assert "items/HC-SC03" in sent.headers["location"]
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = _sign_in(browser, LI)
        browser.post("/t/hechi/my/favourites/HC-SC03", data={"_csrf_token": token, "on": "0"})
        before = browser.get("/t/hechi/my/favourites").text.count('data-testid="favourite-row"')
        kept = browser.post(
            "/t/hechi/my/favourites/HC-SC03",
            data={"_csrf_token": token, "next": "/t/hechi/items/HC-SC03"},
            headers={"hx-request": "true"},
        )
        assert kept.status_code == 200
        assert "已收藏" in kept.text and "<html" not in kept.text  # the button, for htmx
        listed = browser.get("/t/hechi/my/favourites")
        assert listed.text.count('data-testid="favourite-row"') == before + 1
        assert 'data-code="HC-SC03"' in listed.text and "食品经营许可" in listed.text
        # another county's item is no item here
        elsewhere = browser.post("/t/hechi/my/favourites/BZ-SB01", data={"_csrf_token": token})
        assert elsewhere.status_code == 404
        dropped = browser.post(
            "/t/hechi/my/favourites/HC-SC03",
            data={"_csrf_token": token, "next": "/t/hechi/my/favourites"},
            follow_redirects=False,
        )
        assert dropped.status_code in (302, 303)
        assert dropped.headers["location"].startswith("/t/hechi/my/favourites")
        after = browser.get("/t/hechi/my/favourites")
        assert after.text.count('data-testid="favourite-row"') == before


def test_a_finished_case_is_rated_from_the_page(app, db: Database) -> None:
    hechi = Desk(db, "hechi")
    number = _finished(hechi, LI)
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = _sign_in(browser, LI)
        page = browser.get("/t/hechi/my/ratings")
        assert f'action="/t/hechi/my/ratings/{number}"' in page.text
        assert "非常满意" in page.text and "基本满意" in page.text
        nothing = browser.post(f"/t/hechi/my/ratings/{number}", data={"_csrf_token": token})
        assert "请选择满意程度" in nothing.text
        rated = browser.post(
            f"/t/hechi/my/ratings/{number}",
            data={"_csrf_token": token, "score": "80", "comment": "窗口很耐心"},
        )
        assert "感谢您的评价" in rated.text
        assert f'data-testid="rated-row" data-number="{number}"' in rated.text
        assert f'action="/t/hechi/my/ratings/{number}"' not in rated.text
        assert hechi.case(number).rating == 80
        again = browser.post(
            f"/t/hechi/my/ratings/{number}", data={"_csrf_token": token, "score": "0"}
        )
        assert "已评价过" in again.text
        assert hechi.case(number).rating == 80
    with TestClient(app=app, base_url="http://testserver.local") as stranger:
        token = _sign_in(stranger, ZHANG)
        refused = stranger.post(
            f"/t/hechi/my/ratings/{number}", data={"_csrf_token": token, "score": "0"}
        )
        assert "感谢您的评价" not in refused.text
    assert hechi.case(number).rating == 80


def test_the_real_name_step_comes_before_a_first_application(app, db: Database) -> None:
    phone = _new_citizen(db)
    apply = "/t/hechi/items/HC-SC03/apply"
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = _sign_in(browser, phone)
        sent = browser.get(apply, follow_redirects=False)
        assert sent.status_code in (302, 303)
        where = sent.headers["location"]
        assert where.startswith("/t/hechi/my/profile/realname?next=")
        form = browser.get(where)
        assert form.status_code == 200
        assert 'name="next" value="/t/hechi/items/HC-SC03/apply"' in form.text
        assert "首次申办事项前" in form.text
        # posting the application straight away is sent the same way
        posted = browser.post(apply, data={"_csrf_token": token}, follow_redirects=False)
        assert posted.headers["location"] == where

        good = id_number("451202", "19900101", secrets.randbelow(1000))
        wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
        refused = browser.post(
            "/t/hechi/my/profile/realname",
            data={"_csrf_token": token, "name": "王小明", "id_number": wrong, "next": apply},
        )
        assert refused.status_code == 422
        assert "校验位" in refused.text and 'aria-invalid="true"' in refused.text
        assert "王小明" in refused.text and wrong in refused.text  # nothing typed is lost
        no_name = browser.post(
            "/t/hechi/my/profile/realname",
            data={"_csrf_token": token, "name": "", "id_number": good, "next": apply},
        )
        assert no_name.status_code == 422 and "请填写姓名" in no_name.text

        done = browser.post(
            "/t/hechi/my/profile/realname",
            data={"_csrf_token": token, "name": "王小明", "id_number": good, "next": apply},
            follow_redirects=False,
        )
        assert done.status_code in (302, 303) and done.headers["location"] == apply
        assert browser.get(apply).status_code == 200  # back to the application
        profile = browser.get("/t/hechi/my/profile")
        assert "王小明" in profile.text and "已实名" in profile.text
        assert good not in profile.text  # masked
        assert good[:4] + "**********" + good[-4:] in profile.text
        # confirmed once: not changed on the portal
        again = browser.post(
            "/t/hechi/my/profile/realname",
            data={"_csrf_token": token, "name": "王大明", "id_number": good},
        )
        assert again.status_code == 409
    with db.session(scope=None) as s, platform_scope(s):
        account = s.scalar(
            select(Account)
            .where(Account.id_number_index.is_not(None))
            .where(Account.name == "王小明")
        )
        assert account is not None and account.id_number == good
        assert account.real_name_at is not None


def test_the_same_id_number_is_not_confirmed_by_two_accounts(app, db: Database) -> None:
    phone = _new_citizen(db)
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        token = _sign_in(browser, phone)
        taken = browser.post(
            "/t/hechi/my/profile/realname",
            data={"_csrf_token": token, "name": "李娜", "id_number": "450102199207080224"},
        )
        assert taken.status_code == 422 and "另一个账户" in taken.text


def test_demo_people_and_enterprises_apply_without_the_step(app, db: Database) -> None:
    with TestClient(app=app, base_url="http://testserver.local") as browser:
        _sign_in(browser, LI)
        assert browser.get("/t/hechi/items/HC-SC03/apply").status_code == 200
    with TestClient(app=app, base_url="http://testserver.local") as company:
        _sign_in(company, "13800000015")  # 广西示范科技有限公司
        assert company.get("/t/hechi/items/HC-SC03/apply").status_code == 200
        profile = company.get("/t/hechi/my/profile")
        assert "统一社会信用代码" in profile.text and "91450000MA5K0ABC1C" in profile.text


def test_the_phone_is_changed_by_a_code_sent_to_the_new_number(
    app, db: Database, sms_outbox: Path
) -> None:
    phone = _new_citizen(db)
    new = "137" + f"{secrets.randbelow(10**8):08d}"
    with (
        TestClient(app=app, base_url="http://testserver.local") as browser,
        TestClient(app=app, base_url="http://testserver.local") as other_device,
    ):
        token = _sign_in(browser, phone)
        _sign_in(other_device, phone)
        assert other_device.get("/t/hechi/my/profile").status_code == 200
        page = browser.get("/t/hechi/my/profile/phone")
        assert phone[:3] + "****" + phone[-4:] in page.text and phone not in page.text

        # A number another account uses gets the same answer as any (a code is sent to it):
        # the form does not tell who is registered; only with that phone's code in hand is
        # the change refused for it.
        taken = browser.post(
            "/t/hechi/my/profile/phone/code", data={"_csrf_token": token, "phone": ZHANG}
        )
        assert taken.status_code == 200 and 'data-testid="code-sent"' in taken.text
        refused = browser.post(
            "/t/hechi/my/profile/phone",
            data={"_csrf_token": token, "phone": ZHANG, "code": sms_code(sms_outbox)},
        )
        assert refused.status_code == 422 and "已被另一个账户使用" in refused.text

        sent = browser.post(
            "/t/hechi/my/profile/phone/code", data={"_csrf_token": token, "phone": new}
        )
        assert sent.status_code == 200 and 'data-testid="code-sent"' in sent.text
        code = sms_code(sms_outbox)
        wrong = browser.post(
            "/t/hechi/my/profile/phone",
            data={
                "_csrf_token": token,
                "phone": new,
                "code": "000000" if code != "000000" else "111111",
            },
        )
        assert wrong.status_code == 422 and "验证码不正确" in wrong.text
        changed = browser.post(
            "/t/hechi/my/profile/phone",
            data={"_csrf_token": token, "phone": new, "code": code},
            follow_redirects=False,
        )
        assert changed.status_code in (302, 303), changed.text
        profile = browser.get("/t/hechi/my/profile")  # this browser stays signed in
        assert profile.status_code == 200 and new[-4:] in profile.text
        ended = other_device.get("/t/hechi/my/profile", follow_redirects=False)
        assert ended.status_code in (302, 303) and "/login" in ended.headers["location"]

    hechi = Desk(db, "hechi")
    with db.session(scope=scope_for(hechi.tenant)) as s:
        assert find_account_by_phone(s, hechi.tenant.province_id, new) is not None
        assert find_account_by_phone(s, hechi.tenant.province_id, phone) is None
    with TestClient(app=app, base_url="http://testserver.local") as again:
        _sign_in(again, new)  # the password now goes with the new number
