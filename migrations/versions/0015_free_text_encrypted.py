"""free text encrypted: what people type — the application form, rating comments, complaints
and follow-ups, SMS replies, the reasons on the trail — is stored AES-GCM encrypted with the
data key like phone and ID numbers (people put those anywhere). Existing rows are encrypted in
place; the downgrade decrypts them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:40:00
"""

import json

import sqlalchemy as sa
from alembic import op

from migrations.frozen import decrypt_json, decrypt_text, encrypt_json, encrypt_text

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

#: table → (key columns, {column: (old type, json?)})
COLUMNS = {
    'cases': (('tenant_id', 'id'), {'form': (sa.JSON(), True), 'rating_comment': (sa.Text(), False)}),
    'case_events': (('tenant_id', 'id'), {'reason': (sa.Text(), False)}),
    'follow_ups': (('tenant_id', 'id'), {'text': (sa.Text(), False)}),
    'inbound_sms': (('tenant_id', 'id'), {'text': (sa.String(500), False)}),
}


def _platform(bind) -> None:
    if bind.dialect.name == 'postgresql':  # row-level security: the migration sees every tenant
        bind.execute(sa.text("SELECT set_config('govhall.platform', 'on', true)"))


def _retype(bind, table: str, column: str, new, old, cast: str) -> None:
    if bind.dialect.name == 'postgresql':
        op.alter_column(
            table, column, type_=new, existing_type=old, postgresql_using=f'{column}::{cast}'
        )
    else:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, type_=new, existing_type=old)


def _convert(bind, table: str, keys: tuple[str, ...], column: str, change) -> None:
    rows = bind.execute(
        sa.text(f"SELECT {', '.join(keys)}, {column} FROM {table} WHERE {column} IS NOT NULL")
    ).all()
    where = ' AND '.join(f'{k} = :k{i}' for i, k in enumerate(keys))
    for row in rows:
        new = change(row[-1])
        if new is not None and new != row[-1]:
            params = {f'k{i}': row[i] for i in range(len(keys))}
            bind.execute(sa.text(f'UPDATE {table} SET {column} = :v WHERE {where}'), {'v': new, **params})


def upgrade() -> None:
    bind = op.get_bind()
    _platform(bind)
    for table, (keys, columns) in COLUMNS.items():
        for column, (old, is_json) in columns.items():
            _retype(bind, table, column, sa.Text(), old, 'text')
            def encrypt(value, is_json=is_json):
                if not value or value.startswith('enc1:'):
                    return None
                return encrypt_json(json.loads(value)) if is_json else encrypt_text(value)

            _convert(bind, table, keys, column, encrypt)


def downgrade() -> None:
    bind = op.get_bind()
    _platform(bind)
    for table, (keys, columns) in COLUMNS.items():
        for column, (old, is_json) in columns.items():
            def decrypt(value, is_json=is_json):
                if not value or not value.startswith('enc1:'):
                    return None
                if is_json:
                    return json.dumps(decrypt_json(value), ensure_ascii=False)
                return decrypt_text(value)[:500]

            _convert(bind, table, keys, column, decrypt)
            _retype(bind, table, column, old, sa.Text(), 'json' if is_json else 'varchar(500)' if table == 'inbound_sms' else 'text')
