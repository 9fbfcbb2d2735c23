"""announcements: announcements (公告) a county admin edits, shown on the portal home; the
items' 服务对象 (audience) mirrored in a column for 个人办事 and 法人办事.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

from migrations.frozen import disable_rls_sql, enable_rls_sql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'announcements',
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'],
            name=op.f('fk_announcements_tenant_id_tenants'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_announcements')),
    )
    op.create_index(
        'ix_announcements_public', 'announcements',
        ['tenant_id', 'published', 'published_at'], unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("announcements", "tenant_id", signed=True):
            op.execute(statement)
    with op.batch_alter_table('items') as batch_op:
        batch_op.add_column(
            sa.Column('audience', sa.String(length=32), server_default='person', nullable=False)
        )
        batch_op.create_index('ix_items_audience', ['tenant_id', 'status', 'audience'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_index('ix_items_audience')
        batch_op.drop_column('audience')
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("announcements"):
            op.execute(statement)
    op.drop_index('ix_announcements_public', table_name='announcements')
    op.drop_table('announcements')
