"""Ending sessions on the server: each account and staff member carries a session version
that every session cookie must match (checked with the row the request reads anyway).

Signing out, a new password, a change of roles, disabling, and an admin's "end all sessions"
raise it, so that every cookie issued before — on any device, saved or stolen — stops
working at once. Signing out therefore ends the person's sessions everywhere: on a shared
computer at a village station that is the safe answer, and signing in again is cheap.
"""

from __future__ import annotations

from core.identity.models import Account, Staff
from core.identity.passwords import hash_password

__all__ = ["end_sessions", "set_active", "set_password"]


def end_sessions(subject: Account | Staff) -> None:
    """Invalidate every session of ``subject`` (the caller commits)."""
    subject.session_version = (subject.session_version or 0) + 1


def set_password(subject: Account | Staff, password: str) -> None:
    """A new password (strength checked) ends every session made with the old one."""
    subject.password_hash = hash_password(password)
    end_sessions(subject)


def set_active(subject: Account | Staff, active: bool) -> None:
    """Disable or re-enable; a disabled person's sessions and tokens stop at once."""
    if subject.active != active:
        subject.active = active
        end_sessions(subject)
