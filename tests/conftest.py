"""Fixtures: real PostgreSQL, Redis and S3 servers; the suite runs on SQLite AND PostgreSQL.

Every test that takes ``db`` (or anything built on it) runs once per backend: the
``backend`` fixture is parametrized at session scope, so pytest runs the SQLite half, then
the PostgreSQL half, each against a database migrated by Alembic with the demo packs applied.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_VAR = Path(tempfile.mkdtemp(prefix="govhall-test-var-"))
os.environ.update(
    {
        "GOVHALL_VAR_DIR": str(_VAR),
        "GOVHALL_ARGON2_PROFILE": "test",
        # the fake vendors listen on loopback (tests/fakes.py); tests/security turns it off
        "GOVHALL_OUTBOUND_ALLOW_PRIVATE": "1",
        "GOVHALL_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GOVHALL_SECRET_KEY": secrets.token_urlsafe(32),
        "AUTHLIB_INSECURE_TRANSPORT": "1",
        # every test signs in from the test client's one address: the address-wide lock-out
        # would count the whole suite's deliberate failures together (tests/identity lowers it)
        "GOVHALL_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
    }
)
os.environ.pop("GOVHALL_DATABASE_URL", None)
os.environ.pop("GOVHALL_REDIS_URL", None)
os.environ.pop("GOVHALL_STORAGE_URL", None)

from core.config import get_settings, reset_settings  # noqa: E402
from core.db import PLATFORM, Database, reset_database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.effects import install as install_effects  # noqa: E402
from core.storage import reset_storage  # noqa: E402
from core.storage.local import LocalStorage  # noqa: E402
from tests.servers import PostgresServer, RedisServer, S3Server  # noqa: E402

install_effects()  # as the web app, the workers and the command line do

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ROOT / "tenants"
BACKENDS = ["sqlite", "postgres"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgres":
            item.add_marker(pytest.mark.postgres)


# -- servers -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


# -- databases -----------------------------------------------------------------------------------


def new_database(backend: str, request: pytest.FixtureRequest) -> Database:
    name = "t_" + uuid.uuid4().hex[:12]
    if backend == "sqlite":
        url = f"sqlite:///{_VAR / (name + '.sqlite3')}"
    else:
        url = request.getfixturevalue("pg_server").create_database(name)
    upgrade(url)
    return Database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def demo_database(backend: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database with every demo tenant pack applied, shared by the tests of one backend."""
    from core.packs import apply_packs, load_packs

    database = new_database(backend, request)
    reset_database(database)
    reset_storage(LocalStorage(str(_VAR / f"objects-{backend}")))
    with database.session(scope=PLATFORM) as session:
        apply_packs(session, load_packs(TENANTS))
        session.commit()
    yield database
    database.dispose()


@pytest.fixture
def db(demo_database: Database, backend: str) -> Database:
    """The demo database of the current backend, installed as the process-wide one."""
    reset_settings()
    reset_database(demo_database)
    reset_storage(LocalStorage(str(_VAR / f"objects-{backend}")))
    return demo_database


@pytest.fixture
def empty_db(backend: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A freshly migrated, empty database of the current backend."""
    database = new_database(backend, request)
    reset_database(database)
    reset_storage(LocalStorage(str(_VAR / f"objects-empty-{uuid.uuid4().hex[:6]}")))
    yield database
    database.dispose()


@pytest.fixture
def settings():
    reset_settings()
    return get_settings()


# -- the web app ---------------------------------------------------------------------------------


@pytest.fixture
def app(db: Database):
    from web.app import create_app

    return create_app(get_settings(), db)


@pytest.fixture
def client(app):
    from litestar.testing import TestClient

    with TestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def sms_outbox() -> Path:
    """The file the console SMS vendor appends to; emptied for each test."""
    path = _VAR / "sms-outbox.jsonl"
    path.unlink(missing_ok=True)
    return path


# -- cases in every state, for tests that walk every page ------------------------------------

_SEEDED: set[str] = set()


@pytest.fixture
def cases_in_every_state(db, backend: str) -> None:
    """李娜's cases at Hechi as a draft, submitted, sent back for correction and issued, so
    that the crawl reaches every kind of case page (once per database)."""
    if backend in _SEEDED:
        return
    _SEEDED.add(backend)
    from tests.cases.conftest import Desk

    desk = Desk(db, "hechi")
    li = desk.citizen("13800000008")
    clerk, reviewer = desk.staff("hechi-clerk"), desk.staff("hechi-reviewer")
    approver, issuer = desk.staff("hechi-approver"), desk.staff("hechi-issuer")
    desk.apply(li, "HC-SC03", submit=False)
    desk.apply(li, "HC-SC03")
    sent_back = desk.apply(li, "HC-SC03")
    desk.act(
        clerk,
        sent_back,
        "request_correction",
        materials=[{"index": 1, "reason": "营业执照复印件不清晰，请重新扫描"}],
    )
    done = desk.apply(li, "HC-SC03")
    desk.act(clerk, done, "accept")
    desk.act(reviewer, done, "review")
    desk.act(approver, done, "approve")
    desk.act(issuer, done, "issue")
