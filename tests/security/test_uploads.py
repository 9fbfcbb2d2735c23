"""Upload fuzzing through the JSON API: empty files, the wrong type under a right name, path
traversal and control characters in names, malformed multipart, two files at once — each is
refused with a plain 4xx and leaves nothing behind, or is stored under a clean name with the
type its bytes really have. (Oversized uploads: tests/cases/test_materials.py.)"""

from __future__ import annotations

import io
import unicodedata
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from core.cases.materials import clean_filename
from core.cases.models import CaseMaterial
from core.db import Database
from tests.helpers import account_token, bearer

CITIZEN = "13800000001"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def draft(client, db: Database) -> dict[str, Any]:
    token = account_token(db, "hechi", CITIZEN)
    case = client.post("/api/v1/t/hechi/cases", json={"item": "HC-SC03"}, headers=bearer(token))
    assert case.status_code == 201, case.text
    return {"token": token, "number": case.json()["number"]}


def _post(client, draft: dict[str, Any], **kwargs: Any):
    return client.post(
        f"/api/v1/t/hechi/cases/{draft['number']}/materials",
        headers={**bearer(draft["token"]), **kwargs.pop("headers", {})},
        **kwargs,
    )


def _file(name: str, body: bytes, ctype: str = "application/pdf") -> dict[str, Any]:
    return {"files": {"file": (name, io.BytesIO(body), ctype)}, "data": {"index": "0"}}


def _raw(client, draft: dict[str, Any], filename: bytes, body: bytes):
    """A multipart body written byte by byte: the name goes exactly as given."""
    content = (
        b'--b\r\nContent-Disposition: form-data; name="index"\r\n\r\n0\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + body + b"\r\n--b--\r\n"
    )
    return _post(
        client, draft, content=content, headers={"content-type": "multipart/form-data; boundary=b"}
    )


def _platform(conn: Any, db: Database) -> None:
    if db.dialect == "postgresql":  # row-level security: read every tenant's rows
        conn.execute(text("SELECT set_config('govhall.platform', 'on', false)"))


def _stored(db: Database) -> int:
    with db.engine.connect() as conn:
        _platform(conn, db)
        return conn.execute(select(func.count()).select_from(CaseMaterial)).scalar_one()


def _material(db: Database, material_id: str) -> Any:
    with db.engine.connect() as conn:
        _platform(conn, db)
        return conn.execute(
            select(CaseMaterial).where(CaseMaterial.id == uuid.UUID(material_id))
        ).one()


REFUSED = {
    "empty": (_file("申请书.pdf", b""), 422),
    "html named pdf": (_file("申请书.pdf", b"<html><script>alert(1)</script></html>"), 415),
    "svg named png": (
        _file("photo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "image/png"),
        415,
    ),
    "windows program named pdf": (_file("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 60), 415),
    "zip named pdf": (_file("申请书.pdf", b"PK\x03\x04" + b"\x00" * 60), 415),
    "pdf signature too short": (_file("a.pdf", b"%PD"), 415),
    "no file part": ({"data": {"index": "0"}, "files": {"other": ("x.txt", b"x")}}, 422),
    "not multipart": ({"content": PDF, "headers": {"content-type": "application/pdf"}}, 415),
    "truncated multipart": (
        {
            "content": b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n" + PDF,
            "headers": {"content-type": "multipart/form-data; boundary=b"},
        },
        422,
    ),
    "two files": (
        {
            "files": [
                ("file", ("a.pdf", io.BytesIO(PDF), "application/pdf")),
                ("file", ("b.pdf", io.BytesIO(PDF), "application/pdf")),
            ],
            "data": {"index": "0"},
        },
        422,
    ),
    "index out of range": ({**_file("a.pdf", PDF), "data": {"index": "99"}}, 422),
    "index not a number": ({**_file("a.pdf", PDF), "data": {"index": "../0"}}, 422),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_bad_upload_is_refused_and_leaves_nothing(name: str, client, db, draft) -> None:
    request, status = REFUSED[name]
    before = _stored(db)
    response = _post(client, draft, **request)
    assert response.status_code == status, (name, response.text)
    body = response.json()
    assert body["detail"] and body.get("field") in ("file", "index"), body
    assert _stored(db) == before


def test_the_type_is_what_the_bytes_are_not_what_the_name_says(client, db, draft) -> None:
    response = _post(client, draft, **_file("扫描件.pdf", PNG))  # a PNG under a .pdf name
    assert response.status_code == 201, response.text
    row = _material(db, response.json()["id"])
    assert row.content_type == "image/png" and row.storage_key.endswith(".png")
    link = client.get(
        f"/api/v1/t/hechi/cases/{draft['number']}/materials/{response.json()['id']}/link",
        headers=bearer(draft["token"]),
    ).json()["url"]
    served = client.get(link)
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == "attachment"
    assert served.content == PNG


@pytest.mark.parametrize(
    ("given_name", "kept"),
    [
        ("../../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\cmd.pdf", "cmd.pdf"),
        ("/var/lib/govhall/objects/x.pdf", "x.pdf"),
        ("申请书\tX-Injected: 1.pdf", "申请书X-Injected: 1.pdf"),
        ("a\x00b\u202egnp.pdf", "abgnp.pdf"),  # NUL and a right-to-left override
        ("...", "upload"),
        ("./", "upload"),
    ],
)
def test_path_and_control_characters_never_reach_the_stored_name(
    given_name: str, kept: str, client, db, draft
) -> None:
    response = _raw(client, draft, given_name.encode(), PDF)
    assert response.status_code == 201, response.text
    stored = _material(db, response.json()["id"])
    assert response.json()["filename"] == kept
    assert stored.filename == kept
    assert ".." not in stored.storage_key and "passwd" not in stored.storage_key


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(min_size=0, max_size=400))
def test_any_name_is_cleaned(name: str) -> None:
    kept = clean_filename(name)
    assert kept and len(kept) <= 200
    assert "/" not in kept and "\\" not in kept and not kept.startswith(".")
    assert not any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in kept), kept


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.binary(min_size=0, max_size=2048))
def test_random_bytes_are_stored_only_when_they_are_a_pdf_jpeg_or_png(
    body: bytes, client, db, draft
) -> None:
    before = _stored(db)
    response = _post(client, draft, **_file("random.pdf", body))
    assert response.status_code in (201, 415, 422), response.text
    assert (_stored(db) > before) == (response.status_code == 201)


def test_a_refused_file_is_told_apart_by_what_its_name_claims(client, db, draft) -> None:
    """A program renamed 申请书.pdf is told its content is not a PDF (damaged or renamed) — not
    only that PDFs are taken, which it seems to be; a file of another name, what is taken."""
    renamed = _post(client, draft, **_file("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 60)).json()
    assert "名为 PDF 文件，内容却不是" in renamed["detail"], renamed
    other = _post(client, draft, **_file("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)).json()
    assert other["detail"] == "只能上传 PDF、JPG 或 PNG 格式的文件", other
