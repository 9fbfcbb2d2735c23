"""form as first submitted: a case keeps its application form as first submitted (encrypted,
like the form), so that staff see what a correction changed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.add_column(sa.Column('form_first', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_column('form_first')
