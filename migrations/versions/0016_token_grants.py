"""token grants: an access token remembers the authorization code it was exchanged for, so
that a replayed code revokes every token issued from it (RFC 6749 §4.1.2).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('grant_id', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_api_tokens_grant_id', ['grant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_index('ix_api_tokens_grant_id')
        batch_op.drop_column('grant_id')
