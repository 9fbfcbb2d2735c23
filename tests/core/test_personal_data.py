"""Personal data is encrypted at rest; lookups use a keyed blind index; keys rotate."""

from __future__ import annotations

import base64
import secrets

import pytest
from sqlalchemy import select, text

from core.config import reset_settings
from core.db import Database
from core.db._types import _keys, decrypt_bytes, encrypt_bytes
from core.errors import InvalidInput
from core.identity.service import validate_id_number


def test_the_raw_database_holds_no_plain_phone_or_id_number(db: Database) -> None:
    import tomllib

    from tests.conftest import TENANTS

    people = tomllib.loads((TENANTS / "guangxi" / "people.toml").read_text(encoding="utf-8"))
    plain = [a["phone"] for a in people["accounts"]] + [
        a["id_number"] for a in people["accounts"] if a.get("id_number")
    ]
    staff_phones = tomllib.loads((TENANTS / "hechi" / "people.toml").read_text(encoding="utf-8"))[
        "staff"
    ][0]["phone"]
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT set_config('govhall.platform', 'on', false)"))
        dump = " ".join(
            str(row)
            for table in ("accounts", "staff")
            for row in conn.execute(text(f"SELECT * FROM {table}")).all()
        )
    assert dump, "nothing read: the check itself is broken"
    for value in [*plain, staff_phones]:
        assert value not in dump


VILLAGER_PHONE, VILLAGER_ID = "13977712345", "452702196001010029"


def test_no_table_holds_a_plain_phone_or_id_number_after_a_whole_case(db: Database) -> None:
    """A clerk files for a villager (phone and ID number), the case goes to its e-license, the
    SMS go into the outbox, the villager replies with a score and mistypes a sign-in code:
    then every column of every table is read raw and neither number appears anywhere."""
    from core.cases.service import Applicant, Consent
    from core.db import Base, blind_index
    from core.identity.errors import BadCredentials
    from core.identity.service import sign_in_account_with_code
    from core.identity.throttle import record_failure
    from core.plugins import get_plugin_manager
    from core.supervision.ratings import receive_sms
    from tests.cases.conftest import Desk

    hechi = Desk(db, "hechi")
    clerk = hechi.staff("hechi-clerk")
    typed = f"联系人 蓝村民，电话 {VILLAGER_PHONE}，身份证 {VILLAGER_ID}"
    number = hechi.apply(
        clerk,
        "HC-SC03",
        applicant=Applicant(phone=VILLAGER_PHONE, name="蓝村民", id_number=VILLAGER_ID),
        consent=Consent(method="in_person"),
        # what the applicant types may hold anything: a phone, an ID number
        form={"safety_manager": typed, "legal_rep_id_number": VILLAGER_ID},
    )
    for who, action in (
        ("hechi-clerk", "accept"),
        ("hechi-reviewer", "review"),
        ("hechi-approver", "approve"),
        ("hechi-issuer", "issue"),
    ):
        hechi.act(hechi.staff(who), number, action)
    with hechi.session() as s:
        receive_sms(s, hechi.tenant, "console", "pd-1", VILLAGER_PHONE, "100")
        receive_sms(s, hechi.tenant, "console", "pd-2", VILLAGER_PHONE, f"再打 {VILLAGER_PHONE}")
        s.commit()
    with hechi.session() as s:  # a complaint, and a comment on the trail, in the villager's words
        from core.cases.models import Case
        from core.cases.trail import Actor, append_event
        from core.supervision.ratings import open_follow_up

        case = s.scalar(select(Case).where(Case.number == number))
        open_follow_up(s, hechi.tenant, case, "complaint", typed)
        append_event(
            s, case, Actor("citizen", "", "蓝村民"), "comment", from_state="completed", reason=typed
        )
        s.commit()
    other = hechi.apply(hechi.citizen("13800000001"), "HC-SC03")
    with hechi.session() as s:  # a rating comment
        from core.cases.models import Case as C

        row = s.scalar(select(C).where(C.number == other))
        row.rating_comment = typed
        s.commit()
    with hechi.session() as s, pytest.raises(BadCredentials):
        sign_in_account_with_code(s, hechi.tenant, VILLAGER_PHONE, "000000")
    with hechi.session() as s:  # the failure counts, under a keyed index of the phone
        record_failure(s, f"otp:{hechi.tenant.province_id}:{blind_index(VILLAGER_PHONE)}")
        s.commit()
    manager, secret = get_plugin_manager(), "gateway-secret-7f3a"
    with hechi.session() as s:  # a vendor credential in a plugin's configuration
        manager.set_enabled(
            s,
            hechi.tenant,
            "sms_gateway",
            False,
            {"url": "http://127.0.0.1:9/send", "static": {"password": secret}},
        )
        s.commit()
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT set_config('govhall.platform', 'on', false)"))
        found: dict[str, set[str]] = {}
        for table in Base.metadata.sorted_tables:
            # raw SQL: the ORM's column types would decrypt what they read
            for cells in conn.execute(text(f"SELECT * FROM {table.name}")):
                raw = " ".join(str(v) for v in cells)
                for value in (VILLAGER_PHONE, VILLAGER_ID, secret):
                    if value in raw:
                        found.setdefault(table.name, set()).add(value)
    assert not found, found
    # and the numbers are there, encrypted: the check looked where they are
    assert hechi.case(number).applicant_phone == VILLAGER_PHONE
    assert hechi.case(number).form["safety_manager"] == typed
    assert hechi.case(other).rating_comment == typed
    with hechi.session() as s:
        assert manager.states(s, hechi.tenant)["sms_gateway"].raw_config["static"] == {
            "password": secret
        }
        manager.set_enabled(s, hechi.tenant, "sms_gateway", False, {})
        s.commit()


def test_rotation_keeps_old_ciphertext_readable(monkeypatch) -> None:
    old_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    new_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("GOVHALL_DATA_KEY", old_key)
    reset_settings()
    blob = encrypt_bytes(b"450102198503120118")
    monkeypatch.setenv("GOVHALL_DATA_KEY", new_key)
    monkeypatch.setenv("GOVHALL_DATA_KEYS_OLD", old_key)
    reset_settings()
    assert decrypt_bytes(blob) == b"450102198503120118"
    monkeypatch.delenv("GOVHALL_DATA_KEYS_OLD")
    reset_settings()
    with pytest.raises(ValueError):
        decrypt_bytes(blob)
    monkeypatch.undo()
    reset_settings()
    _keys.cache_clear()


def test_id_numbers_are_checked_by_their_check_digit() -> None:
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(InvalidInput):
        validate_id_number("110105194912310021")
