"""Settings, read once from ``GOVHALL_*`` environment variables into a typed object."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from functools import lru_cache
from pathlib import Path

import msgspec

__all__ = ["Settings", "get_settings", "reset_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_var_dir() -> str:
    """``var/`` beside the code in a checkout; for an installed package (whose code sits in
    site-packages, where nothing should be written) ``var/`` in the working directory."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return str(PROJECT_ROOT / "var")
    return str(Path.cwd() / "var")


# Development defaults: good enough for `make run`, refused in production (see `check`).
_DEV_SECRET = "govhall-development-secret-do-not-use-in-production"  # noqa: S105
_DEV_DATA_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"govhall-dev-data-key").digest()).decode()


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable, with the embedded defaults."""

    env: str = "development"
    database_url: str = ""
    #: where web processes connect as a tenant-only role: the platform role's URL, for the
    #: few cross-tenant reads a web request makes (see docs/operations.md); unset: one role
    platform_database_url: str = ""
    redis_url: str = ""
    storage_url: str = ""
    s3_endpoint_url: str = ""
    secret_key: str = _DEV_SECRET
    #: url-safe base64 of 32 bytes; the first key encrypts, all keys decrypt (rotation).
    data_key: str = _DEV_DATA_KEY
    data_keys_old: str = ""
    #: PEM of the RSA key that signs ID tokens; empty: a key file under var/ (development).
    oidc_key_file: str = ""
    var_dir: str = msgspec.field(default_factory=_default_var_dir)
    base_url: str = "http://127.0.0.1:8000"
    #: production normally refuses an ``http://`` base URL; a closed private network may say so
    allow_http: bool = False
    max_json_bytes: int = 1_048_576
    max_upload_bytes: int = 20 * 1_048_576
    #: failed sign-ins for one account from one client address before that address is locked
    #: for it; the owner, from elsewhere, is not
    login_max_failures: int = 5
    #: failed sign-ins for one account from all addresses together before it is locked for
    #: everyone (a guess spread over many addresses still stops)
    login_account_max_failures: int = 50
    #: failed sign-ins from one client address, whichever accounts it tried, before that
    #: address is locked out of signing in (one password tried on many accounts stops too)
    login_address_max_failures: int = 30
    login_lock_minutes: int = 15
    session_max_age: int = 8 * 3600
    #: SMS one-time codes: lifetime and how many may be requested per phone per hour.
    otp_ttl_seconds: int = 300
    otp_per_hour: int = 5
    #: seconds before another code may be sent to the same phone (the page counts them down)
    otp_resend_seconds: int = 60
    #: code requests from one client address (all phones) within the lock window before it is locked
    otp_per_address: int = 30
    #: let requests to county-configured addresses (SMS gateways, webhooks, couriers) reach
    #: loopback and private addresses: development and test suites only, refused in production
    outbound_allow_private: bool = False
    #: proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR blocks
    trusted_proxies: str = ""
    scheduler_interval: float = 60.0
    #: requests a web process works on at once; more are refused at once with 503 and
    #: Retry-After (web/shedding.py); 0: no limit
    max_concurrent_requests: int = 64
    #: threads a web process runs its handlers in (each database pool holds twice as many
    #: connections, see core/db/_session.py)
    web_threads: int = 16
    #: "default" (RFC 9106 low-memory) or "test": argon2's cheapest parameters, for test suites.
    argon2_profile: str = "default"
    default_lang: str = "zh"
    #: pins the case clock to an ISO date or time (rehearsing deadlines); refused in production
    test_now: str = ""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.var_dir) / 'govhall.sqlite3'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"file://{Path(self.var_dir) / 'objects'}"

    def check(self) -> list[str]:
        """Problems that must stop a production start."""
        problems = []
        if self.is_production:
            if self.secret_key == _DEV_SECRET:
                problems.append("GOVHALL_SECRET_KEY is the development default")
            if self.data_key == _DEV_DATA_KEY:
                problems.append("GOVHALL_DATA_KEY is the development default")
            if not self.database_url:
                problems.append("GOVHALL_DATABASE_URL is not set")
            if self.test_now:
                problems.append("GOVHALL_TEST_NOW pins the clock and is refused in production")
            if len(self.secret_key.encode()) < 32:
                problems.append("GOVHALL_SECRET_KEY must be at least 32 bytes")
            if not self.base_url.startswith("https://") and not self.allow_http:
                problems.append(
                    "GOVHALL_BASE_URL must be https:// (set GOVHALL_ALLOW_HTTP=1 only on a "
                    "closed private network)"
                )
            if not self.oidc_key_file:
                problems.append("GOVHALL_OIDC_KEY_FILE is not set (the key that signs ID tokens)")
            elif not Path(self.oidc_key_file).is_file():
                problems.append(f"GOVHALL_OIDC_KEY_FILE {self.oidc_key_file} does not exist")
            if self.argon2_profile == "test":
                problems.append("GOVHALL_ARGON2_PROFILE=test hashes passwords too cheaply")
            if self.outbound_allow_private:
                problems.append(
                    "GOVHALL_OUTBOUND_ALLOW_PRIVATE lets county-configured addresses reach "
                    "this server's own network (development and tests only)"
                )
        if self.argon2_profile not in ("default", "test"):
            problems.append(
                f"GOVHALL_ARGON2_PROFILE: {self.argon2_profile!r} is neither default nor test"
            )
        if self.default_lang not in ("zh", "en"):
            problems.append(f"GOVHALL_DEFAULT_LANG: {self.default_lang!r} is not zh or en")
        if (
            min(
                self.login_max_failures,
                self.login_account_max_failures,
                self.login_address_max_failures,
            )
            < 1
        ):
            problems.append(
                "GOVHALL_LOGIN_MAX_FAILURES, GOVHALL_LOGIN_ACCOUNT_MAX_FAILURES and "
                "GOVHALL_LOGIN_ADDRESS_MAX_FAILURES must be at least 1"
            )
        if self.scheduler_interval <= 0:
            problems.append("GOVHALL_SCHEDULER_INTERVAL must be a positive number of seconds")
        for part in self.trusted_proxies.split(","):
            try:
                if part.strip():
                    ipaddress.ip_network(part.strip(), strict=False)
            except ValueError:
                problems.append(f"GOVHALL_TRUSTED_PROXIES: {part.strip()!r} is not an address")
        try:
            if len(base64.urlsafe_b64decode(self.data_key)) != 32:
                problems.append("GOVHALL_DATA_KEY must be url-safe base64 of 32 bytes")
        except ValueError:
            problems.append("GOVHALL_DATA_KEY is not valid base64")
        return problems


def _from_env(environ: os._Environ[str] | dict[str, str]) -> Settings:
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        raw = environ.get("GOVHALL_" + field.name.upper())
        if raw is None:
            continue
        if field.type is bool:
            values[field.name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif field.type is int:
            values[field.name] = int(raw)
        elif field.type is float:
            values[field.name] = float(raw)
        else:
            values[field.name] = raw
    return msgspec.convert(values, Settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _from_env(os.environ)


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
