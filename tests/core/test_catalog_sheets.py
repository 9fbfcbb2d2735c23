"""Real county spreadsheets through ``govhall catalog import``: title rows above the header, a
填表说明 sheet first, headers with line breaks and synonyms, GBK CSV, departments by name,
full-width bars and spaces, formulas, and every failure a sentence in Chinese with its row."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from openpyxl import Workbook

from core.catalog import get_item_by_code, list_items
from core.db import Database
from core.tenancy import scope_for
from tests.helpers import tenant
from web.cli import main

HEADER = ["编码", "名称", "类型", "类别", "实施部门", "申报材料", "法定时限", "承诺时限"]


def _import(path: Path, slug: str = "hechi") -> Result:
    return CliRunner().invoke(main, ["catalog", "import", "--tenant", slug, str(path)])


def _csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _item(db: Database, slug: str, code: str):
    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as s:
        return get_item_by_code(s, t, code)


def _no_english(output: str) -> None:
    """No English sentence reaches the clerk: what is left after removing codes, the values
    quoted back and the names of file formats is Chinese."""
    text = re.sub(r"「[^」]*」|[A-Za-z]+[-_][A-Za-z0-9_.-]+|\b[A-Z]{1,3}\d+\b", "", output)
    text = re.sub(r"(?i)\.?\b(xlsx|xls|csv|excel|utf-8|gbk|gb18030)\b", "", text)
    assert not re.search(r"[A-Za-z]{3,}", text), output


def test_a_real_sheet_with_title_rows_an_instruction_sheet_and_odd_headers(
    db: Database, tmp_path: Path
) -> None:
    """Merged title rows above the header, a 填表说明 sheet first, headers with line breaks,
    spaces, full-width letters, a required-mark and synonyms: every column is found, and the
    5 and 1 days are imported as written — not the defaults 20 and 10."""
    file = _xlsx(
        tmp_path / "power-list.xlsx",
        {
            "填表说明": [["填表说明"], ["1. 每个事项一行"], ["2. 时限按工作日填写"]],
            "权力清单": [
                ["河池市行政权力清单（2026 年版）"],
                [None, None, "填报单位：市公安局"],
                [
                    "事项\n编码*",
                    "事项名称",
                    "权力 类别",
                    "实施主体",
                    "法定\n时限",
                    "承 诺 时 限（工作日）",
                    "申请\n材料",
                ],
                ["HC-REAL-01", "户口迁移登记", "行政确认", "HC-GAJ", 5, 1, "申请书|必要|原件|1"],
            ],
        },
    )
    result = _import(file)
    assert result.exit_code == 0, result.output
    assert "新建 1 项" in result.output and "填表说明" in result.output
    item = _item(db, "hechi", "HC-REAL-01")
    assert (item.effective["legal_days"], item.effective["promised_days"]) == (5, 1)
    assert item.effective["kind"] == "power"  # no 类型 column: the category says so


def test_a_column_the_template_does_not_know_is_refused_not_silently_defaulted(
    db: Database, tmp_path: Path
) -> None:
    file = _csv(
        tmp_path / "odd.csv",
        [
            ["编码", "名称", "类别", "实施部门", "法定时长", "承诺时限"],
            ["HC-ODD-01", "某事项", "行政许可", "HC-GAJ", "5", "1"],
        ],
    )
    result = _import(file)
    assert result.exit_code == 2
    assert "「法定时长」不是模板中的列" in result.output and "E 列" in result.output
    _no_english(result.output)


def test_errors_name_the_row_the_spreadsheet_shows_and_the_sheet(
    db: Database, tmp_path: Path
) -> None:
    """Blank rows are skipped, not renumbered; in a workbook of several sheets each error
    names its sheet too."""
    good = ["HC-ROW-01", "甲", "行政权力", "行政许可", "HC-GAJ", "", "10", "5"]
    bad = ["HC-ROW-02", "乙", "行政权力", "行政许可", "HC-GAJ", "", "5", "10"]
    file = _csv(tmp_path / "rows.csv", [HEADER, good, [], ["", "", ""], bad])
    result = _import(file)
    assert result.exit_code == 2 and "第 5 行 承诺时限" in result.output, result.output
    book = _xlsx(
        tmp_path / "depts.xlsx",
        {"说明": [["按部门分表填写"]], "公安局": [HEADER, good], "民政局": [HEADER, [], bad]},
    )
    result = _import(book)
    assert result.exit_code == 2
    assert "工作表「民政局」第 3 行 承诺时限" in result.output, result.output


def test_a_cell_that_cannot_be_read_ends_the_import_with_its_place(
    db: Database, tmp_path: Path
) -> None:
    """Text in a cell typed as a number (what a hand-edited or converted file holds), a
    formula with no saved result, a corrupt file: a Chinese sentence naming the cell, never a
    traceback, nothing imported."""
    from openpyxl import load_workbook

    file = _xlsx(
        tmp_path / "typed.xlsx",
        {"事项": [HEADER, ["HC-T-01", "甲", "行政权力", "行政许可", "HC-GAJ", "", 10, 5]]},
    )
    # Make G2 a number cell holding text, as another program wrote it.
    import zipfile

    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(file) as src, zipfile.ZipFile(broken, "w") as out:
        for entry in src.infolist():
            data = src.read(entry)
            if entry.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(
                    rb'<c r="G2"([^>]*)><v>10</v></c>', rb'<c r="G2"\1><v>ten</v></c>', data
                )
                assert b"<v>ten</v>" in data
            out.writestr(entry, data)
    result = _import(broken)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "单元格 G2" in result.output, result.output
    _no_english(result.output)

    book = load_workbook(file)
    book["事项"]["G2"] = "=3+2"  # openpyxl saves no result for it, as some generators do
    book.save(file)
    result = _import(file)
    assert result.exit_code == 2 and "第 2 行 法定时限" in result.output
    assert "单元格 G2 是公式" in result.output, result.output

    junk = tmp_path / "old.xlsx"
    junk.write_bytes(b"\xd0\xcf\x11\xe0 an old .xls renamed")
    result = _import(junk)
    assert result.exit_code == 2 and "Traceback" not in result.output
    _no_english(result.output)


def test_an_over_long_or_unreachable_code_is_refused_with_its_row(
    db: Database, tmp_path: Path
) -> None:
    long_code = "HC-" + "X" * 72
    file = _csv(
        tmp_path / "codes.csv",
        [
            HEADER,
            [long_code, "甲", "行政权力", "行政许可", "HC-GAJ", "", "10", "5"],
            ["CL/P/E14", "乙", "行政权力", "行政许可", "HC-GAJ", "", "10", "5"],
        ],
    )
    result = _import(file)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "第 2 行 编码" in result.output and "最多 64 个字符" in result.output
    assert "第 3 行 编码" in result.output and "只能由英文字母、数字和 - _ . 组成" in result.output


def test_a_gbk_csv_from_excel_on_chinese_windows_is_read(db: Database, tmp_path: Path) -> None:
    file = _csv(
        tmp_path / "gbk.csv",
        [HEADER, ["HC-GBK-01", "残疾人证申领", "公共服务", "公共服务", "HC-MZJ", "", "10", "5"]],
        encoding="gbk",
    )
    result = _import(file)
    assert result.exit_code == 0, result.output
    assert _item(db, "hechi", "HC-GBK-01").name == "残疾人证申领"


def test_departments_by_name_full_width_bars_and_spaces(db: Database, tmp_path: Path) -> None:
    """市公安局 is HC-GAJ; a full-width ｜ separates a material's parts; 户口　迁移 typed with a
    full-width space is found by a search for 户口迁移; an unknown name gets close ones."""
    file = _csv(
        tmp_path / "real.csv",
        [
            HEADER,
            [
                "HC-NAME-01",
                "户口　迁移（市内）",
                "行政权力",
                "行政确认",
                "市公安局",
                "居民户口簿｜必要｜原件及复印件｜2｜居民户口簿",
                "10",
                "5",
            ],
        ],
    )
    result = _import(file)
    assert result.exit_code == 0, result.output
    item = _item(db, "hechi", "HC-NAME-01")
    assert item.department_code == "HC-GAJ" and item.name == "户口迁移（市内）"
    (material,) = item.effective["materials"]
    assert material == {**material, "name": "居民户口簿", "form": "original_and_copy", "copies": 2}
    assert material["license_type"] == "household_register"
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        assert "HC-NAME-01" in {i.code for i in list_items(s, hechi, q="户口迁移").items}

    _csv(
        tmp_path / "real.csv",
        [HEADER, ["HC-NAME-02", "甲", "行政权力", "行政许可", "公安局", "", "10", "5"]],
    )
    result = _import(tmp_path / "real.csv")
    assert result.exit_code == 2
    assert "实施部门「公安局」不存在" in result.output and "市公安局（HC-GAJ）" in result.output


def test_every_import_error_is_in_chinese(db: Database, tmp_path: Path) -> None:
    row = ["HC-ZH-01", "甲", "行政权力", "行政许可", "HC-GAJ", "", "10", "5"]
    bad = {
        "类别": "其他",
        "实施部门": "HC-NOPE",
        "名称": "长" * 201,
        "承诺时限": "99",
        "申报材料": "证明|必要|原件|1|moon_id",
        "法定时限": "十天",
    }
    rows = [HEADER]
    for i, (column, value) in enumerate(bad.items()):
        cells = list(row)
        cells[0] = f"HC-ZH-{i}"
        cells[HEADER.index(column)] = value
        rows.append(cells)
    fees = [*HEADER, "收费"]
    rows = [[*r, ""] for r in rows]
    rows[0] = fees
    rows.append([*row[:1], "乙", *row[2:], "工本费|-5|依据"])
    rows[-1][0] = "HC-ZH-FEE"
    result = _import(_csv(tmp_path / "bad.csv", rows))
    assert result.exit_code == 2
    for expected in (
        "第 2 行 类别：事项类别「其他」不存在",
        "第 3 行 实施部门：实施部门「HC-NOPE」不存在",
        "第 4 行 名称：事项名称最多 200 个字",
        "第 5 行 承诺时限：承诺时限（99 个工作日）不能超过法定时限（10 个工作日）",
        "第 6 行 申报材料：电子证照「moon_id」不在电子证照目录中",
        "第 7 行 法定时限：「十天」不是工作日天数",
        "第 8 行 收费：收费金额不能为负数",
    ):
        assert expected in result.output, (expected, result.output)
    _no_english(result.output)
