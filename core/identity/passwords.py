"""Password hashing with argon2id."""

from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from core.config import get_settings
from core.errors import InvalidInput

__all__ = ["check_password_strength", "hash_password", "hash_secret", "verify_password"]


@lru_cache(maxsize=2)
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    hasher = (
        PasswordHasher.from_parameters(profiles.CHEAPEST) if profile == "test" else PasswordHasher()
    )
    # Verified against when the user does not exist, so both paths take the same time.
    return hasher, hasher.hash("govhall-timing-equaliser")


def _hasher() -> tuple[PasswordHasher, str]:
    return _hasher_for(get_settings().argon2_profile)


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher()[0].hash(password)


def hash_secret(secret: str) -> str:
    """Hash a machine-generated secret (OAuth client secrets): no strength rules."""
    return _hasher()[0].hash(secret)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位", field="password")
    if password.isdigit() or password.isalpha():
        raise InvalidInput("密码须同时包含字母和数字", field="password")
