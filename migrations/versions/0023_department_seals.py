"""department_seals: a department's seal image for its notices.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # org_units is tenant-owned and already under row-level security: a column needs no policy
    with op.batch_alter_table('org_units') as batch_op:
        batch_op.add_column(sa.Column('seal_key', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('org_units') as batch_op:
        batch_op.drop_column('seal_key')
