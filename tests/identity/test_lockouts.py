"""Lock-outs lock out whoever guesses, not the owner: wrong passwords or codes for one account
from one client address lock that address for the account; the owner, from another
address, still signs in; and a guess spread over many addresses still meets a ceiling for
everyone (GOVHALL_LOGIN_ACCOUNT_MAX_FAILURES). SMS codes to one phone are counted across
every province (cooldown and hourly cap); the "change my phone" code tells nobody whether a
number is registered."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from core.config import reset_settings
from core.db import Database
from core.errors import InvalidInput, Throttled
from core.identity.errors import BadCredentials, LockedOut, ResendTooSoon
from core.identity.models import LoginThrottle
from core.identity.profile import change_phone, request_phone_change
from core.identity.service import (
    create_account,
    find_account_by_phone,
    request_sign_in_code,
    sign_in_account_with_code,
    sign_in_account_with_password,
    sign_in_staff,
)
from tests.cases.conftest import Desk
from tests.helpers import sms_code

A, B = "198.51.100.7", "203.0.113.9"


def _phone() -> str:
    return f"136{secrets.randbelow(10**8):08d}"


@pytest.fixture
def hechi(db: Database) -> Iterator[Desk]:
    desk = Desk(db, "hechi")
    yield desk
    with db.session(scope=None) as s:  # the demo staff's counts start again for later tests
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like(f"staff:{desk.tenant.id}:%")))
        s.commit()


def _staff(desk: Desk, password: str, address: str, username: str = "hechi-issuer") -> object:
    with desk.session() as s:
        try:
            return sign_in_staff(s, desk.tenant, username, password, address=address)
        finally:
            s.commit()  # as the page does: a failure's count persists


def test_five_wrong_staff_passwords_from_one_address_lock_it_and_not_the_owner(
    hechi: Desk,
) -> None:
    for _ in range(5):
        with pytest.raises(BadCredentials):
            _staff(hechi, "Wrong-2026", A)
    with pytest.raises(LockedOut):
        _staff(hechi, "Demo-2026", A)  # the guesser's address: locked, even the right one
    assert _staff(hechi, "Demo-2026", B) is not None  # the owner, elsewhere: signs in


@pytest.fixture
def low_ceiling(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOVHALL_LOGIN_ACCOUNT_MAX_FAILURES", "8")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_a_guess_spread_over_many_addresses_meets_the_ceiling(hechi: Desk, low_ceiling) -> None:
    for i in range(8):  # two wrong tries each from four addresses: no address reaches five
        with pytest.raises(BadCredentials):
            _staff(hechi, "Wrong-2026", f"192.0.2.{i // 2}", "hechi-clerk")
    with pytest.raises(LockedOut):
        _staff(hechi, "Demo-2026", B, "hechi-clerk")  # now locked for everyone


@pytest.fixture
def low_address_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOVHALL_LOGIN_ADDRESS_MAX_FAILURES", "6")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_one_password_tried_on_many_accounts_locks_the_address(
    hechi: Desk, db: Database, low_address_limit
) -> None:
    """A spray — one password, many usernames, one address — stops at the address's limit,
    whichever accounts it tried; the accounts and other addresses are untouched."""
    spray = "192.0.2.77"
    for i in range(6):
        with pytest.raises(BadCredentials):
            _staff(hechi, "Demo-2025", spray, f"nobody-{i}")
    with pytest.raises(LockedOut):
        _staff(hechi, "Demo-2026", spray, "hechi-reviewer")  # even a right pair, from there
    assert _staff(hechi, "Demo-2026", B, "hechi-reviewer") is not None
    with db.session(scope=None) as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.key.like("signin-from:%")))
        s.commit()


def _citizen(desk: Desk) -> str:
    phone = _phone()
    with desk.session() as s:
        create_account(s, desk.tenant, name="测试居民", phone=phone, password="Demo-2026")
        s.commit()
    return phone


def _password(desk: Desk, phone: str, password: str, address: str) -> object:
    with desk.session() as s:
        try:
            return sign_in_account_with_password(s, desk.tenant, phone, password, address=address)
        finally:
            s.commit()


def test_five_wrong_citizen_passwords_lock_the_address_not_the_owner(hechi: Desk) -> None:
    phone = _citizen(hechi)
    for spelling in (phone, f"+86 {phone}", f"86{phone}", f"{phone[:3]}-{phone[3:]}", phone):
        with pytest.raises(BadCredentials):
            _password(hechi, spelling, "Wrong-2026", A)
    with pytest.raises(LockedOut):
        _password(hechi, phone, "Demo-2026", A)
    assert _password(hechi, phone, "Demo-2026", B) is not None


@pytest.fixture
def no_cooldown(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOVHALL_OTP_RESEND_SECONDS", "0")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def _code(desk: Desk, phone: str, outbox: Path, address: str) -> str:
    with desk.session() as s:
        request_sign_in_code(s, desk.tenant, phone, address=address)
        s.commit()
    return sms_code(outbox)


def _sign_in_with_code(desk: Desk, phone: str, code: str, address: str) -> object:
    with desk.session() as s:
        try:
            return sign_in_account_with_code(s, desk.tenant, phone, code, address=address)
        finally:
            s.commit()


def test_five_wrong_sms_codes_lock_the_address_not_the_owner(
    hechi: Desk, sms_outbox: Path, no_cooldown
) -> None:
    phone = _phone()
    code = _code(hechi, phone, sms_outbox, B)
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    for guess in wrong:
        with pytest.raises(BadCredentials):
            _sign_in_with_code(hechi, phone, guess, A)
    with pytest.raises(LockedOut):
        _sign_in_with_code(hechi, phone, code, A)
    # The code itself is spent after five misses (whoever made them): the owner asks again
    # and signs in from their own address; the guesser's lock does not touch them.
    fresh = _code(hechi, phone, sms_outbox, B)
    assert _sign_in_with_code(hechi, phone, fresh, B) is not None


def test_the_resend_cooldown_counts_across_provinces(db: Database, sms_outbox: Path) -> None:
    phone = _phone()
    _code(Desk(db, "suning"), phone, sms_outbox, A)  # Hebei
    for slug in ("hechi", "cili"):  # Guangxi, Hunan: the same phone, a second later
        with pytest.raises(ResendTooSoon):
            _code(Desk(db, slug), phone, sms_outbox, B)


@pytest.fixture
def three_an_hour(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOVHALL_OTP_RESEND_SECONDS", "0")
    monkeypatch.setenv("GOVHALL_OTP_PER_HOUR", "3")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_the_hourly_cap_counts_across_provinces(
    db: Database, sms_outbox: Path, three_an_hour
) -> None:
    phone = _phone()
    for slug in ("suning", "hechi", "cili"):
        _code(Desk(db, slug), phone, sms_outbox, A)
    for slug in ("suning", "hechi", "cili"):
        with pytest.raises(Throttled):
            _code(Desk(db, slug), phone, sms_outbox, B)


def _new_account(desk: Desk) -> tuple[uuid.UUID, str]:
    phone = _phone()
    with desk.session() as s:
        account = create_account(s, desk.tenant, name="换号居民", phone=phone)
        s.commit()
        return account.id, phone


def test_the_phone_change_code_does_not_tell_a_registered_number(
    hechi: Desk, sms_outbox: Path
) -> None:
    _, mine = _new_account(hechi)
    _, taken = _new_account(hechi)  # someone else's account
    free = _phone()
    answers = []
    for number in (taken, free):
        with hechi.session() as s:
            account = find_account_by_phone(s, hechi.tenant.province_id, mine)
            answers.append(request_phone_change(s, hechi.tenant, account, number, address=A))
            s.commit()
        assert sms_outbox.read_text(encoding="utf-8").count(number) == 1  # a code went out
    assert answers == [taken, free]  # the same answer: the number, a code sent
    # only whoever holds the phone, with its code, learns that it is taken
    code = next(
        line for line in sms_outbox.read_text(encoding="utf-8").splitlines() if taken in line
    )
    taken_code = re.search(r"\d{6}", json.loads(code)["text"]).group(0)
    with hechi.session() as s:
        account = find_account_by_phone(s, hechi.tenant.province_id, mine)
        with pytest.raises(InvalidInput) as refused:
            change_phone(s, hechi.tenant, account, taken, "000000", address=A)
        assert refused.value.field == "code"  # a wrong code says nothing of the number
        s.rollback()
        with pytest.raises(InvalidInput) as refused:
            change_phone(s, hechi.tenant, account, taken, taken_code, address=A)
        assert refused.value.field == "phone" and "另一个账户" in refused.value.detail


def test_the_phone_change_code_is_throttled_for_a_registered_number_too(
    hechi: Desk, sms_outbox: Path
) -> None:
    _, mine = _new_account(hechi)
    _, taken = _new_account(hechi)
    with hechi.session() as s:
        account = find_account_by_phone(s, hechi.tenant.province_id, mine)
        request_phone_change(s, hechi.tenant, account, taken, address=A)
        s.commit()
        with pytest.raises(ResendTooSoon):
            request_phone_change(s, hechi.tenant, account, taken, address=A)


def test_one_account_asks_for_few_phone_change_codes(
    hechi: Desk, sms_outbox: Path, three_an_hour
) -> None:
    _, mine = _new_account(hechi)
    with hechi.session() as s:
        account = find_account_by_phone(s, hechi.tenant.province_id, mine)
        for _ in range(3):
            request_phone_change(s, hechi.tenant, account, _phone(), address=A)
            s.commit()
        with pytest.raises(Throttled):
            request_phone_change(s, hechi.tenant, account, _phone(), address=A)
