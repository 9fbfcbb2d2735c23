"""county administration: a staff member's temporary password and required dynamic code
(动态口令), and closed org units (撤销, kept for history).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff') as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('totp_required', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('org_units') as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('org_units') as batch_op:
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('staff') as batch_op:
        batch_op.drop_column('totp_required')
        batch_op.drop_column('must_change_password')
