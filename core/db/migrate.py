"""Alembic, driven from code: ``govhall db upgrade`` and the tests use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from core.config import PROJECT_ROOT, get_settings
from core.db.rls import PRIVATE_SCHEMA, grant_roles_sql, sync_scope_key

__all__ = ["alembic_config", "grant_roles", "upgrade"]

MIGRATIONS = Path(PROJECT_ROOT) / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate, then (PostgreSQL) store the key that verifies signed scopes: always, since
    ``GOVHALL_SECRET_KEY`` may have changed since the migration that first wrote it."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)
    if database_url.startswith("postgresql"):
        _sync_key(database_url)


def _sync_key(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            exists = conn.execute(
                text("SELECT to_regclass(:t)"), {"t": f"{PRIVATE_SCHEMA}.scope_key"}
            ).scalar()
            if exists:
                sync_scope_key(conn, get_settings().secret_key)
            # Statistics for the catalog's big tables: only their owner may gather them (the
            # platform role's own ANALYZE before a large import is skipped), and without them
            # an import's foreign-key checks plan as if the tables were empty.
            conn.execute(text("ANALYZE items, item_versions, item_terms"))
    finally:
        engine.dispose()


def grant_roles(database_url: str, web_role: str | None, platform_role: str | None) -> None:
    """``govhall db grant``: privileges for the roles web and platform processes use."""
    from sqlalchemy import create_engine, text

    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for statement in grant_roles_sql(web_role, platform_role):
                conn.execute(text(statement))
    finally:
        engine.dispose()
