"""Catalog import and export: the template round-trips; one bad row imports nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.catalog import Item, get_item_by_code
from core.db import Database
from core.tenancy import scope_for
from tests.helpers import tenant
from web.cli import main

ROOT = Path(__file__).resolve().parents[2]


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


def _changes(db: Database, slug: str) -> int:
    from core.catalog import ItemChange

    t = tenant(db, slug)
    with db.session(scope=scope_for(t)) as s:
        return s.scalar(select(func.count()).select_from(ItemChange)) or 0


DEMO_TENANTS = [p.name for p in sorted((ROOT / "tenants").iterdir()) if p.is_dir()]


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_every_demo_catalog_round_trips_unchanged(db: Database, tmp_path: Path, slug: str) -> None:
    """Export, import the file untouched: nothing is new, nothing is republished, the public
    change log gains nothing — HC-SC03 keeps the e-license its cases issue."""
    runner = CliRunner()
    before = _changes(db, slug)
    for suffix in ("csv", "xlsx"):
        file = tmp_path / f"{slug}.{suffix}"
        exported = runner.invoke(main, ["catalog", "export", "--tenant", slug, str(file)])
        assert exported.exit_code == 0, exported.output
        result = runner.invoke(main, ["catalog", "import", "--tenant", slug, str(file)])
        assert result.exit_code == 0, result.output
        assert "新建 0 项，更新 0 项" in result.output, (suffix, result.output)
    assert _changes(db, slug) == before


def test_a_sheet_without_a_column_keeps_that_field(db: Database, tmp_path: Path) -> None:
    """An export from before 办理结果 existed, or a sheet with fewer columns: the fields it
    leaves out are kept, never reset to defaults."""
    runner = CliRunner()
    source = tmp_path / "hechi.csv"
    runner.invoke(main, ["catalog", "export", "--tenant", "hechi", str(source)])
    rows = _rows(source)
    keep = [i for i, h in enumerate(rows[0]) if h not in ("办理结果", "法定时限", "办理流程")]
    _write(source, [[row[i] for i in keep] for row in rows])
    result = runner.invoke(main, ["catalog", "import", "--tenant", "hechi", str(source)])
    assert result.exit_code == 0 and "新建 0 项，更新 0 项" in result.output, result.output
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        item = get_item_by_code(s, hechi, "HC-SC03")
        assert item.effective["result_license"] == "food_business_license"


def test_the_generators_catalog_round_trips_unchanged(empty_db: Database, tmp_path: Path) -> None:
    from core.db import PLATFORM
    from core.packs import apply_packs, load_packs
    from tests.benchmarks.generate import generate_catalog

    with empty_db.session(scope=PLATFORM) as s:
        apply_packs(s, load_packs(ROOT / "tenants" / "guangxi"))
        apply_packs(s, load_packs(ROOT / "tenants" / "hechi"))
        s.commit()
    hechi = tenant(empty_db, "hechi")
    with empty_db.session(scope=scope_for(hechi)) as s:
        generate_catalog(s, hechi, 300)
        s.commit()
    runner = CliRunner()
    file = tmp_path / "generated.xlsx"
    assert runner.invoke(main, ["catalog", "export", "--tenant", "hechi", str(file)]).exit_code == 0
    result = runner.invoke(main, ["catalog", "import", "--tenant", "hechi", str(file)])
    assert result.exit_code == 0, result.output
    assert "新建 0 项，更新 0 项" in result.output


def test_progress_reaches_a_log_without_a_terminal_for_both_phases(
    db: Database, tmp_path: Path
) -> None:
    """Run from cron or a pipe: a line for checking and one for writing, with counts."""
    runner = CliRunner()
    source = tmp_path / "bozhou.csv"
    runner.invoke(main, ["catalog", "export", "--tenant", "bozhou", str(source)])
    rows = _rows(source)
    header = rows[0]
    new = []
    for i, row in enumerate(rows[1:4]):
        row = list(row)
        row[header.index("编码")] = f"BZ-LOG-{i}"
        new.append(row)
    _write(source, [header, *rows[1:], *new])
    result = runner.invoke(main, ["catalog", "import", "--tenant", "bozhou", str(source)])
    assert result.exit_code == 0, result.output
    total = len(rows) - 1 + 3
    assert f"校验 {total}/{total}" in result.output
    assert "写入 3/3" in result.output
    assert "新建 3 项，更新 0 项" in result.output


def test_publishing_one_item_reads_only_that_items_search_terms(db: Database) -> None:
    """Re-indexing an item deletes its terms by the item, through an index — not by reading
    the tenant's whole search index, which made a 53,000-item import quadratic."""
    from sqlalchemy import text

    hechi = tenant(db, "hechi")
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN DELETE FROM item_terms"
                        " WHERE tenant_id = :t AND item_id = :i"
                    ),
                    {"t": hechi.id.hex, "i": hechi.id.hex},
                )
            )
            assert "ix_item_terms_item" in plan, plan
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(
                r[0]
                for r in conn.execute(
                    text(
                        "EXPLAIN DELETE FROM item_terms"
                        " WHERE tenant_id = CAST(:t AS uuid) AND item_id = CAST(:i AS uuid)"
                    ),
                    {"t": str(hechi.id), "i": str(hechi.id)},
                )
            )
            assert "ix_item_terms_item" in plan, plan


def test_changed_rows_publish_new_versions_logged_and_searchable(
    db: Database, tmp_path: Path
) -> None:
    """Two rows changed (one item with a draft pending): each gets a published version, a
    public change-log entry, and search follows the new name; the draft gave way to the
    import."""
    from core.catalog import ItemChange, VersionState, save_draft, versions_of
    from core.catalog.listing import list_items

    suning = tenant(db, "suning")
    with db.session(scope=scope_for(suning)) as s:
        own = list(
            s.scalars(
                select(Item.code)
                .where(Item.standard_item_id.is_(None), Item.live_version_id.is_not(None))
                .order_by(Item.code)
            )
        )[:2]
        drafted = get_item_by_code(s, suning, own[1])
        save_draft(s, suning, drafted, {**drafted.effective, "contacts": "草稿里的电话"})
        s.commit()
    runner = CliRunner()
    source = tmp_path / "suning.csv"
    runner.invoke(main, ["catalog", "export", "--tenant", "suning", str(source)])
    rows = _rows(source)
    header = rows[0]
    for row in rows[1:]:
        if row[0] == own[0]:
            row[header.index("名称")] = "鲲鹏展翅许可"
        if row[0] == own[1]:
            row[header.index("承诺时限")] = "1"
    _write(source, rows)
    result = runner.invoke(main, ["catalog", "import", "--tenant", "suning", str(source)])
    assert result.exit_code == 0 and "新建 0 项，更新 2 项" in result.output, result.output
    with db.session(scope=scope_for(suning)) as s:
        renamed, faster = (get_item_by_code(s, suning, c) for c in own)
        assert renamed.name == "鲲鹏展翅许可" and faster.promised_days == 1
        states = [v.state for v in versions_of(s, faster)]
        assert VersionState.draft not in states and states[-1] is VersionState.published
        assert faster.effective["contacts"] != "草稿里的电话"
        logged = s.scalars(
            select(ItemChange.reason).where(ItemChange.item_id.in_([renamed.id, faster.id]))
        ).all()
        assert logged.count("批量导入更新") == 2
        assert [i.code for i in list_items(s, suning, q="鲲鹏").items] == [own[0]]


def test_the_application_form_travels_in_its_column_and_its_problems_are_named(
    db: Database, tmp_path: Path
) -> None:
    """The 申请表 column holds the form as JSON: exported, changed in the sheet, imported;
    JSON that does not parse, and a form definition that is wrong, are named by row."""
    import json

    runner = CliRunner()
    source = tmp_path / "hechi.csv"
    runner.invoke(main, ["catalog", "export", "--tenant", "hechi", str(source)])
    rows = _rows(source)
    header = rows[0]
    assert header[-2:] == ["申请表", "证照内容"]
    move = next(r for r in rows if r[0] == "HC-HJ01")
    form = json.loads(move[header.index("申请表")])
    assert form[1]["key"] == "applicant_name" and form[1]["prefill"] == "person.name"
    form.append({"key": "note", "label": "备注说明", "type": "textarea"})
    move[header.index("申请表")] = json.dumps(form, ensure_ascii=False)
    broken = list(move)
    broken[header.index("编码")] = "HC-HJ01-X"
    broken[header.index("申请表")] = '[{"key": "a", "label": "甲",]'
    wrong = list(move)
    wrong[header.index("编码")] = "HC-HJ01-Y"
    wrong[header.index("申请表")] = '[{"key": "pick", "type": "choice", "label": "选择"}]'
    file = tmp_path / "import.csv"
    _write(file, [header, move, broken, wrong])
    refused = runner.invoke(main, ["catalog", "import", "--tenant", "hechi", str(file)])
    assert refused.exit_code == 2
    assert "第 3 行 申请表" in refused.output and "不是有效的 JSON" in refused.output
    assert "第 4 行" in refused.output and "请给出选项" in refused.output
    _write(file, [header, move])
    ok = runner.invoke(main, ["catalog", "import", "--tenant", "hechi", str(file)])
    assert ok.exit_code == 0 and "更新 1 项" in ok.output, ok.output
    t = tenant(db, "hechi")
    with db.session(scope=scope_for(t)) as s:
        item = get_item_by_code(s, t, "HC-HJ01")
        assert item.effective["form"][-1]["label"] == "备注说明"
