"""Migration 0029 fills the postings of a catalog already published with their items'
listing columns, and its downgrade takes them away again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from core.catalog import list_items
from core.db import PLATFORM
from core.db.migrate import alembic_config, upgrade
from core.packs import apply_packs, load_packs
from core.tenancy import scope_for
from tests.catalog.test_search_postings import _postings_disagree
from tests.conftest import TENANTS, new_database
from tests.helpers import tenant


def test_the_upgrade_fills_the_postings_of_a_published_catalog(
    backend: str, request: pytest.FixtureRequest
) -> None:
    database = new_database(backend, request)
    try:
        with database.session(scope=PLATFORM) as s:
            apply_packs(s, load_packs(TENANTS / "guangxi"))
            apply_packs(s, load_packs(TENANTS / "hechi"))
            s.commit()
        command.downgrade(alembic_config(database.url), "0028")
        with database.engine.begin() as conn:
            columns = {
                c
                for (c,) in conn.execute(
                    text(
                        "SELECT name FROM pragma_table_info('item_terms')"
                        if backend == "sqlite"
                        else "SELECT column_name FROM information_schema.columns"
                        " WHERE table_name = 'item_terms'"
                    )
                )
            }
        assert "code" not in columns and "levels" not in columns
        upgrade(database.url)  # an installation upgrading with its catalog in place
        hechi = tenant(database, "hechi")
        with database.session(scope=scope_for(hechi)) as s:
            assert _postings_disagree(s, hechi) == []
            found = list_items(s, hechi, q="户口", level="township", limit=100).items
            assert "HC-HJ01" in {i.code for i in found}
    finally:
        database.dispose()
