"""slot 28: reserved for a change made in this sitting (no-op until filled).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 14:00:00
"""

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
