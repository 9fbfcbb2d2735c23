"""audit_log: administrative changes, hash-chained per tenant (审计日志).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

from migrations.frozen import disable_rls_sql, enable_rls_sql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("province_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=False),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("actor_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=80), nullable=False),
        sa.Column("target_label", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_id"],
            ["tenants.id"],
            name=op.f("fk_audit_log_province_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("province_id", "id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint(
            "province_id", "tenant_id", "seq", name=op.f("uq_audit_log_province_id_tenant_id_seq")
        ),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_log_tenant_at", ["province_id", "tenant_id", "at"], unique=False
        )
    op.create_table(
        "audit_heads",
        sa.Column("province_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_id"],
            ["tenants.id"],
            name=op.f("fk_audit_heads_province_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("province_id", "tenant_id", name=op.f("pk_audit_heads")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_log", "audit_heads"):
            for statement in enable_rls_sql(table, "province_id", signed=True):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_heads", "audit_log"):
            for statement in disable_rls_sql(table):
                op.execute(statement)
    op.drop_table("audit_heads")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_tenant_at")
    op.drop_table("audit_log")
