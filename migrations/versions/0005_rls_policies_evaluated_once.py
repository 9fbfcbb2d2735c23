"""Row-level security policies that read their settings once per statement

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:00:00
"""

from alembic import op

from migrations.frozen import replace_policy_sql

# Every owned table as of this revision, and its owning column.
OWNED = {
    "accounts": "province_id",
    "api_tokens": "province_id",
    "one_time_codes": "province_id",
    "oauth_clients": "tenant_id",
    "oauth_codes": "tenant_id",
    "org_units": "tenant_id",
    "plugin_errors": "tenant_id",
    "staff": "tenant_id",
    "staff_roles": "tenant_id",
    "tenant_plugins": "tenant_id",
    "department_duties": "tenant_id",
    "items": "tenant_id",
    "themes": "tenant_id",
    "item_changes": "tenant_id",
    "item_terms": "tenant_id",
    "item_versions": "tenant_id",
    "catalog_imports": "tenant_id",
}

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column in OWNED.items():
            for statement in replace_policy_sql(table, column):
                op.execute(statement)


def downgrade() -> None:
    # The older per-row form is semantically identical; keeping the faster one is harmless.
    pass
