"""Throttles key on who is being tried, not on how it was typed, and on the address a request
really comes from: re-formatted phone numbers share one lock, a progress query is locked per
tenant and case number, and a forged X-Forwarded-For buys nothing."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Request

from core.config import reset_settings
from core.db import Database
from core.identity.service import create_account, normalize_phone
from core.tenancy import scope_for
from tests.helpers import csrf_token, sms_code, tenant
from tests.servers import LiveServer
from web.clients import client_address


def _new_citizen(db: Database) -> str:
    """A Guangxi citizen with the password Demo-2026 and a phone no other test uses."""
    phone = f"139{secrets.randbelow(10**8):08d}"
    t = tenant(db, "guangxi")
    with db.session(scope=scope_for(t)) as s:
        create_account(s, t, name="测试居民", phone=phone, password="Demo-2026")
        s.commit()
    return phone


def _formats(phone: str) -> list[str]:
    wide = phone.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [
        f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
        f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}",
        f"86{phone}",
        f"0086{phone}",
        wide,
        f" {phone[:3]}　{phone[3:]} ",  # an ideographic space
        f"({phone[:3]}) {phone[3:7]}–{phone[7:]}",
    ]


def _password(client, phone: str, password: str):
    token = csrf_token(client, "/t/hechi/login")
    return client.post(
        "/t/hechi/login/password",
        data={"phone": phone, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )


def test_every_way_of_writing_a_phone_number_is_the_same_number() -> None:
    for text in _formats("13800000008"):
        assert normalize_phone(text) == "13800000008", text


def test_a_reformatted_phone_signs_in(client, db: Database) -> None:
    phone = _new_citizen(db)
    response = _password(client, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", "Demo-2026")
    assert response.status_code in (302, 303)


def test_reformatting_the_phone_does_not_escape_the_lock(client, db: Database) -> None:
    phone = _new_citizen(db)
    wrong = [_password(client, text, "Wrong-2026").status_code for text in _formats(phone)]
    assert wrong[:5] == [401] * 5 and wrong[5:] == [429, 429]
    for text in [phone, *_formats(phone)]:  # the right password in any spelling: still locked
        locked = _password(client, text, "Demo-2026")
        assert locked.status_code == 429, text
        assert "尝试次数过多" in locked.text


def test_thirty_six_wrong_passwords_in_as_many_spellings_meet_the_lock(
    client, db: Database
) -> None:
    phone = _new_citizen(db)
    spellings = [
        sep.join([phone[:3], phone[3:7], phone[7:]]) for sep in (" ", "-", "", "  ", " - ", ".")
    ]
    spellings = [
        prefix + s for prefix in ("", "+86", "86", "+86 ", "0086", "８６") for s in spellings
    ]
    answers = [_password(client, s, f"Wrong-{i}").status_code for i, s in enumerate(spellings)]
    assert len(answers) == 36 and answers[:5] == [401] * 5 and answers[5:] == [429] * 31


def test_a_staff_username_in_capitals_or_full_width_shares_the_lock(client) -> None:
    def attempt(username: str, password: str) -> int:
        token = csrf_token(client, "/t/guangzhou/staff/login")
        return client.post(
            "/t/guangzhou/staff/login",
            data={"username": username, "password": password, "_csrf_token": token},
            follow_redirects=False,
        ).status_code

    names = [
        "GUANGZHOU-ISSUER",
        "ｇｕａｎｇｚｈｏｕ－ｉｓｓｕｅｒ",
        " guangzhou-issuer ",
        "Guangzhou-Issuer",
    ]
    assert [attempt(n, "Wrong-2026") for n in names] == [401] * 4
    assert attempt("guangzhou-issuer", "Wrong-2026") == 401  # the fifth locks
    assert attempt("guangzhou-issuer", "Demo-2026") == 429


@pytest.fixture
def few_codes_per_address(db: Database) -> Iterator[None]:
    """Three code requests per address, counted from now and forgotten after (every test's
    client has the same address)."""
    from sqlalchemy import delete

    from core.identity.models import LoginThrottle

    def forget() -> None:
        with db.session(scope=None) as s:
            s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("otp-%")))
            s.commit()

    forget()
    os.environ["GOVHALL_OTP_PER_ADDRESS"] = "3"
    reset_settings()
    yield
    os.environ.pop("GOVHALL_OTP_PER_ADDRESS")
    reset_settings()
    forget()  # the address is every later test's address too


def test_one_address_cannot_text_every_number(
    client, sms_outbox: Path, few_codes_per_address
) -> None:
    token = csrf_token(client, "/t/cili/login")
    answers = [
        client.post(
            "/t/cili/login/code/request",
            data={"phone": f"1370000{n:04d}"},
            headers={"x-csrftoken": token},
        ).text
        for n in range(2000, 2005)
    ]
    assert ["验证码已发送" in a for a in answers] == [True, True, True, False, False]
    assert "尝试次数过多" in answers[3]
    assert len(sms_outbox.read_text(encoding="utf-8").splitlines()) == 3


def test_an_sms_code_checks_against_the_number_however_it_is_written(
    client, sms_outbox: Path
) -> None:
    token = csrf_token(client, "/t/hechi/login")
    client.post(
        "/t/hechi/login/code/request",
        data={"phone": "+86 139-8765-0001"},
        headers={"x-csrftoken": token},
    )
    code = sms_code(sms_outbox)
    for guess in ("000001", "000002", "000003", "000004", "000005"):
        if guess != code:
            client.post(
                "/t/hechi/login/code",
                data={"phone": "１３９８７６５０００１", "code": guess, "_csrf_token": token},
            )
    locked = client.post(
        "/t/hechi/login/code",
        data={"phone": "13987650001", "code": code, "_csrf_token": token},
    )
    assert locked.status_code in (401, 429)  # four or five misses: either way not signed in
    assert "用户0001" not in client.get("/t/hechi/").text


# -- the public progress query ----------------------------------------------------------------


def _progress(client, slug: str, number: str, code: str, **headers: str) -> int:
    return client.get(
        f"/api/v1/t/{slug}/progress", params={"number": number, "code": code}, headers=headers
    ).status_code


def _submitted_case(db: Database, slug: str, item: str) -> tuple[str, str]:
    from tests.cases.conftest import Desk

    desk = Desk(db, slug)
    number = desk.apply(desk.citizen("13800000001" if slug == "hechi" else "13800000022"), item)
    return number, desk.case(number).query_code


@pytest.fixture
def progress_unlocked(db: Database) -> None:
    """Counted from now: other tests also made wrong progress queries from this address."""
    from sqlalchemy import delete

    from core.identity.models import LoginThrottle

    with db.session(scope=None) as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("progress:%")))
        s.commit()


def test_wrong_guesses_on_one_county_do_not_lock_another(
    client,
    db: Database,
    progress_unlocked: None,
) -> None:
    number, code = _submitted_case(db, "hechi", "HC-SC03")
    assert [_progress(client, "hechi", number, "WRONG" + str(i)) for i in range(5)] == [404] * 5
    assert _progress(client, "hechi", number, code) == 429  # this case's number is locked
    other, other_code = _submitted_case(db, "bozhou", "BZ-SC01")
    assert _progress(client, "bozhou", other, other_code) == 200
    second, second_code = _submitted_case(db, "hechi", "HC-SC03")
    assert _progress(client, "hechi", second, second_code) == 200  # same county, same address


@pytest.fixture
def live(db: Database) -> Iterator[LiveServer]:
    from web.app import create_app

    server = LiveServer(create_app(database=db)).start()
    yield server
    server.stop()


def test_a_forged_forwarded_for_from_loopback_gets_no_fresh_counter(
    live: LiveServer, progress_unlocked: None
) -> None:
    with httpx.Client(base_url=live.url) as http:
        answers = [
            http.get(
                "/api/v1/t/cili/progress",
                params={"number": f"NOPE{i}", "code": "x"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(22)
        ]
    assert answers[:19] == [404] * 19 and answers[20:] == [429, 429]


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope: Any = {"type": "http", "client": (peer, 5000), "headers": headers, "path": "/"}
    return Request(scope)


@pytest.fixture
def behind_our_proxy() -> Iterator[None]:
    os.environ["GOVHALL_TRUSTED_PROXIES"] = "10.0.0.0/8, 127.0.0.1"
    reset_settings()
    yield
    os.environ.pop("GOVHALL_TRUSTED_PROXIES")
    reset_settings()


def test_forwarded_addresses_are_believed_from_our_proxies_only(behind_our_proxy) -> None:
    assert client_address(_request("10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    # the client wrote its own X-Forwarded-For; our proxy appended the real address
    assert client_address(_request("10.1.2.3", "1.1.1.1, 198.51.100.7, 10.0.0.9")) == (
        "198.51.100.7"
    )
    assert client_address(_request("203.0.113.5", "198.51.100.7")) == "203.0.113.5"
    assert client_address(_request("127.0.0.1", None)) == "127.0.0.1"


def test_without_trusted_proxies_the_peer_is_the_client(settings) -> None:
    assert client_address(_request("127.0.0.1", "198.51.100.7")) == "127.0.0.1"
