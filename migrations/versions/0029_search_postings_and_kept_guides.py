"""search postings carry the listing columns; item guides rendered once per version are kept

Each row of ``item_terms`` gains the item's code, status, department, category, audience and
levels (filled from ``items``), with an index leading (tenant, term, status, code): a search
reads the postings of its terms in code order and never joins the items of every match.
``item_guides`` keeps the guide section of an item page (per language) and the checklist PDF
as rendered for the live version.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02 21:30:00
"""

import sqlalchemy as sa
from alembic import op

from migrations.frozen import disable_rls_sql, enable_rls_sql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_POSTING_COLUMNS = [
    ("code", sa.String(length=64), ""),
    ("status", sa.String(length=32), "active"),
    ("department_code", sa.String(length=40), ""),
    ("category", sa.String(length=32), ""),
    ("audience", sa.String(length=32), "person"),
    ("levels", sa.String(length=64), ""),
]


def _levels_sql(column: str) -> str:
    """A JSON list of levels as text (["county", "township"]) → " county township "."""
    text = column
    for old, new in (('"', ""), ("[", ""), ("]", ""), (", ", " "), (",", " ")):
        text = f"replace({text}, '{old}', '{new}')"
    return f"(' ' || {text} || ' ')"


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table("item_terms", schema=None) as batch_op:
        for name, type_, default in _POSTING_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
    if postgres:
        # the rows of every tenant: the platform switch, for this transaction only
        bind.execute(sa.text("SELECT set_config('govhall.platform', 'on', true)"))
        levels = _levels_sql("CAST(i.levels AS text)")
        bind.execute(
            sa.text(
                "UPDATE item_terms AS t SET code = i.code, status = i.status,"
                " department_code = i.department_code, category = i.category,"
                f" audience = i.audience, levels = {levels}"
                " FROM items AS i WHERE i.tenant_id = t.tenant_id AND i.id = t.item_id"
            )
        )
    else:
        levels = _levels_sql("CAST(items.levels AS text)")
        bind.execute(
            sa.text(
                "UPDATE item_terms SET code = items.code, status = items.status,"
                " department_code = items.department_code, category = items.category,"
                f" audience = items.audience, levels = {levels}"
                " FROM items WHERE items.tenant_id = item_terms.tenant_id"
                " AND items.id = item_terms.item_id"
            )
        )
    with op.batch_alter_table("item_terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_terms_search", ["tenant_id", "term", "status", "code"], unique=False
        )

    op.create_table(
        "item_guides",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["items.tenant_id", "items.id"],
            name=op.f("fk_item_guides_tenant_id_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "item_id", "kind", "lang", name=op.f("pk_item_guides")
        ),
    )
    if postgres:
        for statement in enable_rls_sql("item_guides", "tenant_id", signed=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("item_guides"):
            op.execute(statement)
    op.drop_table("item_guides")
    with op.batch_alter_table("item_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_item_terms_search")
        for name, _, _ in reversed(_POSTING_COLUMNS):
            batch_op.drop_column(name)
