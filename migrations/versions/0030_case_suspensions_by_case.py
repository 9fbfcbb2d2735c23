"""case_suspensions indexed by their case

A change of a case reads its steps together with whether it was ever suspended (an
``EXISTS`` on ``case_suspensions`` by case), and a suspended case reads its periods by case:
without an index each was a scan of every tenant's suspensions.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 07:00:00
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_suspensions", schema=None) as batch_op:
        batch_op.create_index("ix_case_suspensions_case", ["tenant_id", "case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_suspensions", schema=None) as batch_op:
        batch_op.drop_index("ix_case_suspensions_case")
