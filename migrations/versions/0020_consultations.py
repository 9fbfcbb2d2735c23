"""consultations: consultations and complaints (在线咨询与投诉) with reply deadlines.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds consultations


def downgrade() -> None:
    pass
