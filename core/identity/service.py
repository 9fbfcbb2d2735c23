"""Staff and account management, sign-in (password, TOTP, SMS code) and principals."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
import uuid
from datetime import timedelta
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import blind_index, new_id, utcnow
from core.errors import InvalidInput, NotFound, Throttled
from core.identity import throttle
from core.identity.errors import (
    STAFF_BAD_CREDENTIALS,
    AccountDisabled,
    BadCredentials,
    ResendTooSoon,
)
from core.identity.models import Account, AccountKind, OneTimeCode, Role, Staff, StaffRole
from core.identity.passwords import hash_password, verify_password
from core.identity.principal import Principal
from core.identity.sessions import end_sessions
from core.notify import send_sms_now
from core.tenancy import OrgUnit, Tenant

__all__ = [
    "account_principal",
    "check_consent_code",
    "check_sms_code",
    "create_account",
    "create_staff",
    "find_account_by_phone",
    "grant_role",
    "normalize_phone",
    "request_consent_code",
    "request_sign_in_code",
    "sign_in_account_with_code",
    "sign_in_account_with_password",
    "sign_in_code_wait",
    "sign_in_staff",
    "staff_principal",
    "validate_id_number",
]

_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


#: what people put between the digits of a phone number: spaces (also the ideographic one,
#: after NFKC), dashes of every width, dots, brackets
_PHONE_PUNCT = re.compile(r"[\s\-‐‑‒–—―.·()]")


def normalize_phone(phone: str) -> str:
    """The 11-digit mainland mobile number in ``phone``, however it was typed: full-width
    digits, spaces and dashes, and a ``+86``, ``0086`` or ``86`` prefix are all accepted."""
    text = _PHONE_PUNCT.sub("", unicodedata.normalize("NFKC", phone or ""))
    for prefix in ("+86", "0086"):
        text = text.removeprefix(prefix)
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not _PHONE_RE.match(text):
        raise InvalidInput("请输入 11 位手机号码", field="phone")
    return text


def account_throttle_keys(province_id: uuid.UUID, phone: str) -> list[str]:
    """The throttle key of whoever ``phone`` names in the province: the normalised number
    when it is one, otherwise the typed text folded the same way (so junk is counted too)."""
    try:
        identity = normalize_phone(phone)
    except InvalidInput:
        identity = "raw:" + _PHONE_PUNCT.sub("", unicodedata.normalize("NFKC", phone or "")).lower()
    return [f"acct:{province_id}:{blind_index(identity)}"]


def _account_key(account: Account) -> str:
    return f"acct-id:{account.id}"


def normalize_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().lower()


def validate_id_number(value: str) -> str:
    """GB 11643 resident ID number with its ISO 7064 MOD 11-2 check digit."""
    value = (value or "").strip().upper()
    if not _ID_RE.match(value):
        raise InvalidInput("身份证号码应为 18 位", field="id_number")
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
    if "10X98765432"[total % 11] != value[17]:
        raise InvalidInput("身份证号码校验位不正确", field="id_number")
    return value


# -- staff ---------------------------------------------------------------------------------------


def create_staff(
    session: Session,
    tenant: Tenant,
    *,
    username: str,
    name: str,
    password: str,
    phone: str | None = None,
) -> Staff:
    if not re.match(r"^[a-z0-9_.-]{3,60}$", username):
        raise InvalidInput("用户名应为 3–60 位小写字母、数字或“_”“.”“-”", field="username")
    if session.scalar(
        select(Staff.id).where(Staff.tenant_id == tenant.id, Staff.username == username)
    ):
        raise InvalidInput(f"用户名 {username} 已被使用", field="username")
    staff = Staff(
        tenant_id=tenant.id,
        id=new_id(),
        username=username,
        name=name,
        password_hash=hash_password(password),
        phone=normalize_phone(phone) if phone else None,
    )
    session.add(staff)
    session.flush()
    return staff


def grant_role(
    session: Session, staff: Staff, role: Role, org_unit: OrgUnit | None = None
) -> StaffRole:
    same_unit = (
        StaffRole.org_unit_id == org_unit.id if org_unit else StaffRole.org_unit_id.is_(None)
    )
    existing = session.scalar(
        select(StaffRole).where(
            StaffRole.tenant_id == staff.tenant_id,
            StaffRole.staff_id == staff.id,
            StaffRole.role == role,
            same_unit,
        )
    )
    if existing:
        return existing
    row = StaffRole(
        tenant_id=staff.tenant_id,
        id=new_id(),
        staff_id=staff.id,
        role=role,
        org_unit_id=org_unit.id if org_unit else None,
    )
    session.add(row)
    end_sessions(staff)  # what the person may do changed: they sign in again
    session.flush()
    return row


def staff_principal(session: Session, tenant: Tenant, staff: Staff) -> Principal:
    roles = session.execute(
        select(StaffRole.role, StaffRole.org_unit_id).where(
            StaffRole.tenant_id == tenant.id, StaffRole.staff_id == staff.id
        )
    ).all()
    return Principal(
        kind="staff",
        id=staff.id,
        name=staff.name,
        tenant_id=tenant.id,
        province_id=tenant.province_id,
        roles=frozenset((Role(r), u) for r, u in roles),
        session_version=staff.session_version or 0,
    )


def sign_in_staff(
    session: Session,
    tenant: Tenant,
    username: str,
    password: str,
    totp: str = "",
    *,
    address: str | None = None,
) -> Staff:
    """Password (and TOTP when the staff member has it); failures count toward lock-out of
    the username from the client ``address`` (and, many more, from everywhere: see
    :mod:`core.identity.throttle`).

    The caller commits, so that a failure's count persists even though this raises.
    """
    username = normalize_username(username)
    key = f"staff:{tenant.id}:{username}"
    throttle.check_attempt(session, address, key)
    staff = session.scalar(
        select(Staff).where(Staff.tenant_id == tenant.id, Staff.username == username)
    )
    ok = verify_password(staff.password_hash if staff else None, password or "")
    if ok and staff is not None and staff.totp_secret:
        ok = pyotp.TOTP(staff.totp_secret).verify((totp or "").strip(), valid_window=1)
    if not ok or staff is None:
        throttle.record_failed_attempt(session, address, key)
        raise BadCredentials(STAFF_BAD_CREDENTIALS)
    if not staff.active:  # the right credentials: the person, not a guesser, learns why
        raise AccountDisabled()
    throttle.record_good_attempt(session, address, key)
    return staff


def enable_totp(staff: Staff) -> str:
    """Give a staff member a TOTP secret; returns the provisioning URI for an authenticator."""
    secret = pyotp.random_base32()
    staff.totp_secret = secret
    return pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name="govhall")


# -- accounts ------------------------------------------------------------------------------------


def find_account_by_phone(session: Session, province_id: uuid.UUID, phone: str) -> Account | None:
    return session.scalar(
        select(Account).where(
            Account.province_id == province_id, Account.phone_index == blind_index(phone)
        )
    )


def create_account(
    session: Session,
    province: Tenant,
    *,
    name: str,
    phone: str,
    kind: AccountKind = AccountKind.citizen,
    password: str | None = None,
    id_number: str | None = None,
    credit_code: str | None = None,
) -> Account:
    phone = normalize_phone(phone)
    if find_account_by_phone(session, province.province_id, phone):
        raise InvalidInput("该手机号已注册", field="phone")
    if kind is AccountKind.enterprise:
        if not credit_code or not _CREDIT_RE.match(credit_code.strip().upper()):
            raise InvalidInput("统一社会信用代码应为 18 位", field="credit_code")
        credit_code = credit_code.strip().upper()
    id_number = validate_id_number(id_number) if id_number else None
    account = Account(
        province_id=province.province_id,
        id=new_id(),
        kind=kind,
        name=name.strip() or phone[-4:],
        phone=phone,
        phone_index=blind_index(phone),
        id_number=id_number,
        id_number_index=blind_index(id_number) if id_number else None,
        credit_code=credit_code,
        password_hash=hash_password(password) if password else None,
    )
    session.add(account)
    session.flush()
    return account


def account_principal(account: Account) -> Principal:
    return Principal(
        kind=account.kind.value,
        id=account.id,
        name=account.name,
        tenant_id=None,
        province_id=account.province_id,
        session_version=account.session_version or 0,
    )


def sign_in_account_with_password(
    session: Session, tenant: Tenant, phone: str, password: str, *, address: str | None = None
) -> Account:
    """A citizen's password; failures lock the number (and its account) for the client
    ``address``, and for everyone only after many more (:mod:`core.identity.throttle`)."""
    keys = account_throttle_keys(tenant.province_id, phone)
    throttle.check_attempt(session, address, *keys)
    try:
        account = find_account_by_phone(session, tenant.province_id, normalize_phone(phone))
    except InvalidInput:
        account = None
    if account is not None:
        keys.append(_account_key(account))
        throttle.check_attempt(session, address, *keys)
    ok = verify_password(account.password_hash if account else None, password or "")
    if not ok or account is None or not account.active:
        throttle.record_failed_attempt(session, address, *keys)
        raise BadCredentials()
    throttle.record_good_attempt(session, address, *keys)
    return account


def _code_hash(code: str, phone_index: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{phone_index}:{code}".encode(), hashlib.sha256).hexdigest()


def _resend_key(index: str) -> str:
    """The resend cooldown of one number, across every province of the installation (one
    phone is one person's, whichever portal asks)."""
    return f"otp-wait:{index}"


def sign_in_code_wait(session: Session, tenant: Tenant, phone: str) -> int:
    """Seconds before another sign-in code may be sent to ``phone`` (0: now), for the page's
    countdown; a number that is not one waits for nothing."""
    try:
        index = blind_index(normalize_phone(phone))
    except InvalidInput:
        return 0
    return throttle.wait_of(session, _resend_key(index))


def request_sign_in_code(
    session: Session, tenant: Tenant, phone: str, *, address: str | None = None
) -> str:
    """Create a six-digit code for ``phone`` and send it by SMS; returns the code's id.

    Not within ``otp_resend_seconds`` of the last code to the same phone (429
    :class:`ResendTooSoon`, saying how many seconds are left); at most ``otp_per_hour``
    codes per phone per hour, and ``otp_per_address`` requests
    from one client address (``address``, when the caller knows it) in the lock window:
    429 beyond either, so nobody can text a thousand numbers at the tenant's expense. The
    cooldown and the hourly cap count the phone's codes of every province together.
    """
    phone = normalize_phone(phone)
    return _send_code(session, tenant, phone, blind_index(phone), "otp", {}, address)


def request_consent_code(
    session: Session,
    tenant: Tenant,
    phone: str,
    *,
    agent: str,
    item: str,
    address: str | None = None,
) -> str:
    """An agent or clerk about to apply for the person at ``phone`` (短信验证授权): a code
    sent to that phone saying who asks to apply for what, which the person tells the agent
    if they agree. Kept apart from sign-in codes (one never opens the other) but counted
    with them: the same cooldown, hourly cap and per-address limit."""
    phone = normalize_phone(phone)
    params = {"agent": agent[:20], "item": item[:30]}
    return _send_code(session, tenant, phone, _consent_index(phone), "consent", params, address)


def _consent_index(phone: str) -> str:
    """Where a phone's consent codes are kept: never where its sign-in codes are looked for."""
    return blind_index("consent:" + phone)


def _send_code(
    session: Session,
    tenant: Tenant,
    phone: str,
    code_index: str,
    template: str,
    params: dict[str, Any],
    address: str | None,
) -> str:
    settings = get_settings()
    index = blind_index(phone)
    # The keys span every province of the installation: a number or an address does not
    # get a fresh allowance by asking at another province's portal.
    by_phone, by_address = f"otp-phone:{index}", f"otp-req:{address}"
    if address:
        throttle.check_not_locked(session, by_address)
    wait = throttle.wait_of(session, _resend_key(index))
    if wait:
        raise ResendTooSoon(wait)
    if throttle.wait_of(session, by_phone):
        raise Throttled(
            "验证码发送过于频繁，请稍后再试", retry_after=throttle.wait_of(session, by_phone)
        )
    if address:
        throttle.record_failure(session, by_address, limit=settings.otp_per_address)
    throttle.record_failure(
        session, by_phone, limit=settings.otp_per_hour, window=timedelta(hours=1)
    )
    throttle.hold(session, _resend_key(index), settings.otp_resend_seconds)
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = OneTimeCode(
        province_id=tenant.province_id,
        id=new_id(),
        phone_index=code_index,
        code_hash=_code_hash(code, code_index),
        expires_at=utcnow() + timedelta(seconds=settings.otp_ttl_seconds),
    )
    session.add(row)
    session.flush()
    send_sms_now(
        session,
        tenant,
        phone,
        template,
        {**params, "code": code, "minutes": settings.otp_ttl_seconds // 60},
    )
    return str(row.id)


def check_sms_code(
    session: Session, tenant: Tenant, phone: str, code: str, *, address: str | None = None
) -> str:
    """Use up the latest SMS code sent to ``phone``: the normalised number when ``code`` is
    it, :class:`BadCredentials` otherwise (five tries a code; failures count toward the
    phone's lock-out for the client ``address``, and for everyone after many more). The
    caller commits, also after a failure."""
    try:
        phone = normalize_phone(phone)
    except InvalidInput:
        raise BadCredentials() from None
    index = blind_index(phone)
    _use_code(session, tenant, index, f"otp:{tenant.province_id}:{index}", code, address)
    return phone


def check_consent_code(
    session: Session, tenant: Tenant, phone: str, code: str, *, address: str | None = None
) -> None:
    """The consent code the person at ``phone`` told the agent: used up when right; a wrong
    one is a 422 on ``consent.code`` (counted like a wrong sign-in code)."""
    index = _consent_index(normalize_phone(phone))
    try:
        _use_code(session, tenant, index, f"consent:{tenant.province_id}:{index}", code, address)
    except BadCredentials:
        raise InvalidInput(
            "短信授权验证码不正确或已失效，请让申请人核对短信，或重新发送", field="consent.code"
        ) from None


def _use_code(
    session: Session,
    tenant: Tenant,
    code_index: str,
    key: str,
    code: str,
    address: str | None,
) -> None:
    throttle.check_attempt(session, address, key)
    row = session.scalar(
        select(OneTimeCode)
        .where(
            OneTimeCode.province_id == tenant.province_id,
            OneTimeCode.phone_index == code_index,
            OneTimeCode.used.is_(False),
            OneTimeCode.expires_at > utcnow(),
        )
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
    )
    candidate = _code_hash((code or "").strip(), code_index)
    if row is None or row.attempts >= 5 or not hmac.compare_digest(row.code_hash, candidate):
        if row is not None:
            row.attempts += 1
        throttle.record_failed_attempt(session, address, key)
        raise BadCredentials()
    row.used = True
    throttle.record_good_attempt(session, address, key)


def sign_in_account_with_code(
    session: Session, tenant: Tenant, phone: str, code: str, *, address: str | None = None
) -> Account:
    """Check an SMS code; a first sign-in creates the citizen's account (实名信息 later)."""
    phone = check_sms_code(session, tenant, phone, code, address=address)
    index = blind_index(phone)
    account = find_account_by_phone(session, tenant.province_id, phone)
    if account is None:
        account = Account(
            province_id=tenant.province_id,
            id=new_id(),
            kind=AccountKind.citizen,
            name="用户" + phone[-4:],
            phone=phone,
            phone_index=index,
        )
        session.add(account)
        session.flush()
    if not account.active:
        raise BadCredentials()
    return account


def get_staff(session: Session, tenant: Tenant, staff_id: uuid.UUID) -> Staff:
    staff = session.get(Staff, (tenant.id, staff_id))
    if staff is None:
        raise NotFound("没有这名工作人员")
    return staff
