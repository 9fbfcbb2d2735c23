"""Materials through the API: stored encrypted in S3 (an S3 API server on loopback), served
decrypted through a short-lived link; oversized uploads refused with nothing stored; reuse of
an e-license and of an earlier material; signing-key rotation keeps old licenses valid."""

from __future__ import annotations

import io
import os
import time
import uuid

import boto3
import pytest
from click.testing import CliRunner

from core.config import reset_settings
from core.storage import get_storage, reset_storage
from core.storage.s3 import S3Storage
from tests.cases.conftest import Desk
from tests.helpers import account_token, bearer

ZHANG = "13800000001"


def _draft(client, token: str, item: str = "HC-SC03") -> str:
    response = client.post("/api/v1/t/hechi/cases", json={"item": item}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()["number"]


def _upload(client, token, number, index, body, name="m.pdf"):
    return client.post(
        f"/api/v1/t/hechi/cases/{number}/materials",
        files={"file": (name, io.BytesIO(body), "application/octet-stream")},
        data={"index": str(index)},
        headers=bearer(token),
    )


@pytest.fixture
def s3(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = "materials-" + uuid.uuid4().hex[:8]
    client = boto3.client("s3", endpoint_url=s3_server.url)
    client.create_bucket(Bucket=bucket)
    previous = get_storage()
    reset_storage(S3Storage(bucket, s3_server.url))
    yield client, bucket
    reset_storage(previous)


def test_uploads_are_encrypted_in_s3_and_served_through_a_short_lived_link(client, db, s3) -> None:
    s3_client, bucket = s3
    token = account_token(db, "hechi", ZHANG)
    number = _draft(client, token)
    body = b"%PDF-1.7\n" + os.urandom(300_000)  # several encryption chunks
    uploaded = _upload(client, token, number, 0, body)
    assert uploaded.status_code == 201, uploaded.text
    material = uploaded.json()
    import hashlib

    assert material["sha256"] == hashlib.sha256(body).hexdigest()
    assert material["size"] == len(body)
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    stored = s3_client.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert stored[:4] == b"GHF1" and body[9:200] not in stored  # encrypted at rest

    link = client.get(
        f"/api/v1/t/hechi/cases/{number}/materials/{material['id']}/link", headers=bearer(token)
    ).json()
    assert link["expires_in"] == 300
    downloaded = client.get(link["url"])  # no credentials: the link is the credential
    assert downloaded.status_code == 200 and downloaded.content == body
    assert downloaded.headers["content-type"].startswith("application/pdf")
    forged = link["url"][:-3] + ("AAA" if not link["url"].endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 404
    # another tenant's path for the same token is no good either
    assert client.get(link["url"].replace("/t/hechi/", "/t/bozhou/")).status_code == 404


def test_an_expired_link_is_refused(client, db, monkeypatch) -> None:
    token = account_token(db, "hechi", ZHANG)
    number = _draft(client, token)
    material = _upload(client, token, number, 0, b"%PDF-1.4 x" * 10).json()
    link = client.get(
        f"/api/v1/t/hechi/cases/{number}/materials/{material['id']}/link", headers=bearer(token)
    ).json()["url"]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 301)
    assert client.get(link).status_code == 404


def test_an_oversized_upload_is_413_with_nothing_stored(db, monkeypatch, tmp_path) -> None:
    from litestar.testing import TestClient

    from core.config import get_settings
    from core.storage.local import LocalStorage
    from web.app import create_app

    monkeypatch.setenv("GOVHALL_MAX_UPLOAD_BYTES", "50000")
    reset_settings()
    previous = get_storage()
    reset_storage(LocalStorage(str(tmp_path / "objects")))
    try:
        app = create_app(get_settings(), db)
        with TestClient(app=app, base_url="http://testserver.local") as client:
            token = account_token(db, "hechi", ZHANG)
            number = _draft(client, token)
            # just over the limit: the file part alone exceeds it
            too_big = _upload(client, token, number, 0, b"%PDF-1.4" + b"0" * 49_995)
            assert too_big.status_code == 413, too_big.text
            assert too_big.json()["error"] == "payload_too_large"
            case = client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(token)).json()
            assert case["materials"] == []
            assert not list((tmp_path / "objects").rglob("*.pdf"))
    finally:
        monkeypatch.delenv("GOVHALL_MAX_UPLOAD_BYTES")
        reset_settings()
        reset_storage(previous)


def test_an_e_license_and_an_earlier_material_stand_in_for_uploads(client, db, hechi: Desk) -> None:
    citizen = hechi.citizen(ZHANG)
    # an earlier case that issues a business licence (营业执照)
    earlier = hechi.apply(citizen, "HC-SC04")
    hechi.act(hechi.staff("hechi-clerk"), earlier, "accept")
    hechi.act(hechi.staff("hechi-reviewer"), earlier, "review")
    done = hechi.act(hechi.staff("hechi-approver"), earlier, "approve")
    assert done.state.value == "completed"

    token = account_token(db, "hechi", ZHANG)
    library = client.get("/api/v1/t/hechi/licenses", headers=bearer(token)).json()
    licence = next(x for x in library if x["license_type"] == "business_license")
    earlier_case = client.get(f"/api/v1/t/hechi/cases/{earlier}", headers=bearer(token)).json()
    earlier_material = earlier_case["materials"][0]["id"]

    number = _draft(client, token)  # 食品经营许可: material 1 is the business licence
    reuse = f"/api/v1/t/hechi/cases/{number}/materials/reuse"
    wrong = client.post(
        reuse, json={"index": 2, "license_code": licence["code"]}, headers=bearer(token)
    )
    assert wrong.status_code == 422  # a licence only replaces the material of its type
    used = client.post(
        reuse, json={"index": 1, "license_code": licence["code"]}, headers=bearer(token)
    )
    assert used.status_code == 201 and used.json()["source"] == "license"
    again = client.post(
        reuse, json={"index": 0, "material_id": earlier_material}, headers=bearer(token)
    )
    assert again.status_code == 201 and again.json()["source"] == "reuse"
    # someone else's licence is not theirs to use
    other = account_token(db, "hechi", "13800000008")
    theirs = _draft(client, other)
    stolen = client.post(
        f"/api/v1/t/hechi/cases/{theirs}/materials/reuse",
        json={"index": 1, "license_code": licence["code"]},
        headers=bearer(other),
    )
    assert stolen.status_code == 404
    assert _upload(client, token, number, 2, b"\x89PNG\r\n\x1a\n" + b"1" * 100).status_code == 201
    submitted = client.post(f"/api/v1/t/hechi/cases/{number}/submit", headers=bearer(token))
    assert submitted.status_code == 200, submitted.text

    # rotating the signing key keeps the old licence valid and signs new ones with the new key
    from web.cli import main

    rotated = CliRunner().invoke(main, ["cases", "rotate-key", "--tenant", "hechi"])
    assert rotated.exit_code == 0, rotated.output
    keys = client.get("/api/v1/t/hechi/license-keys").json()
    assert [k["active"] for k in keys].count(True) == 1 and len(keys) >= 2
    check = client.get(f"/api/v1/t/hechi/verify/{licence['code']}").json()
    assert check["valid"] is True
    assert licence["key_id"] != next(k["key_id"] for k in keys if k["active"])


def test_an_edited_license_record_no_longer_verifies(client, hechi: Desk) -> None:
    from sqlalchemy import select

    from core.cases.models import License

    citizen = hechi.citizen(ZHANG)
    number = hechi.apply(citizen, "HC-SC04")
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    hechi.act(hechi.staff("hechi-reviewer"), number, "review")
    case = hechi.act(hechi.staff("hechi-approver"), number, "approve")
    with hechi.session() as s:
        row = s.scalar(select(License).where(License.case_id == case.id))
        code = row.code
        assert client.get(f"/api/v1/t/hechi/verify/{code}").json()["valid"] is True
        row.holder_name = "李四"
        s.commit()
    forged = client.get(f"/api/v1/t/hechi/verify/{code}").json()
    assert forged["valid"] is False and "不一致" in forged["message"]
