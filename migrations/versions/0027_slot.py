"""slot 27: reserved for a change made in this sitting (no-op until filled).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 14:00:00
"""

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
