"""Sign-in throttling and lock-out, counted in the database so every web process agrees.

A throttle key names *who is being tried*, never the raw text that was typed: callers build
keys from the normalised identity (:func:`core.identity.service.account_throttle_keys`) and,
once the account is known, from the account itself, so that re-formatting a phone number
(spaces, dashes, ``+86``, full-width digits) or using another alias of the same account counts
toward the same lock. Every check and every failure takes all the keys of one attempt at once.

A guess at someone's credentials is counted twice (:func:`check_attempt`,
:func:`record_failed_attempt`): against the account *and the client address* it came from,
locked after ``login_max_failures``, so whoever guesses locks out themselves and not the
owner signing in from elsewhere; and against the account alone, locked for everyone only
after ``login_account_max_failures`` (ten times as many by default), so a guess spread over
many addresses still stops. And every failure from an address counts against the address
itself, whichever account it tried: at ``login_address_max_failures`` it may not sign in to
anything until the window ends, so one password tried on many accounts (a spray) stops too.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from core.identity.errors import LockedOut
from core.identity.models import LoginThrottle

__all__ = [
    "check_attempt",
    "check_not_locked",
    "hold",
    "per_address",
    "record_failed_attempt",
    "record_failure",
    "record_good_attempt",
    "record_success",
    "wait_of",
]

#: the longest key the table holds (``login_throttles.key``)
_KEY_LENGTH = 128


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


def record_failure(
    session: Session, *keys: str, limit: int | None = None, window: timedelta | None = None
) -> None:
    """Count a failure against each key; the ``limit``-th within the window locks it for the
    window (``login_max_failures`` and ``login_lock_minutes`` unless given)."""
    settings = get_settings()
    limit = limit or settings.login_max_failures
    window = window or timedelta(minutes=settings.login_lock_minutes)
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


def per_address(key: str, address: str | None) -> str:
    """``key`` tried from ``address`` (``-`` when the caller does not know it); a key too long
    for the table keeps its first part readable and ends in a hash of the whole."""
    joined = f"{key}@{address or '-'}"
    if len(joined) <= _KEY_LENGTH:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:40]
    return f"{key[: _KEY_LENGTH - 42]}@~{digest}"


def _from(address: str | None) -> tuple[str, ...]:
    """The key of every sign-in failure from ``address``, whatever it tried."""
    return (f"signin-from:{address}"[:_KEY_LENGTH],) if address else ()


def check_attempt(session: Session, address: str | None, *keys: str) -> None:
    """Raise :class:`LockedOut` when ``keys`` are locked for ``address``, or for everyone, or
    ``address`` is locked out of signing in at all."""
    check_not_locked(session, *(per_address(k, address) for k in keys), *keys, *_from(address))


def record_failed_attempt(
    session: Session,
    address: str | None,
    *keys: str,
    limit: int | None = None,
    ceiling: int | None = None,
) -> None:
    """Count a wrong guess at ``keys`` from ``address``: locks them for that address at
    ``limit`` (``login_max_failures``) and for everyone at ``ceiling``
    (``login_account_max_failures``), each within the lock window."""
    settings = get_settings()
    record_failure(session, *(per_address(k, address) for k in keys), limit=limit)
    ceiling = ceiling or settings.login_account_max_failures
    record_failure(session, *keys, limit=max(ceiling, limit or settings.login_max_failures))
    if address:
        record_failure(session, *_from(address), limit=settings.login_address_max_failures)


def record_good_attempt(session: Session, address: str | None, *keys: str) -> None:
    """The right answer from ``address``: its own count starts again. The count across all
    addresses is left to run out with its window, so signing in does not give a distributed
    guess a fresh allowance."""
    record_success(session, *(per_address(k, address) for k in keys))


def wait_of(session: Session, key: str) -> int:
    """Seconds ``key`` is still held or locked (0: free)."""
    row = session.get(LoginThrottle, key)
    now = utcnow()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, math.ceil((row.locked_until - now).total_seconds()))


def hold(session: Session, key: str, seconds: int) -> None:
    """Hold ``key`` for ``seconds`` from now (a resend cooldown): :func:`wait_of` counts it
    down. It counts no failure and is not a lock-out."""
    if seconds <= 0:
        return
    now = utcnow()
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_start=now)
        session.add(row)
    row.window_start, row.locked_until = now, now + timedelta(seconds=seconds)
    session.flush()
