"""favourites: citizens' favourite items (我的收藏) and real-name confirmation.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds favourites


def downgrade() -> None:
    pass
