"""Engine and session factory; the PostgreSQL half of tenant isolation lives here too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine.interfaces import DBAPIConnection, ExecutionContext
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from core.config import get_settings
from core.db._effects import _before_commit, install_effect_dispatch
from core.db._memo import install_memo
from core.db._scope import PLATFORM, Scope, _Platform, install_scope_filter
from core.db.rls import sign_scope

__all__ = [
    "Database",
    "GovhallSession",
    "flush_with_effects",
    "get_database",
    "platform_scope",
    "reset_database",
    "tx_cache",
]


class GovhallSession(Session):
    """A session that knows its tenant scope (see :mod:`core.db._scope`).

    On PostgreSQL (psycopg) a flush sends its statements in pipeline mode: the writes whose
    answer nothing waits for (an ``INSERT`` without ``RETURNING``) go out together, and the
    flush waits for them once, before it counts as done; an ``UPDATE`` or ``DELETE`` is still
    waited for on its own, as SQLAlchemy checks the rows it matched (a versioned case changed
    meanwhile must stay a 409)."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if not (self._new or self._deleted or self.identity_map._modified):
            super().flush(objects)  # nothing to write
            return
        connection = self.connection()
        if not _pipelines(connection):
            super().flush(objects)
            return
        _open_pipeline(connection, _FLUSH)
        self.info[_PIPED] = connection
        try:
            super().flush(objects)
        finally:
            self.info.pop(_PIPED, None)
            # still open only when the flush failed before its end: its error is the one
            _close_pipeline(connection.info, quietly=True)


# -- PostgreSQL round trips: psycopg's pipeline mode ----------------------------------------
#
# Two places wait for the database less often, the same code for web, CLI and workers:
# - a transaction's row-level security settings (``_set_pg_scope``) are sent in a pipeline
#   and answered together with the transaction's first statement (``_BEGIN``);
# - a flush queues its inserts and waits for them once, at its end (``_FLUSH``).
# A statement whose answer is needed now (rows, a row count) syncs the pipeline; a commit,
# a rollback or the connection's return to the pool closes it first.

#: Connection.info key: the open pipeline, ``[context manager, pipeline, mode]``
_PIPE = "govhall.pipeline"
#: session.info key: the connection whose pipeline the current flush opened
_PIPED = "govhall.piped"
_BEGIN, _FLUSH = "begin", "flush"
#: execution option: the statement's answer is not waited for (the scope settings)
_AHEAD = "govhall_ahead"


def _pipelines(connection: Connection) -> bool:
    """Whether ``connection`` is psycopg's with pipeline mode available."""
    if connection.dialect.driver != "psycopg":
        return False
    import psycopg

    return psycopg.Pipeline.is_supported()


def _open_pipeline(connection: Connection, mode: str) -> None:
    held = connection.info.get(_PIPE)
    if held is not None:
        held[2] = mode  # the settings' pipeline, not yet answered: the flush carries them
        return
    manager: AbstractContextManager[Any] = connection.connection.driver_connection.pipeline()  # type: ignore[union-attr]
    pipeline = manager.__enter__()
    connection.info[_PIPE] = [manager, pipeline, mode]


def _close_pipeline(info: dict[Any, Any], *, quietly: bool = False) -> None:
    """Leave pipeline mode, waiting for every answer still due (the first error raises)."""
    held = info.pop(_PIPE, None)
    if held is None:
        return
    try:
        held[0].__exit__(None, None, None)
    except Exception:
        if not quietly:
            raise


def _wrapped(connection: Connection, error: Exception) -> Exception:
    """A driver error raised outside a statement, as SQLAlchemy raises it from one (so an
    IntegrityError is still a 409 and a lost connection is noticed)."""
    import psycopg

    if not isinstance(error, psycopg.Error):
        return error
    invalidated = connection.dialect.is_disconnect(error, connection.connection, None)  # type: ignore[arg-type]
    if invalidated:
        connection.invalidate(error)
    wrapped = sa_exc.DBAPIError.instance(
        None, None, error, psycopg.Error, connection_invalidated=invalidated
    )
    return wrapped


def _after_execute(
    connection: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext,
    executemany: bool,
) -> None:
    held = connection.info.get(_PIPE)
    if held is None or context.execution_options.get(_AHEAD):
        return
    if held[2] == _BEGIN:
        _close_pipeline(connection.info)  # the settings and this statement, one round trip
        return
    compiled = context.compiled
    returning = compiled is not None and bool(getattr(compiled, "effective_returning", None))
    if not context.isinsert or returning:
        held[1].sync()  # rows or a row count to read: wait for it (and what went before)


def _before_execute(
    connection: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext,
    executemany: bool,
) -> tuple[str, Any]:
    held = connection.info.get(_PIPE)
    if held is not None and held[2] == _BEGIN and getattr(context, "is_server_side", False):
        _close_pipeline(connection.info)  # a server-side cursor cannot run in a pipeline
    return statement, parameters


def _before_end(connection: Connection) -> None:
    """Commit: every answer first (an error still raises as a statement's would)."""
    try:
        _close_pipeline(connection.info)
    except Exception as error:
        raise _wrapped(connection, error) from error


def _before_rollback(connection: Connection) -> None:
    _close_pipeline(connection.info, quietly=True)


def _on_reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: Any) -> None:
    _close_pipeline(record.info, quietly=True)  # never back in the pool in pipeline mode


def _install_pipelines(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _before_execute, retval=True)
    event.listen(engine, "after_cursor_execute", _after_execute)
    event.listen(engine, "commit", _before_end)
    event.listen(engine, "rollback", _before_rollback)
    event.listen(engine, "reset", _on_reset)


def _flushed(session: Session, _context: object) -> None:
    """The flush's queued writes answered, before the flush counts as done (a failed insert
    fails the flush, and its transaction is rolled back as usual)."""
    connection = session.info.get(_PIPED)
    if connection is None:
        return
    try:
        _close_pipeline(connection.info)
    except Exception as error:
        raise _wrapped(connection, error) from error


install_scope_filter(GovhallSession)
install_memo(GovhallSession)
# first: the other after-flush work sees the flush's writes answered
event.listen(GovhallSession, "after_flush", _flushed, insert=True)
install_effect_dispatch(GovhallSession)  # runs what core.effects registers


def flush_with_effects(session: Session) -> None:
    """Flush, with the rows the commit's effects would add for what the transaction has done
    so far (the texts to the staff whose step opened, the events queued for department
    systems): they go out with this flush instead of a second one at commit. The effects run
    again at commit for whatever is done after this (collected since, so nothing twice)."""
    _before_commit(session)
    session.flush()


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


_SCOPE_SQL = (
    "SELECT set_config('govhall.scope', %(s)s, true),"
    " set_config('govhall.tenant_id', %(t)s, true),"
    " set_config('govhall.province_id', %(p)s, true),"
    " set_config('govhall.platform', 'off', true)"
)


@lru_cache(maxsize=1024)
def _scope_settings(
    secret_key: str, tenant_id: uuid.UUID, province_id: uuid.UUID
) -> dict[str, str]:
    """The settings' values for a tenant, signed once per process (read-only: shared)."""
    return {
        "s": sign_scope(secret_key, tenant_id, province_id),
        "t": str(tenant_id),
        "p": str(province_id),
    }


def _set_pg_scope(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    """Row-level security keys on per-transaction settings, safe behind a pooler: the scope
    signed with the key the policies verify (see :mod:`core.db.rls`); the bare ids too, for a
    database not yet migrated to signed scopes."""
    if connection.dialect.name != "postgresql":
        return
    scope = session.info.get("scope")
    if isinstance(scope, Scope):
        params = _scope_settings(get_settings().secret_key, scope.tenant_id, scope.province_id)
        if _pipelines(connection):
            # answered with the transaction's first statement: one round trip less. Sent by
            # the driver itself: nothing reads its answer, so SQLAlchemy's handling of a
            # statement (about a tenth of a millisecond) would be spent for nothing.
            _open_pipeline(connection, _BEGIN)
            connection.connection.driver_connection.execute(_SCOPE_SQL, params)  # type: ignore[union-attr]
        else:
            connection.exec_driver_sql(_SCOPE_SQL, params)
    elif scope is PLATFORM:
        connection.exec_driver_sql("SELECT set_config('govhall.platform', 'on', true)")


event.listen(GovhallSession, "after_begin", _set_pg_scope)


@contextmanager
def platform_scope(session: Session) -> Iterator[Session]:
    """Work across tenants for a moment, then return to the caller's scope.

    For the few services that must read or touch another tenant (a province's standard item,
    a citizen's e-licenses across the province, a province's catalog change flowing to its
    counties). Pending changes are flushed on the way in and out, so each is checked against
    the scope it was made in.

    With one database role (development, the embedded mode) this runs inside the caller's own
    transaction. Where web processes connect as a tenant-only role, the platform switch means
    nothing to that role, so the work runs in a session of the platform role instead
    (``GOVHALL_PLATFORM_DATABASE_URL``), committed right after the caller's transaction
    commits and rolled back with it.
    """
    previous = session.info.get("scope")
    if previous is PLATFORM:
        yield session
        return
    database = session.info.get("database")
    if isinstance(database, Database) and database.platform_engine is not None:
        yield _companion(session, database)
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


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _engine(url: str, **engine_kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine_kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    else:
        engine_kwargs.setdefault("pool_pre_ping", True)
        engine_kwargs.setdefault("pool_size", 10)
    engine = create_engine(url, **engine_kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.driver == "psycopg":
        _install_pipelines(engine)
    return engine


class Database:
    """One engine and its session factory; optionally a second engine, connected as the
    platform role, for the PLATFORM-scoped work of a process whose own role is tenant-only."""

    def __init__(self, url: str, platform_url: str | None = None, **engine_kwargs: Any) -> None:
        self.engine: Engine = _engine(url, **engine_kwargs)
        self.url = self.engine.url.render_as_string(hide_password=False)
        self.platform_engine: Engine | None = None
        if platform_url:
            self.platform_engine = _engine(platform_url, pool_size=2, max_overflow=8)
        self._factory = sessionmaker(
            bind=self.engine, class_=GovhallSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self, scope: Scope | _Platform | None) -> GovhallSession:
        bind = self.platform_engine if scope is PLATFORM and self.platform_engine else None
        session = self._factory(bind=bind) if bind is not None else self._factory()
        session.info["scope"] = scope
        session.info["database"] = self
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
            _end_companion(session, commit=False)
            session.close()

    def scope_key_problem(self) -> str | None:
        """Why signed scopes would fail here (the database's key is not the one this process
        signs with), or None. Checked at start-up: otherwise every tenant page reads nothing."""
        if self.dialect != "postgresql":
            return None
        tenant_id, province_id = uuid.uuid4(), uuid.uuid4()
        with self.engine.begin() as conn:
            if not conn.execute(text("SELECT to_regproc('public.govhall_scope_id')")).scalar():
                return None  # not yet migrated to signed scopes
            signed = sign_scope(get_settings().secret_key, tenant_id, province_id)
            conn.execute(text("SELECT set_config('govhall.scope', :s, true)"), {"s": signed})
            seen = conn.execute(text("SELECT govhall_scope_id(1)")).scalar()
        if seen != tenant_id:
            return (
                "the database verifies tenant scopes with another key than GOVHALL_SECRET_KEY: "
                "run `govhall db upgrade` with this key"
            )
        return None

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self.platform_engine is not None:
            self.platform_engine.dispose()


_COMPANION = "govhall.platform_companion"


def _companion(session: Session, database: Database) -> Session:
    """The caller's platform-role session: one per transaction, following its outcome."""
    companion = session.info.get(_COMPANION)
    if companion is None:
        companion = database.new_session(PLATFORM)
        session.info[_COMPANION] = companion
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_soft_rollback", _after_rollback, once=True)
    return companion


def _after_commit(session: Session) -> None:
    _end_companion(session, commit=True)


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    _end_companion(session, commit=False)


def _end_companion(session: Session, *, commit: bool) -> None:
    companion = session.info.pop(_COMPANION, None)
    if companion is None:
        return
    try:
        if commit:
            companion.commit()
        else:
            companion.rollback()
    finally:
        companion.close()


_database: Database | None = None


def get_database() -> Database:
    """The process-wide database, built from settings on first use."""
    global _database
    if _database is None:
        settings = get_settings()
        # Twice as many connections as a web process has request threads: a request holding
        # one may open a second (a plugin hook's own lookup, keeping a guide), and were every
        # thread to hold one while waiting for another, the pool would wait on itself until its
        # timeout (docs/performance.md, "Load"). SQLite takes no pool arguments.
        pool = (
            {}
            if settings.resolved_database_url.startswith("sqlite")
            else {"pool_size": 10, "max_overflow": max(10, 2 * settings.web_threads - 10)}
        )
        _database = Database(settings.resolved_database_url, settings.platform_database_url, **pool)
    return _database


def reset_database(database: Database | None = None) -> None:
    global _database
    if _database is not None and _database is not database:
        _database.dispose()
    _database = database
