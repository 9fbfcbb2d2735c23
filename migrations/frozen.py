"""What the migrations need of the application, copied here as it was when each was written.

A migration must do in five years exactly what it did the day it was written, whatever the
application has become by then, so ``migrations/versions`` never imports live application
code: row-level security SQL and the field encryption of personal data live here, frozen.
Settings are read from the same ``GOVHALL_*`` environment variables as the application.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# -- settings -------------------------------------------------------------------------------------

_DEV_SECRET = "govhall-development-secret-do-not-use-in-production"  # noqa: S105
_DEV_DATA_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"govhall-dev-data-key").digest()).decode()


def secret_key() -> str:
    return os.environ.get("GOVHALL_SECRET_KEY") or _DEV_SECRET


def _data_keys() -> list[tuple[bytes, bytes]]:
    """(key id, AES key) pairs: the first encrypts, every one decrypts."""
    current = os.environ.get("GOVHALL_DATA_KEY") or _DEV_DATA_KEY
    old = os.environ.get("GOVHALL_DATA_KEYS_OLD", "")
    out = []
    for raw in [current, *[k for k in old.split(",") if k.strip()]]:
        master = base64.urlsafe_b64decode(raw.strip())
        aes = HKDF(algorithm=SHA256(), length=32, salt=b"govhall", info=b"field-encryption").derive(
            master
        )
        out.append((hashlib.sha256(aes).digest()[:4], aes))
    return out


# -- field encryption (0013, 0015) --------------------------------------------------------------

PREFIX = "enc1:"


def encrypt_text(plain: str) -> str:
    kid, key = _data_keys()[0]
    nonce = os.urandom(12)
    blob = kid + nonce + AESGCM(key).encrypt(nonce, plain.encode(), b"")
    return PREFIX + base64.b64encode(blob).decode()


def decrypt_text(stored: str) -> str:
    blob = base64.b64decode(stored[len(PREFIX) :])
    kid, nonce, body = blob[:4], blob[4:16], blob[16:]
    for candidate, key in _data_keys():
        if candidate == kid:
            return AESGCM(key).decrypt(nonce, body, b"").decode()
    raise ValueError("no configured data key matches this ciphertext")


def encrypt_json(value: Any) -> str:
    return encrypt_text(json.dumps(value, ensure_ascii=False, sort_keys=True))


def decrypt_json(stored: str) -> Any:
    return json.loads(decrypt_text(stored))


# -- row-level security --------------------------------------------------------------------------

PRIVATE_SCHEMA = "govhall_private"


def _legacy_rule(column: str) -> str:
    """The rule of 0001–0016: the per-transaction settings, or the platform switch."""
    setting = "govhall.tenant_id" if column == "tenant_id" else "govhall.province_id"
    return (
        f"((SELECT current_setting('govhall.platform', true) = 'on') OR "
        f"{column} = (SELECT nullif(current_setting('{setting}', true), '')::uuid))"
    )


def _signed_rule(column: str) -> str:
    """The rule from 0017: a signed scope, or the platform switch for roles allowed it."""
    part = 1 if column == "tenant_id" else 2
    return f"((SELECT govhall_platform_on()) OR {column} = (SELECT govhall_scope_id({part})))"


def enable_rls_sql(table: str, column: str, *, signed: bool = False) -> list[str]:
    rule = _signed_rule(column) if signed else _legacy_rule(column)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING {rule} WITH CHECK {rule}",
    ]


def replace_policy_sql(table: str, column: str, *, signed: bool = False) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        enable_rls_sql(table, column, signed=signed)[2],
    ]


def disable_rls_sql(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def scope_functions_sql() -> list[str]:
    """0017: the private schema, its key and role tables, the two functions policies call."""
    p = PRIVATE_SCHEMA
    return [
        f"CREATE SCHEMA IF NOT EXISTS {p}",
        f"REVOKE ALL ON SCHEMA {p} FROM PUBLIC",
        f"CREATE TABLE IF NOT EXISTS {p}.scope_key (ipad bytea NOT NULL, opad bytea NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {p}.tenant_only_roles (rolname name PRIMARY KEY)",
        f"""CREATE OR REPLACE FUNCTION public.govhall_scope_id(part integer) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
          SELECT CASE WHEN encode(sha256(k.opad || sha256(k.ipad || convert_to(
                   split_part(v.s, ':', 1) || ':' || split_part(v.s, ':', 2), 'UTF8'))), 'hex')
                   = split_part(v.s, ':', 3)
                 THEN split_part(v.s, ':', part)::uuid END
          FROM {p}.scope_key k,
               (SELECT coalesce(current_setting('govhall.scope', true), '') AS s) v
        $$""",
        f"""CREATE OR REPLACE FUNCTION public.govhall_platform_on() RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
          SELECT coalesce(current_setting('govhall.platform', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM {p}.tenant_only_roles WHERE rolname = session_user)
        $$""",
    ]


def sync_scope_key(connection: Any, secret: str) -> None:
    """0017: the HMAC key's inner and outer pads, from ``GOVHALL_SECRET_KEY``."""
    from sqlalchemy import text

    key = hashlib.sha256(f"rls-scope:{secret}".encode()).digest().ljust(64, b"\0")
    inner, outer = bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
    connection.execute(text(f"DELETE FROM {PRIVATE_SCHEMA}.scope_key"))
    connection.execute(
        text(f"INSERT INTO {PRIVATE_SCHEMA}.scope_key (ipad, opad) VALUES (:i, :o)"),
        {"i": inner, "o": outer},
    )
