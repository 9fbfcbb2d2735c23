"""announcements: announcements (公告) a county admin edits, shown on the portal home.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds announcements


def downgrade() -> None:
    pass
