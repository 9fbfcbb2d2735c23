"""slot 26: reserved for a change made in this sitting (no-op until filled).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 14:00:00
"""

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
