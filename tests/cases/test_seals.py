"""Notices and e-licences name the department that issues them and carry its seal image; a
county admin sets the seal on the 部门印章 page (PNG only, its own departments only); the
verification page names the department."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pypdf
import pytest
from litestar.testing import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from core.cases import seals
from core.cases.documents import ensure_rendered
from core.cases.models import License, Notice
from core.storage import get_storage
from core.tenancy import OrgUnit
from tests.cases.conftest import Desk
from tests.helpers import csrf_token

FOOD = "HC-SC03"  # 食品经营许可 at 市市场监督管理局 (HC-SCJ): issues an e-licence
MARKET = "河池市市场监督管理局"
CITIZEN = "13800000001"


def seal_png(size: int = 240) -> bytes:
    """A red ring on a transparent background, the way a scanned seal is prepared."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((8, 8, size - 8, size - 8), outline=(200, 20, 20, 230), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _pdf(data: bytes) -> tuple[str, int]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return (
        "".join(page.extract_text() for page in reader.pages),
        sum(len(page.images) for page in reader.pages),
    )


def _set(hechi: Desk, code: str, data: bytes | None) -> None:
    with hechi.session() as s:
        if data is None:
            seals.remove_seal(s, hechi.tenant, code)
        else:
            seals.set_seal(s, hechi.tenant, code, data)
        s.commit()


@pytest.fixture
def market_seal(hechi: Desk) -> Iterator[None]:
    _set(hechi, "HC-SCJ", seal_png())
    yield
    _set(hechi, "HC-SCJ", None)


def _notices(hechi: Desk, number: str) -> list[tuple[str, str, bytes]]:
    with hechi.session() as s:
        case = hechi.case(number)
        rows = s.scalars(
            select(Notice).where(Notice.case_id == case.id).order_by(Notice.issued_at)
        ).all()
        out = [(n.kind, n.code, ensure_rendered(s, n)) for n in rows]
        s.commit()
    return out


def test_a_notice_names_its_department_and_carries_its_seal(hechi: Desk, market_seal) -> None:
    number = hechi.apply(hechi.citizen(CITIZEN), FOOD)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    notices = _notices(hechi, number)
    assert [kind for kind, _, _ in notices] == ["receipt", "acceptance"]
    for _kind, _code, pdf in notices:
        text, images = _pdf(pdf)
        assert MARKET in text
        assert "受理通知书" in text or "收件通知" in text
        assert images == 1  # the seal (the QR code is drawn, not an image)


def test_a_department_without_a_seal_signs_with_its_name_alone(hechi: Desk) -> None:
    with hechi.session() as s:
        unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "HC-SCJ"))
        assert unit.seal_key is None
    number = hechi.apply(hechi.citizen(CITIZEN), FOOD)
    [(_, _, pdf)] = _notices(hechi, number)
    text, images = _pdf(pdf)
    assert MARKET in text and images == 0
    assert "印章" not in text  # nothing that pretends to be a seal


def test_a_notice_keeps_the_seal_it_was_issued_with(hechi: Desk, market_seal) -> None:
    number = hechi.apply(hechi.citizen(CITIZEN), FOOD)
    _set(hechi, "HC-SCJ", None)  # removed before the notice was first downloaded
    [(_, _, pdf)] = _notices(hechi, number)
    assert _pdf(pdf)[1] == 1


def test_the_e_licence_names_the_department_and_carries_its_seal(hechi: Desk, market_seal) -> None:
    number = hechi.apply(hechi.citizen(CITIZEN), FOOD)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    hechi.act(hechi.staff("hechi-reviewer"), number, "review", reason="材料齐全")
    hechi.act(hechi.staff("hechi-approver"), number, "approve", reason="同意")
    hechi.act(hechi.staff("hechi-issuer"), number, "issue")
    with hechi.session() as s:
        lic = s.scalar(select(License).where(License.case_id == hechi.case(number).id))
        pdf = get_storage().read(lic.storage_key)
    text, images = _pdf(pdf)
    assert f"发证机关{MARKET}" in text.replace(" ", "").replace("\n", "")
    assert images == 1


def test_the_verification_page_names_the_department_and_the_hall(client, hechi: Desk) -> None:
    number = hechi.apply(hechi.citizen(CITIZEN), FOOD)
    [(_, code, _)] = _notices(hechi, number)
    page = client.get(f"/t/hechi/verify/{code}")
    assert page.status_code == 200
    assert MARKET in page.text and "河池市网上办事大厅" in page.text
    assert "真实有效" in page.text and number in page.text
    api = client.get(f"/api/v1/t/hechi/verify/{code}").json()
    assert api["department"] == MARKET and api["valid"] is True
    unknown = client.get("/t/hechi/verify/NOSUCHCODE00")
    assert unknown.status_code == 404 and "未找到" in unknown.text


def _signed_in(app, username: str) -> tuple[TestClient, str]:
    browser = TestClient(app=app, base_url="http://testserver.local")
    browser.__enter__()
    token = csrf_token(browser, "/t/hechi/staff/login")
    signed = browser.post(
        "/t/hechi/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
    )
    assert signed.status_code < 400
    return browser, token


def _upload(browser: TestClient, token: str, path: str, body: bytes, name: str = "seal.png"):
    return browser.post(
        path,
        data={"_csrf_token": token},
        files={"file": (name, io.BytesIO(body), "image/png")},
        follow_redirects=False,
    )


def test_the_admin_sets_and_removes_a_seal(app, hechi: Desk) -> None:
    browser, token = _signed_in(app, "hechi-admin")
    try:
        listing = browser.get("/t/hechi/admin/seals/")
        assert listing.status_code == 200
        assert MARKET in listing.text and "未配置印章" in listing.text
        assert "/admin/seals/" in browser.get("/t/hechi/admin").text  # linked

        saved = _upload(browser, token, "/t/hechi/admin/seals/HC-GAJ", seal_png())
        assert saved.status_code in (302, 303), saved.text
        page = browser.get(saved.headers["location"])
        assert "印章已更新" in page.text and "/admin/seals/HC-GAJ/image" in page.text
        image = browser.get("/t/hechi/admin/seals/HC-GAJ/image")
        assert image.status_code == 200 and image.content == seal_png()
        assert image.headers["content-type"] == "image/png"

        removed = browser.post(
            "/t/hechi/admin/seals/HC-GAJ/remove",
            data={"_csrf_token": token},
            follow_redirects=False,
        )
        assert removed.status_code in (302, 303)
        assert browser.get("/t/hechi/admin/seals/HC-GAJ/image").status_code == 404
    finally:
        _set(hechi, "HC-GAJ", None)
        browser.__exit__(None, None, None)


def test_the_upload_refuses_what_is_not_a_png(app, hechi: Desk) -> None:
    browser, token = _signed_in(app, "hechi-admin")
    try:
        url = "/t/hechi/admin/seals/HC-GAJ"
        jpeg = io.BytesIO()
        Image.new("RGB", (100, 100), "red").save(jpeg, "JPEG")
        for body, name in (
            (jpeg.getvalue(), "seal.png"),  # the name says PNG, the bytes do not
            (b"%PDF-1.4\n" + b"0" * 200, "seal.pdf"),
            (seal_png()[:60], "cut.png"),  # a PNG's signature and header, then nothing
            (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "fake.png"),
        ):
            refused = _upload(browser, token, url, body, name)
            assert refused.status_code == 415, (name, refused.status_code)
            assert 'data-testid="seal-error"' in refused.text and "PNG" in refused.text
        big = _upload(browser, token, url, b"\x89PNG\r\n\x1a\n" + b"\x00" * seals.SEAL_MAX_BYTES)
        assert big.status_code == 413 and "KB" in big.text
        tiny = io.BytesIO()
        Image.new("RGBA", (20, 20)).save(tiny, "PNG")
        assert _upload(browser, token, url, tiny.getvalue()).status_code == 422
        with hechi.session() as s:
            assert s.scalar(select(OrgUnit.seal_key).where(OrgUnit.code == "HC-GAJ")) is None
    finally:
        browser.__exit__(None, None, None)


def test_only_the_county_admin_and_only_its_own_departments(app, hechi: Desk) -> None:
    clerk, clerk_token = _signed_in(app, "hechi-clerk")
    try:
        assert clerk.get("/t/hechi/admin/seals/").status_code == 403
        upload = _upload(clerk, clerk_token, "/t/hechi/admin/seals/HC-GAJ", seal_png())
        assert upload.status_code == 403
    finally:
        clerk.__exit__(None, None, None)
    admin, token = _signed_in(app, "hechi-admin")
    try:
        # Bozhou's department through Hechi: no such department here
        with Desk(hechi.db, "bozhou").session() as s:
            bozhou_unit = s.scalar(select(OrgUnit.code).where(OrgUnit.kind == "department"))
        elsewhere = f"/t/hechi/admin/seals/{bozhou_unit}"
        assert _upload(admin, token, elsewhere, seal_png()).status_code == 404
        gone = admin.post(f"/t/hechi/admin/seals/{bozhou_unit}/remove", data={"_csrf_token": token})
        assert gone.status_code == 404
        assert admin.get(f"/t/hechi/admin/seals/{bozhou_unit}/image").status_code == 404
        # at Bozhou a Hechi session is no session
        signed_out = (302, 303, 401, 403)
        assert admin.get("/t/bozhou/admin/seals/", follow_redirects=False).status_code in signed_out
        at_bozhou = _upload(admin, token, f"/t/bozhou/admin/seals/{bozhou_unit}", seal_png())
        assert at_bozhou.status_code in signed_out
        with Desk(hechi.db, "bozhou").session() as s:
            unit = s.scalar(select(OrgUnit).where(OrgUnit.code == bozhou_unit))
            assert unit.seal_key is None
    finally:
        admin.__exit__(None, None, None)
