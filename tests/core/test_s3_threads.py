"""An upload to S3 runs in the request's own thread: boto3's transfer manager started a pool
of threads for every upload, and each new thread can take a malloc arena of its own, which
kept a web process's memory growing with the uploads it stored (docs/performance.md,
"Memory")."""

from __future__ import annotations

import io
import sys
import threading
import uuid

import boto3

from core.storage import tenant_key
from core.storage.s3 import S3Storage
from tests.servers import S3Server


def test_an_upload_starts_no_thread(s3_server: S3Server, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = "govhall-" + uuid.uuid4().hex[:8]
    boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket=bucket)
    storage = S3Storage(bucket, s3_server.url)
    started: list[str] = []

    def seen(*_: object) -> None:  # called first in every thread started from now on
        name = threading.current_thread().name
        if "process_request" not in name:  # the S3 server's own request threads
            started.append(name)
        sys.setprofile(None)  # once per thread is enough

    data = b"%PDF-1.4\n" + b"0" * 300_000
    threading.setprofile(seen)
    try:
        for n in range(3):
            key = tenant_key(uuid.uuid4(), "materials", f"{n}.pdf")
            assert storage.put(key, io.BytesIO(data), "application/pdf").size == len(data)
    finally:
        threading.setprofile(None)
    assert storage.read(key) == data
    assert started == []


def test_the_first_requests_arriving_together_make_one_s3_client(
    s3_server: S3Server, monkeypatch
) -> None:
    """A web process's first requests come together; each making its own boto3 client
    (12 MB of models each) left the process 50 MB larger for good."""
    from core import storage as storage_module
    from core.config import reset_settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("GOVHALL_STORAGE_URL", "s3://govhall-first-requests")
    monkeypatch.setenv("GOVHALL_S3_ENDPOINT_URL", s3_server.url)
    before = storage_module._storage
    reset_settings()
    storage_module.reset_storage(None)
    made: list[object] = []
    start = threading.Barrier(8)

    def first_request() -> None:
        start.wait()
        made.append(storage_module.get_storage())

    try:
        threads = [threading.Thread(target=first_request) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        storage_module.reset_storage(before)
        monkeypatch.undo()
        reset_settings()
    assert len(made) == 8
    assert len({id(storage) for storage in made}) == 1
