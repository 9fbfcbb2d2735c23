"""The catalog editor and the import page, as a tenant admin uses them."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from dramatiq import Worker

from core.db import Database
from tests.helpers import csrf_token
from workers.actors import run_catalog_import
from workers.broker import broker


def _sign_in(client, slug: str, username: str) -> str:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    return csrf_token(client, f"/t/{slug}/admin/catalog/")


def _form(html: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input name="(\w+)"[^>]*value="([^"]*)"', html))
    fields.update(re.findall(r'<textarea name="(\w+)"[^>]*>([^<]*)</textarea>', html))
    for name, block in re.findall(r'<select name="(\w+)">(.*?)</select>', html, re.S):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)', block)
        fields[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    return {
        k: v.replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")
        for k, v in fields.items()
    }


def test_the_editor_saves_a_draft_shows_the_diff_and_publishes(client, db: Database) -> None:
    csrf = _sign_in(client, "bozhou", "bozhou-admin")
    page = client.get("/t/bozhou/admin/catalog/items/BZ-MZ03")
    assert page.status_code == 200
    form = _form(page.text)
    assert form["name"] == "残疾人两项补贴申领"
    form["promised_days"] = "7"
    form["materials"] += "\n户口簿|视情况|复印件|1|household_register|非本地户籍的"
    saved = client.post(
        "/t/bozhou/admin/catalog/items/BZ-MZ03/draft",
        data={**form, "note": "精简材料", "_csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and 'data-testid="diff"' in saved.text
    assert "承诺时限" in saved.text and "申报材料" in saved.text
    # the public page still shows the live version
    assert "户口簿" not in client.get("/t/bozhou/items/BZ-MZ03").text
    done = client.post(
        "/t/bozhou/admin/catalog/items/BZ-MZ03/publish",
        data={"reason": "精简材料", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303)
    told = client.get(done.headers["location"]).text  # the admin is told it is live
    assert "已发布：群众现在看到的是新版本" in told
    public = client.get("/t/bozhou/items/BZ-MZ03").text
    assert "户口簿" in public and "非本地户籍的" in public


def test_the_editor_names_the_field_it_refuses(client, db: Database) -> None:
    csrf = _sign_in(client, "bozhou", "bozhou-admin")
    form = _form(client.get("/t/bozhou/admin/catalog/items/BZ-MZ04").text)
    form["promised_days"] = "999"
    refused = client.post(
        "/t/bozhou/admin/catalog/items/BZ-MZ04/draft",
        data={**form, "_csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422 and "承诺时限" in refused.text


def test_non_admins_cannot_open_the_editor(client, db: Database) -> None:
    token = csrf_token(client, "/t/bozhou/staff/login")
    client.post(
        "/t/bozhou/staff/login",
        data={"username": "bozhou-clerk", "password": "Demo-2026", "_csrf_token": token},
    )
    assert client.get("/t/bozhou/admin/catalog/").status_code == 403


@pytest.fixture
def worker():
    broker.flush_all()
    w = Worker(broker, worker_timeout=100)
    w.start()
    yield w
    w.stop()


def test_an_uploaded_import_runs_in_the_worker_with_progress(
    client,
    db: Database,
    worker,
) -> None:
    csrf = _sign_in(client, "guangzhou", "guangzhou-admin")
    exported = client.get("/t/guangzhou/admin/catalog/export/csv").content
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    extra = list(rows[3])
    code = extra[0] = extra[0].replace("GZ-", "GZ-IMP-", 1)
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], extra])
    upload = out.getvalue().encode("utf-8")
    response = client.post(
        "/t/guangzhou/admin/catalog/import",
        files={"file": ("new.csv", upload, "text/csv")},
        data={"_csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    job_url = response.headers["location"]
    broker.join(run_catalog_import.queue_name)
    worker.join()
    deadline = time.monotonic() + 10
    while "已完成" not in (page := client.get(job_url).text) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "已完成" in page and "新建 1 项" in page and "<progress" in page
    assert client.get(f"/t/guangzhou/items/{code}").status_code == 200


def test_a_bad_upload_is_refused_with_nothing_stored(client, db: Database) -> None:
    csrf = _sign_in(client, "guangzhou", "guangzhou-admin")
    response = client.post(
        "/t/guangzhou/admin/catalog/import",
        files={"file": ("evil.exe", b"MZ\x90\x00", "application/octet-stream")},
        data={"_csrf_token": csrf},
    )
    assert response.status_code == 422 and ".xlsx" in response.text


def test_an_admin_adds_a_department_that_items_can_then_use(client, db: Database) -> None:
    _sign_in(client, "cili", "cili-admin")
    csrf = csrf_token(client, "/t/cili/admin")
    added = client.post(
        "/t/cili/admin/units",
        data={"code": "CL-TYJ", "name": "县体育局", "kind": "department", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.status_code in (302, 303)
    assert "县体育局" in client.get("/t/cili/admin/units").text
    again = client.post(
        "/t/cili/admin/units",
        data={"code": "CL-TYJ", "name": "重复", "kind": "department", "_csrf_token": csrf},
    )
    assert again.status_code == 422 and "已存在" in again.text
    assert "县体育局" in client.get("/t/cili/admin/catalog/new").text


def test_a_form_template_is_uploaded_published_and_downloadable(client, db: Database) -> None:
    _sign_in(client, "suning", "suning-admin")
    csrf = csrf_token(client, "/t/suning/admin/catalog/items/SN-MZ04")
    pdf = b"%PDF-1.4\n% form\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    renamed_exe = client.post(
        "/t/suning/admin/catalog/items/SN-MZ04/forms",
        files={"file": ("申请书.pdf", b"MZ\x90\x00evil", "application/pdf")},
        data={"material": "1", "_csrf_token": csrf},
    )
    assert renamed_exe.status_code == 422
    ok = client.post(
        "/t/suning/admin/catalog/items/SN-MZ04/forms",
        files={"file": ("登记申请书.pdf", pdf, "application/pdf")},
        data={"material": "1", "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert ok.status_code in (302, 303)
    assert client.get("/t/suning/items/SN-MZ04/forms/1").status_code == 404  # still a draft
    client.post(
        "/t/suning/admin/catalog/items/SN-MZ04/publish",
        data={"reason": "上传表单", "_csrf_token": csrf},
    )
    page = client.get("/t/suning/items/SN-MZ04").text
    assert "/t/suning/items/SN-MZ04/forms/1" in page
    download = client.get("/t/suning/items/SN-MZ04/forms/1")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"


def test_the_admin_is_warned_about_an_uncovered_year_on_every_page(
    client,
    db: Database,
    monkeypatch,
) -> None:
    from datetime import date as real_date

    import core.calendar.service as calendar_service
    from core.calendar import national_years

    beyond = national_years().stop

    class Later(real_date):
        @classmethod
        def today(cls):
            return real_date(beyond, 1, 15)

    monkeypatch.setattr(calendar_service, "date", Later)
    _sign_in(client, "guangzhou", "guangzhou-admin")
    for path in ("/t/guangzhou/", "/t/guangzhou/items/GZ-SB01", "/t/guangzhou/workbench"):
        assert f"{beyond} 年的法定节假日尚未录入" in client.get(path).text, path
    csrf = csrf_token(client, "/t/guangzhou/admin/calendar/")
    # nothing of that year entered: a confirmation of nothing is refused, the warning stays
    empty = client.post(
        "/t/guangzhou/admin/calendar/years", data={"year": str(beyond), "_csrf_token": csrf}
    )
    assert empty.status_code == 422 and "还没有录入" in empty.text
    assert f"{beyond} 年的法定节假日尚未录入" in client.get("/t/guangzhou/").text
    client.post(
        "/t/guangzhou/admin/calendar/days",
        data={"day": f"{beyond}-01-01", "workday": "0", "note": "元旦", "_csrf_token": csrf},
    )
    client.post(
        "/t/guangzhou/admin/calendar/years", data={"year": str(beyond), "_csrf_token": csrf}
    )
    assert "尚未录入" not in client.get("/t/guangzhou/").text


def _upload(client, csrf: str, slug: str, name: str, body: bytes) -> str:
    response = client.post(
        f"/t/{slug}/admin/catalog/import",
        files={"file": (name, body, "application/octet-stream")},
        data={"_csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    broker.join(run_catalog_import.queue_name)
    return response.headers["location"]


def _final(client, job_url: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = client.get(job_url).text
        if 'hx-trigger="every 1s"' not in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the import page is still polling: the job never ended")


def _typed_text_in_number_cell() -> bytes:
    """An .xlsx whose G2 is a number cell holding text, as some converters write it."""
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["编码", "名称", "类型", "类别", "实施部门", "申报材料", "法定时限", "承诺时限"])
    sheet.append(["GZ-BAD-1", "甲", "行政权力", "行政许可", "GZ-RSJ", "", 10, 5])
    plain, out = io.BytesIO(), io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w") as dst:
        for entry in src.infolist():
            data = src.read(entry)
            if entry.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'(<c r="G2"[^>]*>)<v>10</v>', rb"\1<v>ten</v>", data)
            dst.writestr(entry, data)
    return out.getvalue()


def test_every_failing_import_ends_as_failed_with_its_reason(client, db: Database, worker) -> None:
    """A cell that cannot be read, or a bad row: the job ends 失败 with the place, in Chinese,
    instead of polling 校验中 0/0 for ever."""
    csrf = _sign_in(client, "guangzhou", "guangzhou-admin")
    worker.join()
    page = _final(
        client, _upload(client, csrf, "guangzhou", "typed.xlsx", _typed_text_in_number_cell())
    )
    assert "失败" in page and "单元格 G2" in page, page
    rows = "编码,名称,类别,实施部门,法定时限,承诺时限\nGZ-BAD-2,乙,行政许可,GZ-RSJ,5,9\n"
    page = _final(client, _upload(client, csrf, "guangzhou", "rows.csv", rows.encode()))
    assert "失败" in page and "第 2 行 承诺时限" in page, page
    listing = client.get("/t/guangzhou/admin/catalog/").text
    assert "失败" in listing and "failed" not in listing


def test_the_admin_list_pages_and_filters(client, db: Database, monkeypatch) -> None:
    """A province-size catalog is never listed whole: twenty to a page here, with filters
    that the pager's links keep."""
    import web.pages.catalog_admin as admin

    monkeypatch.setattr(admin, "PAGE_SIZE", 20)
    _sign_in(client, "bozhou", "bozhou-admin")
    first = client.get("/t/bozhou/admin/catalog/").text
    codes = re.findall(r'<td class="code">([^<]+)</td>', first)
    assert len(codes) == 20 and "第 1 / 3 页" in first
    last = client.get("/t/bozhou/admin/catalog/?page=3").text
    rest = re.findall(r'<td class="code">([^<]+)</td>', last)
    assert 0 < len(rest) <= 20 and not set(rest) & set(codes)
    police = client.get("/t/bozhou/admin/catalog/?department=BZ-GAJ").text
    shown = re.findall(r'<td class="code">([^<]+)</td>', police)
    assert shown and len(shown) < 20 and "第 1 / " not in police
    found = client.get("/t/bozhou/admin/catalog/", params={"q": "户口"}).text
    assert re.findall(r'<td class="code">([^<]+)</td>', found)
    assert "没有符合条件的事项" in client.get("/t/bozhou/admin/catalog/?q=量子纠缠").text


def test_an_unreachable_code_is_refused_by_the_editor_and_the_api(client, db: Database) -> None:
    from tests.helpers import bearer, staff_token

    csrf = _sign_in(client, "cili", "cili-admin")
    form = _form(client.get("/t/cili/admin/catalog/items/CL-SB04").text)
    refused = client.post(
        "/t/cili/admin/catalog/items", data={**form, "code": "CL/P/E14", "_csrf_token": csrf}
    )
    assert refused.status_code == 422 and "只能由英文字母、数字和 - _ . 组成" in refused.text
    token = staff_token(db, "cili", "cili-admin")
    api = client.post(
        "/api/v1/t/cili/items",
        json={
            "code": "CL P E14",
            "content": {"name": "甲", "category": "xzxk", "department": "CL-GAJ"},
        },
        headers=bearer(token),
    )
    assert api.status_code == 422 and api.json()["error"] == "invalid_input"
    assert "编码" in api.json()["detail"]


def test_the_editor_keeps_what_its_form_does_not_show(client, db: Database) -> None:
    """HC-SC03 issues a food business licence: saving a draft in the editor keeps it."""
    csrf = _sign_in(client, "hechi", "hechi-admin")
    page = client.get("/t/hechi/admin/catalog/items/HC-SC03").text
    form = _form(page)
    assert form["result_license"] == "食品经营许可证"
    form["promised_days"] = "3"
    saved = client.post(
        "/t/hechi/admin/catalog/items/HC-SC03/draft",
        data={**form, "note": "压缩时限", "_csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200
    assert "办理结果" not in saved.text  # the diff names the days only
    again = _form(client.get("/t/hechi/admin/catalog/items/HC-SC03").text)
    assert again["result_license"] == "食品经营许可证" and again["promised_days"] == "3"
