"""plugin health: each plugin's (and vendor's) run of failures per tenant, the vendor on a
recorded plugin error, and what an enabled plugin put into the catalog (so that its items can
be shown as 暂停办理 should its package go missing).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

from migrations.frozen import disable_rls_sql, enable_rls_sql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plugin_health",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("vendor", sa.String(length=40), nullable=False),
        sa.Column("hook", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_plugin_health_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "plugin", "vendor", "hook", name=op.f("pk_plugin_health")
        ),
    )
    with op.batch_alter_table("plugin_errors") as batch_op:
        batch_op.add_column(
            sa.Column("vendor", sa.String(length=40), nullable=False, server_default="")
        )
    with op.batch_alter_table("tenant_plugins") as batch_op:
        batch_op.add_column(sa.Column("provides", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("plugin_health", "tenant_id", signed=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("plugin_health"):
            op.execute(statement)
    with op.batch_alter_table("tenant_plugins") as batch_op:
        batch_op.drop_column("provides")
    with op.batch_alter_table("plugin_errors") as batch_op:
        batch_op.drop_column("vendor")
    op.drop_table("plugin_health")
