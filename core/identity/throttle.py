"""Sign-in throttling and lock-out, counted in the database so every web process agrees."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from core.identity.errors import LockedOut
from core.identity.models import LoginThrottle

__all__ = ["check_not_locked", "record_failure", "record_success"]


def check_not_locked(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    now = utcnow()
    if row and row.locked_until and row.locked_until > now:
        raise LockedOut(int((row.locked_until - now).total_seconds()) + 1)


def record_failure(session: Session, key: str) -> None:
    """Count a failure; the ``login_max_failures``-th within the window locks the key."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_lock_minutes)
    now = utcnow()
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_start=now)
        session.add(row)
    if now - row.window_start > window:
        row.failures, row.window_start, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= settings.login_max_failures:
        row.locked_until = now + window
    session.flush()


def record_success(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
