"""Sign-in throttling and lock-out, counted in the database so every web process agrees.

A throttle key names *who is being tried*, never the raw text that was typed: callers build
keys from the normalised identity (:func:`core.identity.service.identity_keys`) and, once the
account is known, from the account itself, so that re-formatting a phone number (spaces,
dashes, ``+86``, full-width digits) or using another alias of the same account counts toward
the same lock. Every check and every failure takes all the keys of one attempt at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from core.identity.errors import LockedOut
from core.identity.models import LoginThrottle

__all__ = ["check_not_locked", "record_failure", "record_success"]


def check_not_locked(session: Session, *keys: str) -> None:
    """Raise :class:`LockedOut` when any of ``keys`` is locked (the longest wait is told)."""
    now = utcnow()
    wait = 0
    for key in dict.fromkeys(keys):
        row = session.get(LoginThrottle, key)
        if row and row.locked_until and row.locked_until > now:
            wait = max(wait, int((row.locked_until - now).total_seconds()) + 1)
    if wait:
        raise LockedOut(wait)


def record_failure(session: Session, *keys: str, limit: int | None = None) -> None:
    """Count a failure against each key; the ``limit``-th within the window locks it
    (``login_max_failures`` unless given)."""
    settings = get_settings()
    limit = limit or settings.login_max_failures
    window = timedelta(minutes=settings.login_lock_minutes)
    now = utcnow()
    for key in dict.fromkeys(keys):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=now)
            session.add(row)
        if now - row.window_start > window:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + window
    session.flush()


def record_success(session: Session, *keys: str) -> None:
    for key in dict.fromkeys(keys):
        row = session.get(LoginThrottle, key)
        if row is not None:
            session.delete(row)
