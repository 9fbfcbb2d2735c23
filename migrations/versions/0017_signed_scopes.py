"""signed scopes: row-level security admits a tenant's rows only under a scope the application
signed (HMAC-SHA256, key readable by the schema owner alone), and the platform switch only
for roles that are not registered as tenant-only — so SQL running as the web role, even an
injection that calls set_config itself, reads nothing of another tenant.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 08:00:00
"""

from alembic import op

from migrations.frozen import (
    PRIVATE_SCHEMA,
    replace_policy_sql,
    scope_functions_sql,
    secret_key,
    sync_scope_key,
)

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# Every owned table as of this revision, and its owning column.
OWNED = {
    'accounts': 'province_id', 'api_tokens': 'province_id', 'one_time_codes': 'province_id',
    'calendar_overrides': 'tenant_id', 'calendar_years': 'tenant_id', 'case_events': 'tenant_id',
    'case_materials': 'tenant_id', 'case_payments': 'tenant_id', 'case_sequences': 'tenant_id',
    'case_suspensions': 'tenant_id', 'case_tasks': 'tenant_id', 'cases': 'tenant_id',
    'catalog_imports': 'tenant_id', 'dashboard_days': 'tenant_id', 'dashboard_marks': 'tenant_id',
    'department_duties': 'tenant_id', 'follow_ups': 'tenant_id', 'inbound_sms': 'tenant_id',
    'item_changes': 'tenant_id', 'item_terms': 'tenant_id', 'item_versions': 'tenant_id',
    'items': 'tenant_id', 'licenses': 'tenant_id', 'notices': 'tenant_id',
    'oauth_clients': 'tenant_id', 'oauth_codes': 'tenant_id', 'org_units': 'tenant_id',
    'outbox': 'tenant_id', 'performance_scores': 'tenant_id', 'plugin_errors': 'tenant_id',
    'process_definitions': 'tenant_id', 'signing_keys': 'tenant_id', 'staff': 'tenant_id',
    'staff_roles': 'tenant_id', 'supervision_cards': 'tenant_id', 'tenant_plugins': 'tenant_id',
    'themes': 'tenant_id',
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    for statement in scope_functions_sql():
        op.execute(statement)
    sync_scope_key(bind, secret_key())
    for table, column in OWNED.items():
        for statement in replace_policy_sql(table, column, signed=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, column in OWNED.items():
        for statement in replace_policy_sql(table, column):
            op.execute(statement)
    op.execute('DROP FUNCTION IF EXISTS public.govhall_scope_id(integer)')
    op.execute('DROP FUNCTION IF EXISTS public.govhall_platform_on()')
    op.execute(f'DROP SCHEMA IF EXISTS {PRIVATE_SCHEMA} CASCADE')
