"""Engine and session factory; the PostgreSQL half of tenant isolation lives here too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from core.config import get_settings
from core.db._memo import install_memo
from core.db._scope import PLATFORM, Scope, _Platform, install_scope_filter

__all__ = [
    "Database",
    "GovhallSession",
    "get_database",
    "platform_scope",
    "reset_database",
    "tx_cache",
]


class GovhallSession(Session):
    """A session that knows its tenant scope (see :mod:`core.db._scope`)."""


install_scope_filter(GovhallSession)
install_memo(GovhallSession)


def tx_cache(session: Session) -> dict[Any, Any]:
    """A dict that lives exactly as long as the session's current transaction: facts read
    once under the transaction's locks (a case's tasks, the org units, the calendar) are
    reused by the rest of it and forgotten at commit or rollback."""
    tx = session.get_transaction()
    if tx is None:
        return {}
    holder = session.info.get("govhall.tx_cache")
    if holder is None or holder[0] is not tx:  # the transaction is held, so never reused
        holder = (tx, {})
        session.info["govhall.tx_cache"] = holder
    return holder[1]


def _set_pg_scope(session: Session, transaction, connection) -> None:  # type: ignore[no-untyped-def]
    """Row-level security keys on per-transaction settings, safe behind a pooler."""
    if connection.dialect.name != "postgresql":
        return
    scope = session.info.get("scope")
    if isinstance(scope, Scope):
        connection.exec_driver_sql(
            "SELECT set_config('govhall.tenant_id', %(t)s, true),"
            " set_config('govhall.province_id', %(p)s, true),"
            " set_config('govhall.platform', 'off', true)",
            {"t": str(scope.tenant_id), "p": str(scope.province_id)},
        )
    elif scope is PLATFORM:
        connection.exec_driver_sql("SELECT set_config('govhall.platform', 'on', true)")


event.listen(GovhallSession, "after_begin", _set_pg_scope)


@contextmanager
def platform_scope(session: Session) -> Iterator[Session]:
    """Work across tenants inside the caller's own transaction, then return to its scope.

    For the few services that must touch another tenant atomically (a province's catalog
    change flowing to its counties). Pending changes are flushed on the way in and out, so
    each is checked against the scope it was made in.
    """
    previous = session.info.get("scope")
    if previous is PLATFORM:
        yield session
        return
    session.flush()
    session.connection()  # begin now, under the caller's scope, so its settings are in force
    session.info["scope"] = PLATFORM
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        session.execute(text("SELECT set_config('govhall.platform', 'on', true)"))
    try:
        yield session
        session.flush()
    finally:
        session.info["scope"] = previous
        if pg and session.in_transaction():
            session.execute(text("SELECT set_config('govhall.platform', 'off', true)"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self.url = url
        if url.startswith("sqlite"):
            engine_kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            engine_kwargs.setdefault("pool_pre_ping", True)
            engine_kwargs.setdefault("pool_size", 10)
        self.engine: Engine = create_engine(url, **engine_kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._factory = sessionmaker(
            bind=self.engine, class_=GovhallSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self, scope: Scope | _Platform | None) -> GovhallSession:
        session = self._factory()
        session.info["scope"] = scope
        return session

    @contextmanager
    def session(self, scope: Scope | _Platform | None) -> Iterator[GovhallSession]:
        """A session in ``scope``; rolled back unless the caller committed."""
        session = self.new_session(scope)
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None


def get_database() -> Database:
    """The process-wide database, built from settings on first use."""
    global _database
    if _database is None:
        _database = Database(get_settings().resolved_database_url)
    return _database


def reset_database(database: Database | None = None) -> None:
    global _database
    if _database is not None and _database is not database:
        _database.dispose()
    _database = database
