"""consultations: consultations and complaints (在线咨询与投诉) with reply deadlines.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

from migrations.frozen import disable_rls_sql, enable_rls_sql

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultations',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('case_number', sa.String(length=32), nullable=True),
    sa.Column('department_code', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('asker_name', sa.String(length=255), nullable=False),
    sa.Column('asker_phone', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('card', sa.String(length=10), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.Uuid(), nullable=True),
    sa.Column('answered_by_name', sa.String(length=120), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('public_question', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consultations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_consultations')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_consultations_tenant_id_number'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_asker', ['tenant_id', 'account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_consultations_department', ['tenant_id', 'department_code', 'state', 'due_on'], unique=False)
        batch_op.create_index('ix_consultations_faq', ['tenant_id', 'item_code', 'public'], unique=False)
        batch_op.create_index('ix_consultations_sweep', ['tenant_id', 'state', 'card', 'due_on'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        for statement in enable_rls_sql('consultations', 'tenant_id', signed=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for statement in disable_rls_sql('consultations'):
            op.execute(statement)
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_sweep')
        batch_op.drop_index('ix_consultations_faq')
        batch_op.drop_index('ix_consultations_department')
        batch_op.drop_index('ix_consultations_asker')

    op.drop_table('consultations')
