"""item_terms indexed by item: re-indexing one item no longer reads the tenant's whole index

Revision ID: 0018
Revises: 0017
"""

from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item_terms', schema=None) as batch_op:
        batch_op.create_index('ix_item_terms_item', ['tenant_id', 'item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_item_terms_item')
