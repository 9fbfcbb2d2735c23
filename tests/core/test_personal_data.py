"""Personal data is encrypted at rest; lookups use a keyed blind index; keys rotate."""

from __future__ import annotations

import base64
import secrets

import pytest
from sqlalchemy import text

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
            for row in conn.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        )
    assert dump, "nothing read: the check itself is broken"
    for value in [*plain, staff_phones]:
        assert value not in dump


def test_rotation_keeps_old_ciphertext_readable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
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
