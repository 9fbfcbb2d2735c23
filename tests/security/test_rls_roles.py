"""Row-level security as a real second line, on PostgreSQL with the production roles: the
schema's owner runs migrations, web processes connect as a tenant-only role that owns nothing,
platform work (and the web's few cross-tenant reads) uses a platform role.

Raw SQL as the web role — the platform switch, the old per-tenant settings, a forged scope,
all set with set_config as an injection would — reads nothing of another tenant; and the whole
application still works on those roles: a case from application to e-license, a province's
catalog change flowing to its counties, a citizen's e-licenses across the province."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from core.config import get_settings
from core.db import Database, reset_database
from core.db.migrate import grant_roles
from core.db.rls import sign_scope
from tests.helpers import tenant

WEB, PLATFORM_ROLE = "govhall_web", "govhall_platform"


@pytest.fixture
def roles(db: Database, backend: str, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The demo database with the two application roles granted; their URLs."""
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    server = request.getfixturevalue("pg_server")
    name = db.engine.url.database
    for role in (WEB, PLATFORM_ROLE):
        exists = server.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").strip()
        if not exists:
            server.psql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'pw'")
    grant_roles(db.url, WEB, PLATFORM_ROLE)
    base = f"postgresql+psycopg://{{}}:pw@127.0.0.1:{server.port}/{name}"
    yield {"web": base.format(WEB), "platform": base.format(PLATFORM_ROLE)}


@pytest.fixture
def web_engine(roles: dict[str, str]) -> Iterator[Engine]:
    engine = create_engine(roles["web"])
    yield engine
    engine.dispose()


def _count(engine: Engine, sql: str, *settings: tuple[str, str]) -> int:
    with engine.begin() as conn:
        for name, value in settings:
            conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
        return int(conn.execute(text(sql)).scalar() or 0)


def test_raw_sql_as_the_web_role_reads_nothing_of_another_tenant(
    db: Database, web_engine: Engine
) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    secret = get_settings().secret_key
    bz = str(bozhou.id)
    forged = f"{bozhou.id}:{bozhou.province_id}:{'0' * 64}"
    # everything an injection could set, alone and together
    attempts = [
        (),
        (("govhall.platform", "on"),),
        (("govhall.tenant_id", bz), ("govhall.province_id", str(bozhou.province_id))),
        (("govhall.scope", forged),),
        (("govhall.scope", f"{bozhou.id}:{bozhou.province_id}"),),
        (("govhall.platform", "on"), ("govhall.tenant_id", bz), ("govhall.scope", forged)),
    ]
    for tables in ("staff", "cases", "items", "tenant_plugins", "accounts", "api_tokens"):
        for settings in attempts:
            assert _count(web_engine, f"SELECT count(*) FROM {tables}", *settings) == 0, (
                tables,
                settings,
            )
    # under a scope the application signed for Hechi: Hechi's rows, and only Hechi's
    hechi_scope = ("govhall.scope", sign_scope(secret, hechi.id, hechi.province_id))
    sql = "SELECT count(*) FROM staff WHERE tenant_id = '{}'"
    assert _count(web_engine, sql.format(hechi.id), hechi_scope) > 0
    assert _count(web_engine, sql.format(bozhou.id), hechi_scope) == 0
    assert _count(web_engine, sql.format(bozhou.id), hechi_scope, ("govhall.platform", "on")) == 0
    total = _count(web_engine, "SELECT count(*) FROM staff", hechi_scope)
    assert total == _count(web_engine, sql.format(hechi.id), hechi_scope)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM govhall_private.scope_key",
        "INSERT INTO govhall_private.tenant_only_roles VALUES ('x')",
        "DELETE FROM govhall_private.tenant_only_roles",
        "ALTER TABLE cases DISABLE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON staff",
        "SET ROLE govhall",
        "UPDATE alembic_version SET version_num = '0001'",
        "CREATE TABLE stolen AS SELECT * FROM staff",
    ],
)
def test_the_web_role_owns_nothing_and_cannot_widen_itself(
    web_engine: Engine, statement: str
) -> None:
    with pytest.raises(DBAPIError), web_engine.begin() as conn:
        conn.execute(text(statement))


def test_the_web_role_cannot_write_into_another_tenant(db: Database, web_engine: Engine) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    scope = sign_scope(get_settings().secret_key, hechi.id, hechi.province_id)
    with pytest.raises(DBAPIError), web_engine.begin() as conn:
        conn.execute(text("SELECT set_config('govhall.scope', :s, true)"), {"s": scope})
        conn.execute(
            text(
                "INSERT INTO org_units (tenant_id, id, code, name, kind) "
                "VALUES (:t, gen_random_uuid(), 'EVIL', '越权', 'window')"
            ),
            {"t": str(bozhou.id)},
        )


@pytest.fixture
def split(db: Database, backend: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh demo database run as production runs it: the web role, and the platform role
    for the web's cross-tenant reads (fresh, so that the flows below start from the packs)."""
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    from core.db import PLATFORM
    from core.packs import apply_packs, load_packs
    from tests.conftest import TENANTS, new_database

    owner = new_database("postgres", request)
    with owner.session(scope=PLATFORM) as s:
        apply_packs(s, load_packs(TENANTS))
        s.commit()
    roles = request.getfixturevalue("roles")  # created once per cluster
    grant_roles(owner.url, WEB, PLATFORM_ROLE)
    name = owner.engine.url.database
    database = Database(
        roles["web"].rsplit("/", 1)[0] + f"/{name}",
        roles["platform"].rsplit("/", 1)[0] + f"/{name}",
    )
    reset_database(database)
    yield database
    reset_database(db)
    database.dispose()
    owner.dispose()


def test_the_whole_application_works_on_the_web_and_platform_roles(split: Database) -> None:
    from litestar.testing import TestClient

    from tests.cases.test_api_flow import (
        test_apply_correct_once_accept_review_approve_issue_and_verify as case_flow,
    )
    from tests.core.test_catalog import (
        test_a_province_update_flows_to_adopters_and_keeps_their_overrides as propagation,
    )
    from web.app import create_app

    with TestClient(app=create_app(database=split), base_url="http://testserver.local") as c:
        case_flow(c, split)  # apply … e-license (province-wide library), trail tampering
        assert c.get("/t/bozhou/items/BZ-SB01").status_code == 200  # an adopted item's guide
    propagation(split)  # a province's change re-published in its counties (platform role)


def test_a_process_signing_with_another_key_is_told_before_it_serves(
    db: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    from core.config import reset_settings

    assert db.scope_key_problem() is None
    monkeypatch.setenv("GOVHALL_SECRET_KEY", "another-key-" + "x" * 32)
    reset_settings()
    try:
        assert "govhall db upgrade" in (db.scope_key_problem() or "")
    finally:
        monkeypatch.delenv("GOVHALL_SECRET_KEY")
        reset_settings()
