"""The local AWS endpoint (tests/servers/aws.py), exercised over real HTTP with boto3.

Also records what moto 5.2 itself does for the behaviours the connector relies on, so a moto upgrade that changes
them fails here first.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from tests.servers.aws import (
    DEFAULT_ACCOUNT,
    AwsEndpoint,
    RequestRecord,
    seed_bucket,
    seed_db_instance,
    seed_global_table,
    seed_kms_key,
    seed_organization,
    seed_table,
    seed_volume,
)

ONE_ATTEMPT = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)


@pytest.fixture
def aws(aws_endpoint: AwsEndpoint) -> AwsEndpoint:
    """The shared endpoint reset, without conftest's AWS_ environment: these tests configure their clients."""
    aws_endpoint.reset()
    return aws_endpoint


@pytest.fixture
def seed(aws: AwsEndpoint) -> boto3.Session:
    """Writes go straight to moto, so they never show up in the proxy's log."""
    return aws.session(direct=True)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    resp: dict[str, Any] = exc.value.response
    return resp["Error"]["Code"], resp["Error"].get("Message", ""), resp["ResponseMetadata"]["HTTPStatusCode"]


# -- transport -----------------------------------------------------------------------------------------------------


def test_s3_uses_path_style_and_every_region_reaches_the_same_moto(aws: AwsEndpoint) -> None:
    s3_eu = aws.client("s3", "eu-west-1")
    s3_eu.create_bucket(Bucket="harness-path", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3_eu.put_object(Bucket="harness-path", Key="a/b.txt", Body=b"x" * 5000)
    assert s3_eu.get_object(Bucket="harness-path", Key="a/b.txt")["Body"].read() == b"x" * 5000
    head = s3_eu.head_bucket(Bucket="harness-path")
    assert head["BucketRegion"] == "eu-west-1"

    log = aws.requests
    # Path-style: the bucket is the first path segment, never a Host prefix.
    assert log[0] == RequestRecord("s3", "eu-west-1", "CreateBucket", "PUT", "/harness-path")
    assert [r.action for r in log] == ["CreateBucket", "PutObject", "GetObject", "HeadBucket"]
    assert all(r.path.startswith("/harness-path") for r in log)
    # The signing region (not the URL) selects moto's per-region state.
    assert aws.client("rds", "eu-west-1").describe_db_instances()["DBInstances"] == []
    assert aws.requests[-1].region == "eu-west-1"


def test_keep_alive_reuses_one_connection(aws: AwsEndpoint) -> None:
    sts = aws.client("sts")
    for _ in range(5):
        sts.get_caller_identity()
    assert aws.counts[("sts", "GetCallerIdentity")] == 5
    assert aws.connections_accepted == 1


def test_chunked_request_bodies_are_forwarded(aws: AwsEndpoint, seed: boto3.Session) -> None:
    seed_bucket(seed, "chunked", "us-east-1", sse=None)
    conn = http.client.HTTPConnection(urlsplit(aws.url).netloc, timeout=10)
    auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    headers = {"Authorization": auth, "Transfer-Encoding": "chunked", "Expect": "100-continue"}
    conn.request("PUT", "/chunked/k", body=iter([b"abc", b"def" * 1000]), headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 200
    assert seed.client("s3").get_object(Bucket="chunked", Key="k")["Body"].read() == b"abc" + b"def" * 1000
    assert aws.requests[-1].action == "PutObject"


def test_child_process_env_reaches_the_proxy_and_ignores_the_users_aws_config(
    aws: AwsEndpoint, seed: boto3.Session, tmp_path: Any
) -> None:
    seed_bucket(seed, "child-visible", "ap-southeast-2")
    base = {
        **os.environ,
        "AWS_PROFILE": "does-not-exist",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
        "HOME": str(tmp_path),
    }
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = sa-east-1\nendpoint_url = http://127.0.0.1:9\n")
    code = (
        "import boto3, json; s = boto3.Session(); "
        "print(json.dumps([s.region_name, s.client('s3').list_buckets()['Buckets'][0]['BucketRegion']]))"
    )
    env = aws.env(base)
    assert "AWS_PROFILE" not in env and "AWS_ENDPOINT_URL_S3" not in env
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(out.stdout) == ["us-east-1", "ap-southeast-2"]
    assert aws.counts[("s3", "ListBuckets")] == 1


# -- S3 ListBuckets --------------------------------------------------------------------------------------------------


@pytest.fixture
def four_buckets(seed: boto3.Session) -> dict[str, str]:
    """Bucket → the region ListBuckets must report. "EU" is the legacy alias of eu-west-1."""
    expected = {"b-use1": "us-east-1", "b-eu-alias": "eu-west-1", "b-euw1": "eu-west-1", "b-apse2": "ap-southeast-2"}
    seed_bucket(seed, "b-use1", "us-east-1")
    seed_bucket(seed, "b-eu-alias", "EU")
    seed_bucket(seed, "b-euw1", "eu-west-1")
    seed_bucket(seed, "b-apse2", "ap-southeast-2")
    return expected


def test_list_buckets_reports_bucket_region(aws: AwsEndpoint, four_buckets: dict[str, str]) -> None:
    resp = aws.client("s3").list_buckets()
    assert {b["Name"]: b["BucketRegion"] for b in resp["Buckets"]} == four_buckets
    assert [b["Name"] for b in resp["Buckets"]] == sorted(four_buckets)  # real S3 lists by name
    assert "ContinuationToken" not in resp
    assert resp["Owner"]["ID"]


def test_get_bucket_location_keeps_the_legacy_spellings(aws: AwsEndpoint, four_buckets: dict[str, str]) -> None:
    s3 = aws.client("s3")
    locations = {name: s3.get_bucket_location(Bucket=name)["LocationConstraint"] for name in four_buckets}
    assert locations == {"b-use1": None, "b-eu-alias": "EU", "b-euw1": "eu-west-1", "b-apse2": "ap-southeast-2"}
    assert aws.counts[("s3", "GetBucketLocation")] == 4


def test_moto_accepts_eu_only_from_us_east_1(seed: boto3.Session) -> None:
    with pytest.raises(ClientError) as exc:
        seed.client("s3", region_name="eu-west-1").create_bucket(
            Bucket="eu-from-eu", CreateBucketConfiguration={"LocationConstraint": "EU"}
        )
    assert error_of(exc)[0] == "IllegalLocationConstraintException"


def test_list_buckets_pages_with_max_buckets(aws: AwsEndpoint, seed: boto3.Session) -> None:
    names = [f"page-{i}" for i in range(5)]
    for i, name in enumerate(names):
        seed_bucket(seed, name, ["us-east-1", "eu-west-1", "ap-southeast-2"][i % 3], sse=None)
    s3 = aws.client("s3")
    seen: list[str] = []
    sizes = []
    kwargs: dict[str, Any] = {"MaxBuckets": 2}
    while True:
        resp = s3.list_buckets(**kwargs)
        sizes.append(len(resp["Buckets"]))
        seen += [b["Name"] for b in resp["Buckets"]]
        assert all("BucketRegion" in b for b in resp["Buckets"])
        if "ContinuationToken" not in resp:
            break
        kwargs["ContinuationToken"] = resp["ContinuationToken"]
    assert sizes == [2, 2, 1]
    assert seen == names

    paged = [
        b["Name"]
        for p in s3.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 2})
        for b in p["Buckets"]
    ]
    assert paged == names
    assert aws.counts[("s3", "ListBuckets")] == 6

    with pytest.raises(ClientError) as exc:
        s3.list_buckets(MaxBuckets=2, ContinuationToken="%%%not-a-token")
    assert error_of(exc)[0] == "InvalidArgument"


def test_list_buckets_bucket_region_filter_and_prefix(aws: AwsEndpoint, four_buckets: dict[str, str]) -> None:
    s3 = aws.client("s3")
    eu = s3.list_buckets(BucketRegion="eu-west-1")["Buckets"]
    assert [b["Name"] for b in eu] == ["b-eu-alias", "b-euw1"]
    first = s3.list_buckets(BucketRegion="eu-west-1", MaxBuckets=1)
    assert [b["Name"] for b in first["Buckets"]] == ["b-eu-alias"] and first["ContinuationToken"]
    resp = s3.list_buckets(Prefix="b-eu")
    assert [b["Name"] for b in resp["Buckets"]] == ["b-eu-alias", "b-euw1"]
    assert resp["Prefix"] == "b-eu"


def test_bucket_region_injection_can_be_switched_off(aws: AwsEndpoint, four_buckets: dict[str, str]) -> None:
    aws.list_buckets_region = False
    s3 = aws.client("s3")
    resp = s3.list_buckets()
    assert [b["Name"] for b in resp["Buckets"]] == sorted(four_buckets)
    assert all("BucketRegion" not in b for b in resp["Buckets"])
    # Paging stays real S3's; only the region is missing, as from an S3-compatible store or an older API.
    assert len(s3.list_buckets(MaxBuckets=3)["Buckets"]) == 3


def test_head_bucket_reports_a_region_code_for_eu_buckets(aws: AwsEndpoint, four_buckets: dict[str, str]) -> None:
    # moto answers "EU" here; the proxy rewrites it to the region code real S3 sends.
    assert aws.client("s3").head_bucket(Bucket="b-eu-alias")["BucketRegion"] == "eu-west-1"


def test_s3_region_redirects_are_followed_by_boto3(aws: AwsEndpoint, seed: boto3.Session) -> None:
    seed_bucket(seed, "far-away", "ap-southeast-2", tags={"k": "v"})
    s3 = aws.client("s3")
    s3.get_bucket_tagging(Bucket="far-away")
    assert aws.counts[("s3", "GetBucketTagging")] == 1  # off by default: moto serves any bucket from any region
    aws.s3_region_redirects = True
    s3 = aws.client("s3")
    resp = s3.get_bucket_tagging(Bucket="far-away")
    assert resp["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    s3.get_bucket_tagging(Bucket="far-away")  # botocore caches the bucket's region after one redirect
    assert [r.region for r in aws.requests[1:]] == ["us-east-1", "ap-southeast-2", "ap-southeast-2"]
    assert s3.get_bucket_location(Bucket="far-away")["LocationConstraint"] == "ap-southeast-2"
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket="no-such-bucket")
    assert error_of(exc)[0] == "NoSuchBucket"


def test_bucket_region_in_member_accounts(aws: AwsEndpoint, seed: boto3.Session) -> None:
    (member,) = seed_organization(seed, ["dev"])
    seed_bucket(aws.member_session(member, direct=True), "member-bucket", "eu-central-1")
    buckets = aws.member_session(member).client("s3").list_buckets()["Buckets"]
    assert [(b["Name"], b["BucketRegion"]) for b in buckets] == [("member-bucket", "eu-central-1")]


# -- DynamoDB, KMS ---------------------------------------------------------------------------------------------------


def test_dynamodb_replicas_are_reported_where_declared(aws: AwsEndpoint, seed: boto3.Session) -> None:
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    seed_global_table(aws, seed, "orders", regions)
    seed_table(seed, "local-only", "us-east-1")
    aws.dynamodb_replicas[("us-east-1", "local-only")] = [{"RegionName": "sa-east-1", "ReplicaStatus": "CREATING"}]

    for region in regions:
        table = aws.client("dynamodb", region).describe_table(TableName="orders")["Table"]
        assert table["Replicas"] == [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in regions if r != region]
        assert table["GlobalTableVersion"] == "2019.11.21"
        assert f":{region}:" in table["TableArn"]
    ddb = aws.client("dynamodb")
    assert ddb.describe_table(TableName="local-only")["Table"]["Replicas"][0]["ReplicaStatus"] == "CREATING"
    del aws.dynamodb_replicas[("us-east-1", "local-only")]
    assert "Replicas" not in ddb.describe_table(TableName="local-only")["Table"]
    # The CRC32 header is rewritten with the body; a mismatch would make botocore retry.
    assert aws.counts[("dynamodb", "DescribeTable")] == 5


def test_moto_ignores_dynamodb_replica_updates(seed: boto3.Session) -> None:
    seed_table(seed, "t", "us-east-1")
    ddb = seed.client("dynamodb", region_name="us-east-1")
    ddb.update_table(TableName="t", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    assert "Replicas" not in ddb.describe_table(TableName="t")["Table"]


def test_kms_key_origin(aws: AwsEndpoint, seed: boto3.Session) -> None:
    # moto accepts EXTERNAL_KEY_STORE without the CustomKeyStoreId/XksKeyId real KMS requires, and reports no store.
    xks = seed_kms_key(seed, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    meta = aws.client("kms", "eu-west-1").describe_key(KeyId=xks)["KeyMetadata"]
    assert meta["Origin"] == "EXTERNAL_KEY_STORE" and "CustomKeyStoreId" not in meta

    plain = seed_kms_key(seed, "eu-west-1", alias="plain")
    key_id = plain.rsplit("/", 1)[-1]
    kms = aws.client("kms", "eu-west-1")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Origin"] == "AWS_KMS"
    aws.kms_origin_override[key_id] = "EXTERNAL_KEY_STORE"
    for ref in (key_id, plain, "alias/plain"):
        meta = kms.describe_key(KeyId=ref)["KeyMetadata"]
        assert meta["Origin"] == "EXTERNAL_KEY_STORE"
        assert meta["CustomKeyStoreId"].startswith("cks-")
        assert meta["XksKeyConfiguration"]["Id"]
    assert seed.client("kms", region_name="eu-west-1").describe_key(KeyId=key_id)["KeyMetadata"]["Origin"] == "AWS_KMS"


# -- faults, counts, latency -----------------------------------------------------------------------------------------


def test_access_denied_in_one_region_only(aws: AwsEndpoint, seed: boto3.Session) -> None:
    seed_db_instance(seed, "pg-eu", "eu-west-1")
    fault = aws.add_fault("rds", "eu-west-1", "DescribeDBInstances", code="AccessDenied", message="not here")
    with pytest.raises(ClientError) as exc:
        aws.client("rds", "eu-west-1").describe_db_instances()
    assert error_of(exc) == ("AccessDenied", "not here", 403)
    assert aws.client("rds", "us-east-1").describe_db_instances()["DBInstances"] == []
    assert aws.client("rds", "eu-west-1").describe_db_clusters()["DBClusters"] == []
    assert fault.hits == 1  # boto3 does not retry a 403
    aws.clear_faults()
    assert len(aws.client("rds", "eu-west-1").describe_db_instances()["DBInstances"]) == 1


FAULT_SHAPES = [
    ("s3", "GetBucketEncryption", 403, "AccessDenied", lambda c: c.get_bucket_encryption(Bucket="any")),
    ("s3", "ListBuckets", 403, "AccessDenied", lambda c: c.list_buckets()),
    ("ec2", "DescribeVolumes", 403, "UnauthorizedOperation", lambda c: c.describe_volumes()),
    ("rds", "DescribeDBClusters", 403, "AccessDenied", lambda c: c.describe_db_clusters()),
    ("sts", "GetCallerIdentity", 403, "AccessDenied", lambda c: c.get_caller_identity()),
    ("organizations", "ListAccounts", 400, "AWSOrganizationsNotInUseException", lambda c: c.list_accounts()),
    ("kms", "ListKeys", 400, "AccessDeniedException", lambda c: c.list_keys()),
    ("dynamodb", "ListTables", 400, "AccessDeniedException", lambda c: c.list_tables()),
]


@pytest.mark.parametrize(
    ("service", "action", "status", "code", "call"), FAULT_SHAPES, ids=[f[1] for f in FAULT_SHAPES]
)
def test_fault_errors_parse_in_each_protocol(
    aws: AwsEndpoint, service: str, action: str, status: int, code: str, call: Any
) -> None:
    aws.add_fault(service, action=action, status=status, code=code, message="injected <&> message")
    with pytest.raises(ClientError) as exc:
        call(aws.client(service, config=ONE_ATTEMPT))
    assert error_of(exc) == (code, "injected <&> message", status)
    assert aws.counts[(service, action)] == 1


@pytest.mark.parametrize(("service", "call"), [("s3", "list_buckets"), ("rds", "describe_db_instances")])
def test_a_single_503_is_retried_by_boto3(aws: AwsEndpoint, service: str, call: str) -> None:
    fault = aws.add_fault(service, status=503, code="ServiceUnavailable", times=1)
    resp = getattr(aws.client(service), call)()
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    assert fault.hits == 1
    assert sum(n for (svc, _), n in aws.counts.items() if svc == service) == 2


def test_connection_reset(aws: AwsEndpoint) -> None:
    aws.add_fault("sts", mode="reset", times=1)
    assert aws.client("sts").get_caller_identity()["ResponseMetadata"]["RetryAttempts"] == 1
    aws.add_fault("sts", mode="reset")
    with pytest.raises(ConnectionClosedError):
        aws.client("sts", config=ONE_ATTEMPT).get_caller_identity()


def test_hung_request_times_out(aws: AwsEndpoint) -> None:
    aws.add_fault("dynamodb", "eu-west-1", "ListTables", mode="timeout")
    quick = Config(retries={"total_max_attempts": 1}, read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        aws.client("dynamodb", "eu-west-1", config=quick).list_tables()
    assert time.monotonic() - started < 3
    assert aws.client("dynamodb", "us-east-1", config=quick).list_tables()["TableNames"] == []


def test_truncated_body(aws: AwsEndpoint) -> None:
    # DynamoDB's CRC32 header exposes the cut and botocore retries; other protocols fail to parse, unretried.
    aws.add_fault("dynamodb", action="ListTables", mode="truncate", times=1)
    assert aws.client("dynamodb").list_tables()["ResponseMetadata"]["RetryAttempts"] == 1
    aws.add_fault("ec2", action="DescribeVolumes", mode="truncate")
    with pytest.raises(ResponseParserError):
        aws.client("ec2").describe_volumes()
    assert aws.counts[("ec2", "DescribeVolumes")] == 1
    aws.add_fault("s3", action="ListBuckets", mode="truncate")
    # botocore turns a cut-off S3 200 body into a retryable 500 InternalError.
    with pytest.raises(ClientError) as exc:
        aws.client("s3", config=ONE_ATTEMPT).list_buckets()
    assert error_of(exc)[2] == 500


def test_counts_and_log_are_snapshots(aws: AwsEndpoint, seed: boto3.Session) -> None:
    seed_volume(seed, "eu-west-1")
    seed_volume(seed, "ap-southeast-2")
    assert aws.requests == []  # seeding bypasses the proxy
    assert len(aws.client("ec2", "eu-west-1").describe_volumes()["Volumes"]) == 1
    assert len(aws.client("ec2", "ap-southeast-2").describe_volumes()["Volumes"]) == 1
    aws.client("kms").list_keys()
    assert aws.counts == {("ec2", "DescribeVolumes"): 2, ("kms", "ListKeys"): 1}
    assert [(r.service, r.region, r.action, r.method) for r in aws.requests] == [
        ("ec2", "eu-west-1", "DescribeVolumes", "POST"),
        ("ec2", "ap-southeast-2", "DescribeVolumes", "POST"),
        ("kms", "us-east-1", "ListKeys", "POST"),
    ]
    snapshot = aws.counts
    snapshot.clear()
    assert aws.counts[("kms", "ListKeys")] == 1
    aws.clear_log()
    assert aws.requests == [] and not aws.counts


def test_concurrent_requests_are_all_counted(aws: AwsEndpoint) -> None:
    sts = aws.client("sts")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: sts.get_caller_identity(), range(40)))
    assert aws.counts[("sts", "GetCallerIdentity")] == 40


def test_latency_is_added_to_every_request(aws: AwsEndpoint) -> None:
    sts = aws.client("sts")
    sts.get_caller_identity()
    started = time.monotonic()
    sts.get_caller_identity()
    baseline = time.monotonic() - started
    aws.latency = 0.15
    started = time.monotonic()
    sts.get_caller_identity()
    sts.get_caller_identity()
    assert time.monotonic() - started >= 0.3
    assert baseline < 0.15


def test_reset_restores_a_fresh_endpoint(aws: AwsEndpoint, seed: boto3.Session) -> None:
    seed_bucket(seed, "gone-after-reset", "us-east-1")
    aws.add_fault("s3")
    aws.latency = 0.01
    aws.list_buckets_region = False
    aws.dynamodb_replicas[("us-east-1", "x")] = ["eu-west-1"]
    aws.reset()
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.latency == 0 and aws.list_buckets_region and not aws.dynamodb_replicas
    assert aws.counts == {("s3", "ListBuckets"): 1}


# -- what moto itself does for the estate the connector reads ---------------------------------------------------------


def test_seeded_bucket_configuration_is_readable_through_the_proxy(aws: AwsEndpoint, seed: boto3.Session) -> None:
    key = seed_kms_key(seed, "eu-west-1")
    seed_bucket(seed, "src", "eu-west-1", replicate_to=["us-east-1", "ap-southeast-2"], sse="aws:kms", kms_key_arn=key)
    seed_bucket(seed, "tagged", "us-east-1", sse=None, tags={"residency:client-side": "true"})
    s3 = aws.client("s3", "eu-west-1")
    rules = s3.get_bucket_replication(Bucket="src")["ReplicationConfiguration"]["Rules"]
    assert sorted(r["Destination"]["Bucket"] for r in rules) == [
        "arn:aws:s3:::src-ap-southeast-2",
        "arn:aws:s3:::src-us-east-1",
    ]
    sse = s3.get_bucket_encryption(Bucket="src")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "residency:client-side", "Value": "true"}]
    # Real S3 has encrypted every bucket with SSE-S3 by default since January 2023; moto reports no configuration.
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_encryption(Bucket="tagged")
    assert error_of(exc)[0] == "ServerSideEncryptionConfigurationNotFoundError"
    regions = {b["Name"]: b["BucketRegion"] for b in s3.list_buckets()["Buckets"]}
    assert regions == {
        "src": "eu-west-1",
        "src-us-east-1": "us-east-1",
        "src-ap-southeast-2": "ap-southeast-2",
        "tagged": "us-east-1",
    }
    actions = [r.action for r in aws.requests]
    assert actions[:3] == ["GetBucketReplication", "GetBucketEncryption", "GetBucketTagging"]


def test_rds_cross_region_read_replica(aws: AwsEndpoint, seed: boto3.Session) -> None:
    source_arn = seed_db_instance(seed, "pg", "eu-west-1", replica_regions=["us-east-1"])
    assert source_arn == f"arn:aws:rds:eu-west-1:{DEFAULT_ACCOUNT}:db:pg"
    (source,) = aws.client("rds", "eu-west-1").describe_db_instances()["DBInstances"]
    (replica,) = aws.client("rds", "us-east-1").describe_db_instances()["DBInstances"]
    # Cross-region links are ARNs in both directions, as in real RDS.
    assert source["ReadReplicaDBInstanceIdentifiers"] == [f"arn:aws:rds:us-east-1:{DEFAULT_ACCOUNT}:db:pg-us-east-1"]
    assert "ReadReplicaSourceDBInstanceIdentifier" not in source
    assert replica["DBInstanceIdentifier"] == "pg-us-east-1"
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == source_arn
    assert replica["ReadReplicaDBInstanceIdentifiers"] == []
    # moto would keep the source's availability zone (eu-west-1a): the seed names one of the replica's own region
    assert replica["AvailabilityZone"] == "us-east-1a"


def test_organization_member_accounts_are_isolated(aws: AwsEndpoint, seed: boto3.Session) -> None:
    dev, prod = seed_organization(seed, ["dev", "prod"])
    assert len({dev, prod, DEFAULT_ACCOUNT}) == 3
    accounts = aws.client("organizations").list_accounts()["Accounts"]
    assert {a["Id"] for a in accounts} == {dev, prod, DEFAULT_ACCOUNT}
    assert all(a["Status"] == "ACTIVE" for a in accounts)

    seed_bucket(seed, "mgmt-bucket", "us-east-1")
    for account in (dev, prod):
        member = aws.member_session(account, direct=True)
        assert member.client("sts").get_caller_identity()["Account"] == account
        seed_bucket(member, f"{account}-bucket", "eu-west-1")
        seed_table(member, "shared-name", "eu-west-1")
    for account in (dev, prod):
        member = aws.member_session(account)
        assert [b["Name"] for b in member.client("s3").list_buckets()["Buckets"]] == [f"{account}-bucket"]
        arn = member.client("dynamodb", region_name="eu-west-1").describe_table(TableName="shared-name")["Table"]
        assert f":{account}:" in arn["TableArn"]
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["mgmt-bucket"]
    assert aws.client("dynamodb", "eu-west-1").list_tables()["TableNames"] == []


def test_moto_describe_regions_ignores_all_regions(aws: AwsEndpoint) -> None:
    ec2 = aws.client("ec2")
    opted_in = ec2.describe_regions()["Regions"]
    assert len(ec2.describe_regions(AllRegions=True)["Regions"]) == len(opted_in)
