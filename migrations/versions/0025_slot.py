"""slot 25: reserved for a change made in this sitting (no-op until filled).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 14:00:00
"""

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
