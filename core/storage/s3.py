"""Storage in an S3-compatible service through boto3.

The client reads botocore's models through :class:`SlimModels`: botocore would keep its table
of every AWS endpoint (``endpoints.json``, 6.7 MB once decoded) and the whole S3 model (116
operations and their documentation, 3.2 MB) in each web process for the life of the process,
where :class:`S3Storage` makes ten kinds of request (docs/performance.md, "Memory under
load")."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.loaders import create_loader

from core.storage.base import ObjectInfo, StorageError, note_put

CHUNK = 64 * 1024
#: uploads in the request's own thread, in parts of 8 MB above 8 MB
TRANSFER = TransferConfig(use_threads=False)

#: the S3 operations S3Storage sends: its six calls, and the parts of an upload above 8 MB
OPERATIONS = frozenset(
    {
        "PutObject",
        "HeadObject",
        "GetObject",
        "DeleteObject",
        "ListObjectsV2",
        "HeadBucket",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
    }
)


class SlimModels:
    """botocore's JSON data files as its own file loader reads them, but into plain dicts
    (botocore decodes into ``OrderedDict``, about half as large again), with the endpoints
    table cut to S3's entries and the S3 model cut to :data:`OPERATIONS` and the shapes they
    reach, without documentation. What is cut is never read by an S3 client making those
    requests: the endpoints of other services, the other operations."""

    def exists(self, file_path: str) -> bool:
        return any(os.path.isfile(file_path + ext) for ext in (".json", ".json.gz"))

    def load_file(self, file_path: str) -> Any:
        data = _read_json(file_path)
        if data is None:
            return None
        parts = file_path.replace(os.sep, "/").split("/")
        if parts[-1] == "endpoints" and isinstance(data, dict):
            for partition in data.get("partitions", []):
                services = partition.get("services", {})
                partition["services"] = {k: v for k, v in services.items() if k == "s3"}
        elif len(parts) > 2 and parts[-3] == "s3" and parts[-1] == "service-2":
            data = slim_s3_model(data)
        return data


def _read_json(file_path: str) -> Any:
    if os.path.isfile(file_path + ".json"):
        with open(file_path + ".json", "rb") as plain:
            return json.loads(plain.read().decode("utf-8"))
    if os.path.isfile(file_path + ".json.gz"):
        with gzip.open(file_path + ".json.gz", "rb") as packed:
            return json.loads(packed.read().decode("utf-8"))
    return None


def slim_s3_model(model: dict[str, Any]) -> dict[str, Any]:
    """The S3 service model with only :data:`OPERATIONS`, the shapes they reach, and no
    documentation (read by botocore only to write docstrings)."""
    operations = {
        name: _undocumented(op) for name, op in model["operations"].items() if name in OPERATIONS
    }
    shapes = model["shapes"]
    wanted: list[str] = []
    for op in operations.values():
        wanted += [op[part]["shape"] for part in ("input", "output") if part in op]
        wanted += [error["shape"] for error in op.get("errors", [])]
    kept: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in kept:
            continue
        kept.add(name)
        shape = shapes[name]
        wanted += [member["shape"] for member in shape.get("members", {}).values()]
        wanted += [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]
    slim = {k: v for k, v in model.items() if k not in {"operations", "shapes", "documentation"}}
    slim["operations"] = operations
    slim["shapes"] = {name: _undocumented(shape) for name, shape in shapes.items() if name in kept}
    return slim


def _undocumented(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if k not in {"documentation", "documentationUrl"}}
    if isinstance(out.get("members"), dict):
        out["members"] = {
            name: {k: v for k, v in member.items() if k != "documentation"}
            for name, member in out["members"].items()
        }
    return out


def _session() -> boto3.session.Session:
    """A boto3 session of its own whose botocore reads its models through SlimModels (the
    search path still honours ``AWS_DATA_PATH``)."""
    core = botocore.session.Session()
    loader = create_loader(core.get_config_variable("data_path"))
    loader.file_loader = SlimModels()
    core.register_component("data_loader", loader)
    return boto3.session.Session(botocore_session=core)


class S3Storage:
    def __init__(self, bucket: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.client = _session().client(
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
