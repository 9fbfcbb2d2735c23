"""A citizen's own profile (我的 → 个人资料): the real-name step (实名确认: name and resident ID
number, check digit verified) that a person completes before their first application, and
changing the account's mobile number by a code sent to the new number.

An enterprise account is identified by its unified social credit code, given when it was
registered; it has no real-name step.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import blind_index, utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, Throttled
from core.forms.checks import CheckFailed, normalize_id_number
from core.forms.display import mask
from core.identity import throttle
from core.identity.errors import BadCredentials
from core.identity.models import Account, AccountKind
from core.identity.principal import Principal
from core.identity.service import (
    check_sms_code,
    find_account_by_phone,
    normalize_phone,
    request_sign_in_code,
)
from core.identity.sessions import end_sessions
from core.tenancy import Tenant

__all__ = [
    "REAL_NAME_STATES",
    "change_phone",
    "confirm_real_name",
    "get_account",
    "masked_id_number",
    "masked_phone",
    "needs_real_name",
    "real_name_state",
    "request_phone_change",
]

#: the real-name state of an account, in words (English in the catalogue)
REAL_NAME_STATES = {
    "verified": "已实名",
    "missing": "未实名",
    "enterprise": "企业账户（以统一社会信用代码认证）",
}

#: a person's name as written on the ID card: Chinese (with the middle dot of minority and
#: foreign names) or Latin letters, 2 to 40 characters
_NAME_RE = re.compile(
    r"^[\u3400-\u9fff\u00b7\u2022A-Za-z][\u3400-\u9fff\u00b7\u2022A-Za-z .\-]{1,39}$"
)


def get_account(session: Session, principal: Principal) -> Account:
    """The signed-in account's own row (staff have none)."""
    if not principal.is_account or principal.id is None:
        raise Forbidden("仅限群众或企业账户")
    account = session.get(Account, (principal.province_id, principal.id))
    if account is None:
        raise NotFound("账户不存在")
    return account


def real_name_state(account: Account) -> str:
    if account.kind is AccountKind.enterprise:
        return "enterprise"
    return "verified" if account.id_number else "missing"


def needs_real_name(session: Session, principal: Principal) -> bool:
    """True for a person who must confirm their name and ID number before applying: a
    citizen account without an ID number. Staff filing for someone, enterprises and tokens
    of apps are never held here."""
    if principal.kind != AccountKind.citizen.value or principal.id is None:
        return False
    account = session.get(Account, (principal.province_id, principal.id))
    return account is not None and not account.id_number


def masked_phone(account: Account) -> str:
    """``138****0008``."""
    phone = account.phone or ""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else mask(phone)


def masked_id_number(account: Account) -> str:
    return mask(account.id_number) if account.id_number else ""


def _clean_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        raise InvalidInput("请填写姓名", field="name")
    if not _NAME_RE.match(text):
        raise InvalidInput("请填写身份证上的姓名（2 个字以上，不含数字和符号）", field="name")
    return text


def confirm_real_name(session: Session, account: Account, name: str, id_number: str) -> Account:
    """Record the person's name and ID number (check digit verified; the caller commits).

    Once confirmed the ID number is not changed here: a mistake is corrected at a service
    centre's counter. An ID number another account of the province has confirmed is refused."""
    if account.kind is AccountKind.enterprise:
        raise Conflict("企业账户以统一社会信用代码认证，无需实名确认", field="id_number")
    if account.id_number:
        raise Conflict("您已完成实名确认；如需更正，请到政务服务中心窗口办理", field="id_number")
    clean = _clean_name(name)
    try:
        number = normalize_id_number(id_number)
    except CheckFailed as exc:
        raise InvalidInput(str(exc.args[0]), field="id_number") from None
    index = blind_index(number)
    taken = session.scalar(
        select(Account.id).where(
            Account.province_id == account.province_id,
            Account.id_number_index == index,
            Account.id != account.id,
        )
    )
    if taken is not None:
        raise InvalidInput(
            "该身份证号码已由另一个账户实名确认；如有疑问，请到政务服务中心窗口办理",
            field="id_number",
        )
    account.name = clean
    account.id_number, account.id_number_index = number, index
    account.real_name_at = utcnow()
    session.flush()
    return account


def _new_phone(account: Account, phone: str) -> str:
    number = normalize_phone(phone)
    if number == account.phone:
        raise InvalidInput("新手机号与当前手机号相同", field="phone")
    return number


def request_phone_change(
    session: Session, tenant: Tenant, account: Account, phone: str, *, address: str | None = None
) -> str:
    """Send a code to the *new* number (throttled like sign-in codes, and at most
    ``otp_per_hour`` a hour for one account, whichever numbers); the normalised new number is
    returned. The answer is the same whether or not another account uses the number — that
    is told only once the code sent to it is confirmed (:func:`change_phone`), so the form
    cannot be used to find out whose number is registered."""
    number = _new_phone(account, phone)
    settings = get_settings()
    by_account = f"otp-change:{account.id}"
    if throttle.wait_of(session, by_account):
        raise Throttled(
            "验证码发送过于频繁，请稍后再试", retry_after=throttle.wait_of(session, by_account)
        )
    request_sign_in_code(session, tenant, number, address=address)
    throttle.record_failure(
        session, by_account, limit=settings.otp_per_hour, window=timedelta(hours=1)
    )
    return number


def change_phone(
    session: Session,
    tenant: Tenant,
    account: Account,
    phone: str,
    code: str,
    *,
    address: str | None = None,
) -> uuid.UUID:
    """Move the account to the new number once its code is right; every other session of
    the account ends (the caller commits, also after a wrong code, so failures count, and
    signs the current browser in again). A number another account uses is refused only
    after its code is confirmed: whoever has that phone in hand may know it is registered."""
    number = _new_phone(account, phone)
    try:
        check_sms_code(session, tenant, number, code, address=address)
    except BadCredentials:
        raise InvalidInput("验证码不正确或已过期，请重新获取", field="code") from None
    other = find_account_by_phone(session, account.province_id, number)
    if other is not None and other.id != account.id:
        raise InvalidInput(
            "该手机号已被另一个账户使用，不能换绑；请先在那个账户中换用其他号码", field="phone"
        )
    account.phone, account.phone_index = number, blind_index(number)
    end_sessions(account)
    session.flush()
    return account.id
