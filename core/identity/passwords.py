"""Password hashing with argon2id."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import InvalidInput

__all__ = ["check_password_strength", "hash_password", "hash_secret", "verify_password"]

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both paths take the same time.
_DUMMY = _hasher.hash("govhall-timing-equaliser")


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def hash_secret(secret: str) -> str:
    """Hash a machine-generated secret (OAuth client secrets): no strength rules."""
    return _hasher.hash(secret)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位", field="password")
    if password.isdigit() or password.isalpha():
        raise InvalidInput("密码须同时包含字母和数字", field="password")
