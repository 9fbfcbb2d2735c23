"""PostgreSQL row-level security: the second, database-side half of tenant isolation.

Each tenant-owned table has a policy that admits a row when

- its tenant (or province) is the one named by the transaction's **signed scope**: the
  application sets ``govhall.scope`` to ``tenant:province:signature`` at the start of every
  transaction (``set_config(..., true)``: it dies with the transaction, safe behind a
  pooler), and the policy's function checks the HMAC-SHA256 signature against a key only the
  schema owner can read. SQL that sets the scope itself — an injection — cannot sign it, so
  it names no tenant and reads nothing;
- or the **platform switch** ``govhall.platform = 'on'`` is set *and* the session's role is
  not one of the tenant-only roles (``govhall db grant --web-role …``). Workers, the
  scheduler and the command line work across tenants this way; a web process connected as a
  tenant-only role cannot, whatever it sets.

FORCE makes the policies bind the tables' owner too; only a superuser bypasses them, and the
application must never connect as one. The key is derived from ``GOVHALL_SECRET_KEY`` and
written by ``govhall db upgrade`` (:func:`sync_scope_key`), so every process that signs and
the database agree.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

__all__ = [
    "PRIVATE_SCHEMA",
    "disable_rls_sql",
    "enable_rls_sql",
    "grant_roles_sql",
    "scope_functions_sql",
    "scope_key",
    "sign_scope",
    "sync_scope_key",
]

PRIVATE_SCHEMA = "govhall_private"


def scope_key(secret_key: str) -> bytes:
    return hashlib.sha256(f"rls-scope:{secret_key}".encode()).digest()


def sign_scope(secret_key: str, tenant_id: uuid.UUID, province_id: uuid.UUID) -> str:
    """The value of ``govhall.scope`` for a transaction in ``tenant_id``'s scope."""
    message = f"{tenant_id}:{province_id}"
    signature = hmac.new(scope_key(secret_key), message.encode(), hashlib.sha256).hexdigest()
    return f"{message}:{signature}"


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer keys, so the database needs only its built-in sha256()."""
    block = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def sync_scope_key(connection: Any, secret_key: str) -> None:
    """Store the key that verifies signed scopes (the migration runner, i.e. the owner)."""
    from sqlalchemy import text

    inner, outer = _pads(scope_key(secret_key))
    connection.execute(text(f"DELETE FROM {PRIVATE_SCHEMA}.scope_key"))
    connection.execute(
        text(f"INSERT INTO {PRIVATE_SCHEMA}.scope_key (ipad, opad) VALUES (:i, :o)"),
        {"i": inner, "o": outer},
    )


def scope_functions_sql() -> list[str]:
    """The private schema, its key and role tables, and the two functions policies call."""
    p = PRIVATE_SCHEMA
    return [
        f"CREATE SCHEMA IF NOT EXISTS {p}",
        f"REVOKE ALL ON SCHEMA {p} FROM PUBLIC",
        f"CREATE TABLE IF NOT EXISTS {p}.scope_key (ipad bytea NOT NULL, opad bytea NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {p}.tenant_only_roles (rolname name PRIMARY KEY)",
        # part 1: the tenant, 2: the province; NULL unless the signature is right
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


def _legacy_rule(column: str) -> str:
    setting = "govhall.tenant_id" if column == "tenant_id" else "govhall.province_id"
    # Each setting sits in a scalar subquery so PostgreSQL evaluates it once per statement
    # (an InitPlan), not once per row: per row, a bulk insert ran five times slower.
    return (
        f"((SELECT current_setting('govhall.platform', true) = 'on') OR "
        f"{column} = (SELECT nullif(current_setting('{setting}', true), '')::uuid))"
    )


def _signed_rule(column: str) -> str:
    part = 1 if column == "tenant_id" else 2
    return f"((SELECT govhall_platform_on()) OR {column} = (SELECT govhall_scope_id({part})))"


def enable_rls_sql(table: str, column: str, *, signed: bool = True) -> list[str]:
    """Turn row-level security on for a new owned table (``signed=False``: the rule of
    migrations before 0017, which had no scope functions yet)."""
    rule = _signed_rule(column) if signed else _legacy_rule(column)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING {rule} WITH CHECK {rule}",
    ]


def replace_policy_sql(table: str, column: str, *, signed: bool = True) -> list[str]:
    """Re-create a table's policy with the current rule (RLS stays enabled)."""
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


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain role name: {name!r}")
    return '"' + name + '"'


def grant_roles_sql(web_role: str | None, platform_role: str | None) -> list[str]:
    """Privileges for the roles the processes connect as (run as the schema owner):

    both may read and write rows of every table (never alter, drop or own one), now and in
    tables later migrations add; the web role is registered as tenant-only, so the platform
    switch means nothing to it; neither may touch the migration bookkeeping.
    """
    out = []
    for role in filter(None, (web_role, platform_role)):
        r = _ident(role)
        out += [
            f"GRANT USAGE ON SCHEMA public TO {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}",
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}",
        ]
    if web_role:
        out.append(
            f"INSERT INTO {PRIVATE_SCHEMA}.tenant_only_roles (rolname) VALUES "
            f"('{web_role}') ON CONFLICT DO NOTHING"
        )
    if platform_role:
        out.append(
            f"DELETE FROM {PRIVATE_SCHEMA}.tenant_only_roles WHERE rolname = '{platform_role}'"
        )
    return out
