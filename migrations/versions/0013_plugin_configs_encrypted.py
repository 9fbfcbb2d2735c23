"""plugin configs encrypted: tenant_plugins.config holds vendors' credentials, so it is stored
AES-GCM encrypted with the data key (``enc1:`` + base64), like phone and ID numbers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 12:10:00
"""

import json

import sqlalchemy as sa
from alembic import op

from migrations.frozen import decrypt_json, encrypt_json

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

def _rows(bind):
    if bind.dialect.name == "postgresql":  # row-level security: the migration sees every tenant
        bind.execute(sa.text("SELECT set_config('govhall.platform', 'on', true)"))
    return bind.execute(sa.text("SELECT tenant_id, name, config FROM tenant_plugins")).all()


def _write(bind, tenant_id, name, value: str) -> None:
    bind.execute(
        sa.text("UPDATE tenant_plugins SET config = :c WHERE tenant_id = :t AND name = :n"),
        {"c": value, "t": tenant_id, "n": name},
    )


def _retype(bind, new, old, cast: str) -> None:
    if bind.dialect.name == "postgresql":
        op.alter_column(
            "tenant_plugins", "config", type_=new, existing_type=old,
            postgresql_using=f"config::{cast}",
        )
    else:
        with op.batch_alter_table("tenant_plugins") as batch_op:
            batch_op.alter_column("config", type_=new, existing_type=old)


def upgrade() -> None:
    bind = op.get_bind()
    _retype(bind, sa.Text(), sa.JSON(), "text")
    for tenant_id, name, config in _rows(bind):
        if config is None or config.startswith("enc1:"):
            continue
        _write(bind, tenant_id, name, encrypt_json(json.loads(config)))


def downgrade() -> None:
    bind = op.get_bind()
    for tenant_id, name, config in _rows(bind):
        if config is not None and config.startswith("enc1:"):
            plain = decrypt_json(config)
            _write(bind, tenant_id, name, json.dumps(plain, ensure_ascii=False))
    _retype(bind, sa.JSON(), sa.Text(), "json")
