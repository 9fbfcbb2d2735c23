"""Storage in an S3-compatible service through boto3.

The client reads botocore's models through :class:`SlimModels`: botocore would keep its table
of every AWS endpoint (``endpoints.json``, 6.7 MB once decoded) and the whole S3 model (116
operations and their documentation, 3.2 MB) in each web process for the life of the process,
where :class:`S3Storage` makes ten kinds of request (docs/performance.md, "Memory under
load")."""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import json
import os
import re
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
    requests: the endpoints of other services, the other operations.

    Those two files are walked value by value (:class:`JsonWalk`), never decoded whole:
    decoding botocore's 1.2 MB endpoints file whole and dropping most of it left the process
    2 MB larger for good, the freed objects scattered over memory it kept."""

    def exists(self, file_path: str) -> bool:
        return any(os.path.isfile(file_path + ext) for ext in (".json", ".json.gz"))

    def load_file(self, file_path: str) -> Any:
        text = _read_text(file_path)
        if text is None:
            return None
        parts = file_path.replace(os.sep, "/").split("/")
        if parts[-1] == "endpoints":
            return slim_endpoints(text)
        if len(parts) > 2 and parts[-3] == "s3" and parts[-1] == "service-2":
            return slim_s3_model(text)
        return json.loads(text)


def _read_text(file_path: str) -> str | None:
    if os.path.isfile(file_path + ".json"):
        with open(file_path + ".json", "rb") as plain:
            return plain.read().decode("utf-8")
    if os.path.isfile(file_path + ".json.gz"):
        with gzip.open(file_path + ".json.gz", "rb") as packed:
            return packed.read().decode("utf-8")
    return None


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class JsonWalk:
    """One JSON document, decoded only where asked: :meth:`members` goes through an object's
    members, and for each the caller decodes its value (:meth:`value`), drops it
    (:meth:`skip`, which decodes that value alone) or walks into it (:meth:`members`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _space(self) -> None:
        match = _SPACE.match(self.text, self.pos)
        assert match is not None  # matches the empty string at worst
        self.pos = match.end()

    def _expect(self, char: str) -> None:
        self._space()
        if self.text[self.pos : self.pos + 1] != char:
            raise ValueError(f"expected {char!r} at {self.pos} in a botocore data file")
        self.pos += 1

    def value(self) -> Any:
        self._space()
        value, self.pos = _DECODER.raw_decode(self.text, self.pos)
        return value

    def skip(self) -> None:
        self.value()

    def members(self) -> Iterator[str]:
        """Each member's name; the caller moves past its value before asking for the next."""
        self._expect("{")
        self._space()
        if self.text[self.pos : self.pos + 1] == "}":
            self.pos += 1
            return
        while True:
            key = self.value()
            self._expect(":")
            yield key
            self._space()
            self.pos += 1
            if self.text[self.pos - 1] == "}":
                return
            if self.text[self.pos - 1] != ",":
                raise ValueError(f"expected ',' at {self.pos - 1} in a botocore data file")

    def elements(self) -> Iterator[None]:
        """Each element of an array; the caller moves past it before asking for the next."""
        self._expect("[")
        self._space()
        if self.text[self.pos : self.pos + 1] == "]":
            self.pos += 1
            return
        while True:
            yield None
            self._space()
            self.pos += 1
            if self.text[self.pos - 1] == "]":
                return
            if self.text[self.pos - 1] != ",":
                raise ValueError(f"expected ',' at {self.pos - 1} in a botocore data file")


def slim_endpoints(text: str) -> dict[str, Any]:
    """botocore's ``endpoints.json`` with each partition's services cut to S3's entry."""
    walk, table = JsonWalk(text), {}
    for key in walk.members():
        if key != "partitions":
            table[key] = walk.value()
            continue
        partitions = table["partitions"] = []
        for _ in walk.elements():
            partition: dict[str, Any] = {}
            for name in walk.members():
                if name != "services":
                    partition[name] = walk.value()
                    continue
                services = partition["services"] = {}
                for service in walk.members():
                    if service == "s3":
                        services[service] = walk.value()
                    else:
                        walk.skip()
            partitions.append(partition)
    return table


def slim_s3_model(text: str) -> dict[str, Any]:
    """The S3 service model with only :data:`OPERATIONS`, the shapes they reach, and no
    documentation (read by botocore only to write docstrings). Walked twice: first for the
    operations and which shapes each shape names, then for the shapes reached."""
    walk, model = JsonWalk(text), {}
    operations: dict[str, Any] = {}
    names: dict[str, list[str]] = {}
    for key in walk.members():
        if key == "operations":
            for name in walk.members():
                if name in OPERATIONS:
                    operations[name] = _undocumented(walk.value())
                else:
                    walk.skip()
        elif key == "shapes":
            for name in walk.members():
                names[name] = _shapes_named(walk.value())
        elif key == "documentation":
            walk.skip()
        else:
            model[key] = walk.value()
    wanted: list[str] = []
    for op in operations.values():
        wanted += [op[part]["shape"] for part in ("input", "output") if part in op]
        wanted += [error["shape"] for error in op.get("errors", [])]
    kept: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name not in kept:
            kept.add(name)
            wanted += names[name]
    walk = JsonWalk(text)
    shapes: dict[str, Any] = {}
    for key in walk.members():
        if key != "shapes":
            walk.skip()
            continue
        for name in walk.members():
            if name in kept:
                shapes[name] = _undocumented(walk.value())
            else:
                walk.skip()
    model["operations"] = operations
    model["shapes"] = shapes
    return model


def _shapes_named(shape: dict[str, Any]) -> list[str]:
    named = [member["shape"] for member in shape.get("members", {}).values()]
    return named + [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]


def _undocumented(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if k not in {"documentation", "documentationUrl"}}
    if isinstance(out.get("members"), dict):
        out["members"] = {
            name: {k: v for k, v in member.items() if k != "documentation"}
            for name, member in out["members"].items()
        }
    return out


def _return_freed_memory() -> None:
    """The data files' text (1 to 3 MB each, read and decoded) is freed once the client is
    made, but glibc keeps blocks that large in the process once its threshold for mapping them
    apart has risen with the first one freed: 2.5 MB here until asked to give them back."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its malloc decides
        ctypes.CDLL(None).malloc_trim(0)


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
        _return_freed_memory()

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
