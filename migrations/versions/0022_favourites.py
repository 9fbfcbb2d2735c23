"""favourites: citizens' favourite items (我的收藏) and real-name confirmation.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

from migrations.frozen import disable_rls_sql, enable_rls_sql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_code"],
            ["items.tenant_id", "items.code"],
            name=op.f("fk_favourites_tenant_id_item_code_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_favourites_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "account_id", "item_code", name=op.f("pk_favourites")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("real_name_at", sa.DateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("favourites", "tenant_id", signed=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("favourites"):
            op.execute(statement)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("real_name_at")

    op.drop_table("favourites")
