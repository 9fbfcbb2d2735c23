"""department_seals: a department's seal image for its notices.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds department_seals


def downgrade() -> None:
    pass
