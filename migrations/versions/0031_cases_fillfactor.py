"""cases pages keep a fifth free, so moving a case's head is a heap-only update (PostgreSQL)

Every change of a case rewrites its row (the version, the trail's head: ``event_count`` and
``last_hash``, ``updated_at``), none of them an indexed column. With full pages the new row
version goes to another page and every one of the table's indexes gets an entry for it; with
room left on the page PostgreSQL keeps it there as a heap-only tuple and touches no index.
The deadline sweep moves the heads of hundreds of cases a batch (docs/performance.md,
"Supervision"). A fillfactor applies to pages written from now on: the pages an installation
already has fill up as before until the table is rewritten (``VACUUM FULL cases``, which
locks the table: a quiet hour's job, not this migration's). SQLite has no such setting.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 07:30:00
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

#: percent of each page filled by inserts: room for one more version of a case row (about
#: 1 kB) on an 8 kB page
FILLFACTOR = 80


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cases SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cases RESET (fillfactor)")
