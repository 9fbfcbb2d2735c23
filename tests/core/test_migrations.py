"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import Database
from core.models import metadata


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], "run: alembic revision --autogenerate (see docs/operations.md)"


def test_plugin_configs_are_encrypted_by_the_upgrade_and_back_by_the_downgrade(
    backend: str, request
) -> None:
    """0013 encrypts the configurations a live installation holds, in place; its downgrade
    puts them back as plain JSON."""
    import json

    from alembic import command
    from sqlalchemy import select, text

    from core.db import PLATFORM
    from core.db.migrate import alembic_config, upgrade
    from core.plugins.models import TenantPlugin
    from core.tenancy import TenantKind
    from core.tenancy.service import onboard_tenant
    from tests.conftest import new_database

    database = new_database(backend, request)
    secret = {"access_key_secret": "cloud-secret-在库里", "priority": 10}
    with database.session(scope=PLATFORM) as s:
        county = onboard_tenant(
            s,
            parent=None,
            slug="mig",
            name="迁移省",
            division_code="990000",
            kind=TenantKind.province,
        )
        s.add(TenantPlugin(tenant_id=county.id, name="sms_cloud", enabled=True, config=secret))
        s.commit()

    def raw() -> str:
        with database.engine.begin() as conn:
            if database.dialect == "postgresql":
                conn.execute(text("SELECT set_config('govhall.platform', 'on', true)"))
            value = conn.execute(text("SELECT config FROM tenant_plugins")).scalar_one()
        return value if isinstance(value, str) else json.dumps(value)  # JSON: a dict

    assert raw().startswith("enc1:") and "cloud-secret" not in raw()
    command.downgrade(alembic_config(database.url), "0012")
    assert json.loads(raw()) == secret
    upgrade(database.url)  # an installation upgrading with plain configs in place
    assert raw().startswith("enc1:") and "cloud-secret" not in raw()
    with database.session(scope=PLATFORM) as s:
        assert s.scalars(select(TenantPlugin)).one().config == secret
    database.dispose()


def test_free_text_is_encrypted_by_the_upgrade_and_back_by_the_downgrade(
    backend: str, request
) -> None:
    """0015 encrypts what people typed — here an SMS reply quoting a phone number — in place;
    the downgrade puts it back."""
    import uuid

    from alembic import command
    from sqlalchemy import select, text

    from core.db import PLATFORM
    from core.db.migrate import alembic_config, upgrade
    from core.supervision.models import InboundSms
    from core.tenancy import TenantKind
    from core.tenancy.service import onboard_tenant
    from tests.conftest import new_database

    database = new_database(backend, request)
    with database.session(scope=PLATFORM) as s:
        province = onboard_tenant(
            s,
            parent=None,
            slug="mig",
            name="迁移省",
            division_code="990000",
            kind=TenantKind.province,
        )
        tenant_id = province.id
        s.commit()
    command.downgrade(alembic_config(database.url), "0014")
    said = "号码 13977712345 不对"

    def run(sql: str, **params: object) -> object:
        with database.engine.begin() as conn:
            if database.dialect == "postgresql":
                conn.execute(text("SELECT set_config('govhall.platform', 'on', true)"))
            result = conn.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None

    tid = tenant_id.hex if database.dialect == "sqlite" else str(tenant_id)
    run(
        "INSERT INTO inbound_sms (tenant_id, id, vendor, vendor_ref, phone, text, received_at,"
        " outcome, reason)"
        " VALUES (:t, :i, 'v', 'r1', 'enc1:x', :said, '2026-12-01', 'ignored', '')",
        t=tid,
        i=uuid.uuid4().hex if database.dialect == "sqlite" else str(uuid.uuid4()),
        said=said,
    )
    upgrade(database.url)
    stored = run("SELECT text FROM inbound_sms")
    assert isinstance(stored, str) and stored.startswith("enc1:") and "13977712345" not in stored
    with database.session(scope=PLATFORM) as s:
        assert s.scalars(select(InboundSms.text)).one() == said
    command.downgrade(alembic_config(database.url), "0014")
    assert run("SELECT text FROM inbound_sms") == said
    database.dispose()


def test_migrations_import_no_live_application_code() -> None:
    """A migration must do in five years what it did the day it was written: what it needs of
    the application is frozen in migrations/frozen.py."""
    import ast
    from pathlib import Path

    versions = Path(__file__).resolve().parents[2] / "migrations" / "versions"
    live = ("core", "web", "workers", "plugins")
    found = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [(path.name, n) for n in names if n.split(".")[0] in live]
    assert not found, found
