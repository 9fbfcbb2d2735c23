"""The S3 client keeps only the models its requests need: botocore's table of every AWS
endpoint and the whole S3 model (12 MB decoded, kept by every web process for its life) are
cut to S3's endpoints and the operations S3Storage sends (docs/performance.md, "Memory under
load"). Each request kind still works against an S3 API server, and the client finds AWS's
own endpoints as a stock boto3 client does."""

from __future__ import annotations

import gc
import gzip
import io
import json
import tracemalloc
import uuid
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.config import Config

from core.storage import tenant_key
from core.storage.s3 import OPERATIONS, S3Storage, slim_endpoints, slim_s3_model
from tests.servers import S3Server


@pytest.fixture
def aws_env(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_every_request_kind_works_against_an_s3_server(s3_server: S3Server, aws_env) -> None:
    bucket = "govhall-" + uuid.uuid4().hex[:8]
    boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket=bucket)
    storage = S3Storage(bucket, s3_server.url)
    storage.check()  # HeadBucket
    tenant = uuid.uuid4()
    small = tenant_key(tenant, "materials", "small.pdf")
    assert storage.put(small, io.BytesIO(b"%PDF-1.4\n" + b"0" * 5000), "application/pdf").size
    # above 8 MB an upload goes in parts: CreateMultipartUpload, UploadPart, Complete...
    large = tenant_key(tenant, "materials", "large.pdf")
    data = b"%PDF-1.4\n" + bytes(9 * 1024 * 1024)
    assert storage.put(large, io.BytesIO(data), "application/pdf").size == len(data)
    assert storage.read(large) == data  # GetObject
    assert storage.stat(small).content_type == "application/pdf"  # HeadObject
    assert {o.key for o in storage.list(f"t/{tenant}/")} == {small, large}  # ListObjectsV2
    storage.delete(small)  # DeleteObject
    assert storage.stat(small) is None
    assert [o.key for o in storage.list(f"t/{tenant}/")] == [large]


def test_the_client_keeps_only_s3s_endpoints_and_the_operations_it_sends(aws_env) -> None:
    client = S3Storage("b", "http://127.0.0.1:9").client
    assert set(client.meta.service_model.operation_names) == OPERATIONS
    shapes = client.meta.service_model.shape_names
    assert "PutObjectRequest" in shapes and "PutBucketPolicyRequest" not in shapes
    assert client.meta.service_model.operation_model("PutObject").documentation == ""
    # what the client's endpoint resolver was made from: S3's entries of each partition
    table = client._loader.load_data("endpoints")
    assert {p["partition"] for p in table["partitions"]} >= {"aws", "aws-cn", "aws-us-gov"}
    assert {name for p in table["partitions"] for name in p["services"]} == {"s3"}


def test_the_files_walked_value_by_value_read_as_decoded_whole() -> None:
    """The endpoints table and the S3 model are read one value at a time (decoding them whole
    and dropping most left 2 MB behind): what is kept is what whole decoding gives."""
    data = Path(botocore.__file__).parent / "data"
    text = (data / "endpoints.json").read_text(encoding="utf-8")
    whole = json.loads(text)
    for partition in whole["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k == "s3"}
    assert slim_endpoints(text) == whole
    [model_file] = (data / "s3").glob("*/service-2.json*")
    raw = model_file.read_bytes()
    text = (gzip.decompress(raw) if model_file.suffix == ".gz" else raw).decode("utf-8")
    whole = json.loads(text)
    slim = slim_s3_model(text)
    assert set(slim["operations"]) == OPERATIONS
    assert slim["metadata"] == whole["metadata"]
    for name, shape in slim["shapes"].items():
        assert {k: v for k, v in shape.items() if k not in {"documentation", "members"}} == {
            k: v for k, v in whole["shapes"][name].items() if k not in {"documentation", "members"}
        }
        for member, spec in shape.get("members", {}).items():
            assert spec["shape"] == whole["shapes"][name]["members"][member]["shape"]
    assert "PutObjectOutput" in slim["shapes"] and "Bucket" not in slim["shapes"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "ap-southeast-1", "cn-north-1"])
def test_aws_endpoints_are_found_as_a_stock_client_finds_them(monkeypatch, aws_env, region) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    ours = S3Storage("govhall-materials").client
    config = Config(s3={"addressing_style": "path"})
    stock = boto3.session.Session().client("s3", region_name=region, config=config)
    assert ours.meta.endpoint_url == stock.meta.endpoint_url
    assert ours.meta.region_name == stock.meta.region_name
    assert ours.meta.partition == stock.meta.partition
    request = {"Bucket": "govhall-materials", "Key": "t/x/materials/a.pdf"}
    assert (
        ours.generate_presigned_url("get_object", Params=request).split("?")[0]
        == (stock.generate_presigned_url("get_object", Params=request).split("?")[0])
    )


def test_making_the_client_keeps_little_memory(aws_env) -> None:
    S3Storage("b", "http://127.0.0.1:9")  # the modules are imported: only the client counts
    gc.collect()
    tracemalloc.start()
    try:
        storage = S3Storage("b", "http://127.0.0.1:9")
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert storage.client is not None
    # 13 MB with botocore's whole endpoints table and S3 model; about 1.6 MB cut
    assert kept < 4 * 1024 * 1024, f"{kept / 2**20:.1f} MB"
