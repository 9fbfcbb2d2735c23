"""Object storage: the local directory and an S3 API server, behind one interface."""

from __future__ import annotations

import io
import uuid

import boto3
import pytest

from core.storage import StorageError, tenant_key
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage
from tests.servers import S3Server, free_port


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalStorage(str(tmp_path / "objects"))
    server: S3Server = request.getfixturevalue("s3_server")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = "govhall-" + uuid.uuid4().hex[:8]
    boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket=bucket)
    return S3Storage(bucket, server.url)


def test_put_stat_read_delete(storage) -> None:
    key = tenant_key(uuid.uuid4(), "materials", "id-card.png")
    data = b"\x89PNG" + b"x" * 200_000
    info = storage.put(key, io.BytesIO(data), "image/png")
    assert info.size == len(data)
    assert storage.stat(key).content_type == "image/png"
    assert storage.read(key) == data
    storage.delete(key)
    assert storage.stat(key) is None
    storage.check()


def test_keys_cannot_escape_their_tenant_prefix() -> None:
    tenant = uuid.uuid4()
    for bad in ("..", "../etc", "a/b", "", "名字.pdf"):
        with pytest.raises(ValueError):
            tenant_key(tenant, bad)


def test_an_unreachable_s3_endpoint_is_a_clear_storage_error(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    storage = S3Storage("nowhere", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match="存储"):
        storage.put(tenant_key(uuid.uuid4(), "x.bin"), io.BytesIO(b"x"), "application/pdf")
