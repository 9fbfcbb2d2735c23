"""Catalog import and export: the template round-trips; one bad row imports nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from core.catalog import Item
from core.db import Database
from core.tenancy import scope_for
from tests.helpers import tenant
from web.cli import main


def _count(db: Database, slug: str) -> int:
    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as s:
        return s.scalar(select(func.count()).select_from(Item)) or 0


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_export_then_import_changes_nothing(db: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    for suffix in ("csv", "xlsx"):
        file = tmp_path / f"cili.{suffix}"
        assert (
            runner.invoke(main, ["catalog", "export", "--tenant", "cili", str(file)]).exit_code == 0
        )
        result = runner.invoke(main, ["catalog", "import", "--tenant", "cili", str(file)])
        assert result.exit_code == 0, result.output
        assert "新建 0 项，更新 0 项" in result.output


def test_an_import_with_one_bad_row_imports_nothing_and_names_the_row(
    db: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    source = tmp_path / "suning.csv"
    runner.invoke(main, ["catalog", "export", "--tenant", "suning", str(source)])
    rows = _rows(source)
    header = rows[0]
    new_rows = []
    for i in range(3):  # three new, valid items ...
        row = list(rows[5])
        row[header.index("编码")] = f"SN-NEW-{i}"
        row[header.index("名称")] = f"新增事项{i}"
        new_rows.append(row)
    bad = list(new_rows[1])
    bad[header.index("承诺时限")] = "999"  # ... and one whose promised days exceed legal days
    bad[header.index("编码")] = "SN-NEW-BAD"
    file = tmp_path / "import.csv"
    _write(file, [header, *new_rows, bad])
    before = _count(db, "suning")
    result = runner.invoke(main, ["catalog", "import", "--tenant", "suning", str(file)])
    assert result.exit_code == 2
    assert "第 5 行 承诺时限" in result.output
    assert _count(db, "suning") == before
    _write(file, [header, *new_rows])
    ok = runner.invoke(main, ["catalog", "import", "--tenant", "suning", str(file)])
    assert ok.exit_code == 0 and "新建 3 项" in ok.output
    assert _count(db, "suning") == before + 3


def test_unknown_category_department_and_license_are_named(db: Database, tmp_path: Path) -> None:
    header = ["编码", "名称", "类型", "类别", "实施部门", "申报材料", "法定时限", "承诺时限"]
    rows = [
        header,
        ["HC-X1", "甲", "行政权力", "行政魔法", "HC-RSJ", "", "10", "5"],
        ["HC-X2", "乙", "行政权力", "行政许可", "HC-NOPE", "", "10", "5"],
        ["HC-X3", "丙", "行政权力", "行政许可", "HC-RSJ", "证明|必要|原件|1|moon_id", "10", "5"],
    ]
    file = tmp_path / "bad.csv"
    _write(file, rows)
    result = CliRunner().invoke(main, ["catalog", "import", "--tenant", "hechi", str(file)])
    assert result.exit_code == 2
    assert "行政魔法" in result.output and "HC-NOPE" in result.output
    assert "moon_id" in result.output


def test_a_file_that_is_not_a_catalog_is_refused(db: Database, tmp_path: Path) -> None:
    file = tmp_path / "notes.csv"
    file.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "import", "--tenant", "hechi", str(file)])
    assert result.exit_code == 2 and "缺少列" in result.output
    other = tmp_path / "catalog.txt"
    other.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "import", "--tenant", "hechi", str(other)])
    assert result.exit_code == 2 and ".csv" in result.output
