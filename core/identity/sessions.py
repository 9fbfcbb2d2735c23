"""Ending sessions on the server: each account and staff member carries a session version
that every session cookie must match (checked with the row the request reads anyway).

Signing out, a new password, a change of roles, disabling, and an admin's "end all sessions"
raise it, so that every cookie issued before — on any device, saved or stolen — stops
working at once. Signing out therefore ends the person's sessions everywhere: on a shared
computer at a village station that is the safe answer, and signing in again is cheap. A new
password, disabling and an admin's "end all sessions" also revoke the person's API tokens.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import object_session

from core.identity.models import Account, ApiToken, Staff
from core.identity.passwords import hash_password

__all__ = ["end_access", "end_sessions", "set_active", "set_password"]


def end_sessions(subject: Account | Staff) -> None:
    """Invalidate every browser session of ``subject`` (the caller commits)."""
    subject.session_version = (subject.session_version or 0) + 1


def end_access(subject: Account | Staff) -> None:
    """Every session *and* every API token of ``subject`` (CLI-issued or an app's OAuth
    token): what an administrator wants when an account may be in the wrong hands."""
    end_sessions(subject)
    session = object_session(subject)
    if session is None:
        return
    kind = ApiToken.subject_kind == "staff"
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.subject_id == subject.id,
            kind if isinstance(subject, Staff) else ~kind,
            ApiToken.revoked.is_(False),
        )
        .values(revoked=True)
    )


def set_password(subject: Account | Staff, password: str) -> None:
    """A new password (strength checked) ends every session and token made before it."""
    subject.password_hash = hash_password(password)
    end_access(subject)


def set_active(subject: Account | Staff, active: bool) -> None:
    """Disable or re-enable; disabling ends every session and token for good (enabling
    again does not bring them back)."""
    if subject.active != active:
        subject.active = active
        if not active:
            end_access(subject)
