"""Staff management from the command line: create with roles, TOTP, tokens."""

from __future__ import annotations

import pyotp
import pytest
from click.testing import CliRunner

from core.db import Database
from core.errors import GovhallError
from core.identity.service import sign_in_staff
from core.tenancy import scope_for
from tests.helpers import bearer, tenant
from web.cli import main


def test_create_a_staff_member_with_a_role_at_a_unit_and_issue_a_token(
    client, db: Database
) -> None:
    runner = CliRunner()
    created = runner.invoke(
        main,
        [
            "users",
            "create",
            "--tenant",
            "guangzhou",
            "--username",
            "gz-clerk-2",
            "--name",
            "周受理",
            "--password",
            "Strong-2026",
            "--role",
            "window_clerk@GZ-ZWZX",
        ],
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(
        main, ["tokens", "issue", "--tenant", "guangzhou", "--user", "gz-clerk-2"]
    ).output.strip()
    me = client.get("/api/v1/t/guangzhou/me", headers=bearer(token)).json()
    assert me["name"] == "周受理" and me["roles"] == ["window_clerk"]


def test_create_refuses_a_weak_password_and_an_unknown_unit(db: Database) -> None:
    runner = CliRunner()
    weak = runner.invoke(
        main,
        [
            "users",
            "create",
            "--tenant",
            "guangzhou",
            "--username",
            "gz-weak",
            "--name",
            "x",
            "--password",
            "12345678",
        ],
    )
    assert weak.exit_code == 2 and "密码" in weak.output
    unit = runner.invoke(
        main,
        [
            "users",
            "create",
            "--tenant",
            "guangzhou",
            "--username",
            "gz-unit",
            "--name",
            "x",
            "--password",
            "Strong-2026",
            "--role",
            "reviewer@NOPE",
        ],
    )
    assert unit.exit_code == 2 and "NOPE" in unit.output


def test_totp_is_required_once_enabled(db: Database) -> None:
    result = CliRunner().invoke(
        main, ["users", "totp", "--tenant", "cili", "--username", "cili-supervisor"]
    )
    assert result.exit_code == 0 and result.output.startswith("otpauth://totp/")
    secret = pyotp.parse_uri(result.output.strip()).secret
    cili = tenant(db, "cili")
    with db.session(scope=scope_for(cili)) as session:
        with pytest.raises(GovhallError):
            sign_in_staff(session, cili, "cili-supervisor", "Demo-2026")
        session.rollback()
        staff = sign_in_staff(
            session, cili, "cili-supervisor", "Demo-2026", pyotp.TOTP(secret).now()
        )
        assert staff.username == "cili-supervisor"
