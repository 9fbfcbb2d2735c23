"""session versions: every account and staff member carries a counter that each session
cookie must match, so that signing out, a password or role change, disabling and an admin's
"end all sessions" end every session at once, server-side.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('accounts', 'staff'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column('session_version', sa.Integer(), nullable=False, server_default='0')
            )


def downgrade() -> None:
    for table in ('accounts', 'staff'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('session_version')
