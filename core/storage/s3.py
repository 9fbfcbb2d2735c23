"""Storage in an S3-compatible service through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.storage.base import ObjectInfo, StorageError, note_put

CHUNK = 64 * 1024
#: uploads in the request's own thread, in parts of 8 MB above 8 MB
TRANSFER = TransferConfig(use_threads=False)


class S3Storage:
    def __init__(self, bucket: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                s3={"addressing_style": "path"},
            ),
        )

    def put(self, key: str, data: BinaryIO, content_type: str) -> ObjectInfo:
        note_put(key)
        try:
            # upload_fileobj streams in parts; the object appears only when complete. In the
            # calling thread: a pool of ten threads per upload left a web process's memory
            # growing with every upload (docs/performance.md, "Memory")
            self.client.upload_fileobj(
                data,
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=TRANSFER,
            )
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"存储不可用: {exc}") from exc
        return ObjectInfo(key=key, size=head["ContentLength"], content_type=content_type)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"存储不可用: {exc}") from exc
        yield from body.iter_chunks(CHUNK)

    def read(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise StorageError(f"存储不可用: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"存储不可用: {exc}") from exc
        return ObjectInfo(
            key=key,
            size=head["ContentLength"],
            content_type=head.get("ContentType", "application/octet-stream"),
        )

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"存储不可用: {exc}") from exc

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, a thousand per request."""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents") or []:
                    yield ObjectInfo(
                        key=item["Key"],
                        size=int(item.get("Size", 0)),
                        content_type="",
                        modified=item.get("LastModified"),
                    )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"存储不可用: {exc}") from exc

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"存储桶 {self.bucket} 不可用: {exc}") from exc
