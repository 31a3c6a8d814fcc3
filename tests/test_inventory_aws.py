"""The Resource Explorer and AWS Config engines against their stand-ins (tests/servers/aws_inventory.py).

Real boto3 clients, built the way a scan builds them (the connector's account object: retries, timeouts and the
malformed-JSON check), over real HTTP to the AWS test endpoint; the stand-ins index moto's own state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from residency_audit.clouds.aws import Account, AwsOptions, describe_error
from residency_audit.inventory import aws_config, resource_explorer
from residency_audit.inventory.records import Blind, Counted, Listed

from .conftest import invoke_json, isolate_env
from .servers.aws import (
    DEFAULT_ACCOUNT,
    AwsEndpoint,
    seed_bucket,
    seed_db_instance,
    seed_organization,
    seed_table,
    seed_volume,
)

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]
DATA_TYPES = [
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::EC2::Snapshot",
]


@dataclass
class Estate:
    """The organization, seeded once for the module (tests change only the engines' set-up and faults)."""

    endpoint: AwsEndpoint
    accounts: list[str]
    walked: dict[str, Any]  # the walk's report of it: what every engine scan must also assess
    volume: str
    snapshot: str


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    """Management account plus two members; data in two accounts, one member empty."""
    with AwsEndpoint() as ep, pytest.MonkeyPatch.context() as mp:
        ep.reset()  # moto's backends live in this process: other modules' endpoints leave their resources behind
        isolate_env(mp, ["AWS_"], ep.env({}))
        s = ep.session(direct=True)
        members = seed_organization(s, ["finance", "empty"])
        seed_bucket(s, "mgmt-logs", "eu-west-1")
        seed_table(s, "orders", "eu-central-1")
        volume = seed_volume(s, "eu-central-1")
        snapshot = s.client("ec2", region_name="eu-central-1").create_snapshot(VolumeId=volume)["SnapshotId"]
        finance = ep.member_session(members[0], direct=True)
        seed_bucket(finance, "finance-ledger", "us-east-1")
        seed_db_instance(finance, "ledger-db", "eu-west-1")
        code, walked, err = scan()
        assert code == 0 and len(walked["resources"]) == 5, err
        yield Estate(ep, [DEFAULT_ACCOUNT, *members], walked, volume, snapshot)


@pytest.fixture
def aws(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> AwsEndpoint:
    """The module's estate with no engine set up, no fault, an empty log, and a queue no store reads."""
    ep = estate.endpoint
    ep.clear_faults()
    ep.inventory.reset()
    finance = estate.accounts[1]
    ep.inventory.add(finance, "eu-west-1", "sqs:queue", "AWS::SQS::Queue", f"arn:aws:sqs:eu-west-1:{finance}:jobs")
    isolate_env(monkeypatch, ["AWS_"], ep.env({}))
    ep.clear_log()
    return ep


@pytest.fixture
def org(aws: AwsEndpoint, estate: Estate) -> list[str]:
    return estate.accounts


@pytest.fixture
def walked(aws: AwsEndpoint, estate: Estate) -> dict[str, Any]:
    return estate.walked


def clients(ep: AwsEndpoint, max_attempts: int = 3) -> Any:
    options = AwsOptions(max_attempts=max_attempts, timeout=5)
    return Account(DEFAULT_ACCOUNT, ep.session(), "aws", options).client


def explore(ep: AwsEndpoint, accounts: list[str], **kw: Any) -> tuple[list[Listed], list[Blind]]:
    out = list(
        resource_explorer.search(clients(ep, **kw), "us-east-1", DEFAULT_ACCOUNT, accounts, REGIONS, describe_error)
    )
    return [f for f in out if isinstance(f, Listed)], [b for b in out if isinstance(b, Blind)]


def config(
    ep: AwsEndpoint, accounts: list[str], spec: str = "org", **kw: Any
) -> tuple[list[Listed], list[Counted], list[Blind]]:
    out = list(aws_config.search(clients(ep, **kw), "us-east-1", spec, accounts, REGIONS, DATA_TYPES, describe_error))
    return (
        [f for f in out if isinstance(f, Listed)],
        [c for c in out if isinstance(c, Counted)],
        [b for b in out if isinstance(b, Blind)],
    )


# --- Resource Explorer ------------------------------------------------------------------------------------------


def test_resource_explorer_finds_every_account_with_requests_independent_of_accounts(
    aws: AwsEndpoint, org: list[str], estate: Estate
) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.clear_log()
    found, blind = explore(aws, org)
    assert blind == []
    names = {(f.account, f.native_type, f.name, f.location) for f in found}
    assert names == {
        (org[0], "AWS::S3::Bucket", "mgmt-logs", "eu-west-1"),
        (org[0], "AWS::DynamoDB::Table", "orders", "eu-central-1"),
        (org[1], "AWS::S3::Bucket", "finance-ledger", "us-east-1"),
        (org[1], "AWS::RDS::DBInstance", "ledger-db", "eu-west-1"),
        (org[1], "AWS::SQS::Queue", "jobs", "eu-west-1"),
        (org[0], "AWS::EC2::Volume", estate.volume, "eu-central-1"),
        (org[0], "AWS::EC2::Snapshot", estate.snapshot, "eu-central-1"),
    }
    calls = [r.action for r in aws.requests if r.service == "resource-explorer-2"]
    # one search per Region plus global; the empty member account costs nothing beyond the index listing
    assert calls.count("Search") == len(REGIONS) + 1
    assert calls.count("ListIndexesForMembers") == 1
    assert all(r.service == "resource-explorer-2" for r in aws.requests)


def test_account_region_without_an_index_is_blind(aws: AwsEndpoint, org: list[str]) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.inventory.indexes.discard((org[1], "eu-west-1"))
    found, blind = explore(aws, org)
    assert [(b.account, b.region) for b in blind] == [(org[1], "eu-west-1")]
    assert "no Resource Explorer index" in blind[0].reason
    # what that account-Region holds is not claimed found: the walk reads it
    assert "ledger-db" not in {f.name for f in found}


def test_over_the_cap_splits_by_service_type_and_account(aws: AwsEndpoint, org: list[str]) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    ddb = aws.session(direct=True).client("dynamodb", region_name="eu-central-1")
    for i in range(3):
        seed_table(aws.session(direct=True), f"t{i}", "eu-central-1")
    aws.inventory.search_cap = 2
    try:
        found, blind = explore(aws, org)
    finally:  # the estate is the module's
        for i in range(3):
            ddb.delete_table(TableName=f"t{i}")
    tables = {f.name for f in found if f.native_type == "AWS::DynamoDB::Table"}
    # four tables in one account-Region: over the cap at every level, so that scope is blind, never truncated
    assert tables == set()
    assert [(b.account, b.region, b.native_type) for b in blind] == [(org[0], "eu-central-1", "dynamodb:table")]
    assert "more than 2" not in blind[0].reason and "more than 1000" in blind[0].reason
    assert {f.name for f in found} >= {"mgmt-logs", "finance-ledger", "ledger-db", "jobs"}


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda inv: None, "no Resource Explorer aggregator index"),
        (lambda inv: setattr(inv, "view_filter", "tag:env=prod"), "filters resources"),
    ],
)
def test_unusable_setup_is_blind_for_the_organization(aws: AwsEndpoint, org: list[str], setup: Any, words: str) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region=None if words.startswith("no ") else "us-east-1")
    setup(aws.inventory)
    found, blind = explore(aws, org)
    assert found == [] and [b.scope for b in blind] == ["organization"]
    assert words in blind[0].reason


def test_account_scoped_view_is_blind_for_the_other_accounts(aws: AwsEndpoint, org: list[str]) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.inventory.view_scope = "account"
    found, blind = explore(aws, org)
    assert sorted(b.account for b in blind) == sorted(org[1:])
    assert {f.account for f in found} == {org[0]}


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"action": "Search", "status": 429, "code": "ThrottlingException", "times": 2}, "answered"),
        ({"action": "Search", "status": 500, "code": "InternalServerException", "times": 1}, "answered"),
        ({"action": "Search", "mode": "malformed", "times": 1}, "answered"),
        ({"action": "ListIndexes", "status": 403, "code": "AccessDeniedException"}, "organization"),
        ({"action": "Search", "status": 503, "code": "InternalServerException"}, "regions"),
        ({"action": "Search", "mode": "malformed"}, "regions"),
    ],
)
def test_resource_explorer_faults(aws: AwsEndpoint, org: list[str], fault: dict[str, Any], outcome: str) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.add_fault("resource-explorer-2", **fault)
    found, blind = explore(aws, org, max_attempts=3)
    if outcome == "answered":
        assert blind == [] and len(found) == 7
    elif outcome == "organization":
        assert found == [] and [b.scope for b in blind] == ["organization"]
        assert "AccessDeniedException" in blind[0].reason
    else:
        assert found == []
        assert sorted(b.region for b in blind) == sorted([*REGIONS, "global"])


# --- AWS Config ---------------------------------------------------------------------------------------------------


def test_config_lists_data_types_counts_all_and_walks_what_it_cannot_record(aws: AwsEndpoint, org: list[str]) -> None:
    aws.inventory.aggregator("org", org, REGIONS)
    aws.clear_log()
    found, counted, blind = config(aws, org)
    assert {(f.account, f.native_type, f.name) for f in found} == {
        (org[0], "AWS::S3::Bucket", "mgmt-logs"),
        (org[0], "AWS::DynamoDB::Table", "orders"),
        (org[1], "AWS::S3::Bucket", "finance-ledger"),
        (org[1], "AWS::RDS::DBInstance", "ledger-db"),
    }
    # types the scan does not read are still counted, per account and Region
    assert Counted(aws_config.Provider.AWS, "config:org", org[1], "eu-west-1", "AWS::SQS::Queue", 1) in counted
    # Config records no EBS snapshots: that type is blind everywhere (the walk reads it), and said so
    assert [(b.scope, b.native_type) for b in blind] == [("type/AWS::EC2::Snapshot", "AWS::EC2::Snapshot")]
    calls = [r.action for r in aws.requests]
    assert calls.count("SelectAggregateResourceConfig") == 2 and len(calls) == 4


def test_config_blind_spots(aws: AwsEndpoint, org: list[str]) -> None:
    recording = {(a, r) for a in org for r in REGIONS} - {(org[2], "eu-west-1")}
    aws.inventory.aggregator("org", org, REGIONS[:2], recording=recording)
    aws.inventory.source_status[(aws_config_org(), "us-east-1")] = ("FAILED", "AccessDenied", "role not assumable")
    _, _, blind = config(aws, org)
    by_scope = {(b.account, b.region): b.reason for b in blind if b.account}
    for account in org:
        assert "does not cover" in by_scope[(account, "eu-central-1")]
        assert "FAILED" in by_scope[(account, "us-east-1")] and "role not assumable" in by_scope[(account, "us-east-1")]
    assert "not recording" in by_scope[(org[2], "eu-west-1")]
    assert (org[0], "eu-west-1") not in by_scope


def aws_config_org() -> str:
    from .servers.aws_inventory import ORG_ID

    return ORG_ID


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"action": "SelectAggregateResourceConfig", "status": 400, "code": "ThrottlingException", "times": 2}, True),
        ({"action": "SelectAggregateResourceConfig", "status": 500, "code": "InternalFailure", "times": 1}, True),
        ({"action": "SelectAggregateResourceConfig", "mode": "malformed", "times": 1}, True),
        ({"action": "DescribeConfigurationAggregators", "status": 400, "code": "AccessDeniedException"}, False),
        ({"action": "SelectAggregateResourceConfig", "status": 503, "code": "ServiceUnavailable"}, False),
    ],
)
def test_config_faults(aws: AwsEndpoint, org: list[str], fault: dict[str, Any], outcome: bool) -> None:
    aws.inventory.aggregator("org", org, REGIONS)
    aws.add_fault("config", **fault)
    found, _, blind = config(aws, org)
    if outcome:
        assert len(found) == 4 and [b.native_type for b in blind] == ["AWS::EC2::Snapshot"]
    else:
        assert found == [] and [b.scope for b in blind] == ["organization"]


def test_unknown_aggregator_is_blind_with_its_name(aws: AwsEndpoint, org: list[str]) -> None:
    found, counted, blind = config(aws, org, spec="nope@us-east-1")
    assert found == [] and counted == []
    assert [b.scope for b in blind] == ["organization"] and "NoSuchConfigurationAggregatorException" in blind[0].reason


# --- the scan: the engine says where, the walk reads there --------------------------------------------------------


def scan(*args: str) -> tuple[int, dict[str, Any], str]:
    regions = [a for r in REGIONS for a in ("--region", r)]
    return invoke_json(["scan", "--format", "json", "--org", *regions, *args])


def comparable(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((r["id"], r["account"], r["key_control"], json.dumps(r["footprint"])) for r in report["resources"])


def unassessed(report: dict[str, Any]) -> dict[str, int]:
    """Data-bearing types found and not assessed, from the report's coverage section."""
    quiet = ("part-of-store", "not-data", "unknown-type")
    return {
        t["type"]: t["not_assessed"]
        for t in report["coverage"]["types"]
        if t["not_assessed"] and t["category"] not in quiet
    }


def test_resource_explorer_scan_reads_only_where_there_is_something(
    aws: AwsEndpoint, org: list[str], walked: dict[str, Any]
) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    code, report, err = scan("--aws-inventory", "resource-explorer")
    assert comparable(report) == comparable(walked)
    # what the walk never sees: an EBS volume and an SQS queue hold data no store reads yet, so the scan is
    # incomplete (exit 3) and says which
    assert code == 3, err
    assert unassessed(report) == {"AWS::EC2::Volume": 1, "AWS::SQS::Queue": 1}
    assert unassessed(walked) == {}
    engines = {e["engine"]: e["scopes"] for e in report["coverage"]["engines"] if e["provider"] == "aws"}
    assert engines["resource-explorer"] == sorted(f"account/{a}" for a in org)
    calls = [(r.service, r.region, r.action) for r in aws.requests]
    assert calls.count(("sts", "us-east-1", "AssumeRole")) == 1  # the finance account; the empty one is never entered
    assert ("s3", "us-east-1", "ListBuckets") not in calls  # buckets come with their region
    # per-region listings only where something was found: the orders table, the ledger DB, the snapshot
    listings = sorted(
        (r.region, r.action)
        for r in aws.requests
        if r.action in ("ListTables", "DescribeDBInstances", "DescribeSnapshots")
    )
    assert listings == [
        ("eu-central-1", "DescribeSnapshots"),
        ("eu-central-1", "ListTables"),
        ("eu-west-1", "DescribeDBInstances"),
    ]


def test_blind_account_region_is_walked(aws: AwsEndpoint, org: list[str], walked: dict[str, Any]) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.inventory.indexes -= {(org[1], "eu-west-1"), (org[2], "eu-central-1")}
    code, report, err = scan("--aws-inventory", "resource-explorer")
    assert code == 3, err  # the volume; the queue sits in the unindexed region, which the walk reads for stores only
    assert unassessed(report) == {"AWS::EC2::Volume": 1}
    assert comparable(report) == comparable(walked)
    calls = {(r.region, r.action) for r in aws.requests if r.service in ("dynamodb", "rds", "ec2")}
    assert ("eu-west-1", "ListTables") in calls  # finance's unindexed region: every service listed


def test_config_scan_walks_snapshots_everywhere_and_reads_the_rest_where_found(
    aws: AwsEndpoint, org: list[str], walked: dict[str, Any]
) -> None:
    aws.inventory.aggregator("org", org, REGIONS)
    code, report, err = scan("--aws-inventory", "config:org")
    assert code == 3, err
    assert unassessed(report) == {"AWS::EC2::Volume": 1, "AWS::SQS::Queue": 1}
    assert comparable(report) == comparable(walked)
    snapshots = [r for r in aws.requests if r.action == "DescribeSnapshots"]
    assert len(snapshots) == len(org) * len(REGIONS)  # Config records no EBS snapshots: walked in every one
    assert not [r for r in aws.requests if r.action == "ListTables" and r.region != "eu-central-1"]


def test_engine_unavailable_walks_everything(aws: AwsEndpoint, org: list[str], walked: dict[str, Any]) -> None:
    code, report, err = scan("--aws-inventory", "resource-explorer")  # no aggregator index anywhere
    assert code == 0, err
    assert comparable(report) == comparable(walked)
    assert sum(r.action == "ListTables" for r in aws.requests) == len(org) * len(REGIONS)


def test_bad_inventory_option_is_a_usage_error() -> None:
    code, _, err = invoke_json(["scan", "--aws-inventory", "config:"])
    assert code == 2 and "--aws-inventory 'config:'" in err


def test_member_that_cannot_be_entered_is_a_skip_and_an_empty_one_is_not_entered(
    aws: AwsEndpoint, org: list[str], walked: dict[str, Any]
) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.add_fault("sts", None, "AssumeRole", status=403, code="AccessDenied", message="not this role")
    code, report, err = scan("--aws-inventory", "resource-explorer")
    assert code == 3, err
    skips = {s["scope"]: s["reason"] for s in report["skipped"]}
    assert skips == {f"account/{org[1]}": "AccessDenied on AssumeRole (HTTP 403): not this role"}
    assert {r["account"] for r in report["resources"]} == {org[0]}


def test_with_service_only_the_types_asked_for_count(aws: AwsEndpoint, org: list[str], walked: dict[str, Any]) -> None:
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    code, report, err = scan("--aws-inventory", "resource-explorer", "--service", "s3")
    assert code == 0, err  # as with Azure's --service: the volume and the queue are not what was asked about
    assert {r["name"] for r in report["resources"]} == {"mgmt-logs", "finance-ledger"}
    assert unassessed(report) == {}


def test_bucket_in_an_unindexed_region_is_found_by_listing_and_read_once(aws: AwsEndpoint, org: list[str]) -> None:
    finance = aws.member_session(org[1], direct=True)
    seed_bucket(finance, "finance-archive", "eu-west-1")
    aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
    aws.inventory.indexes.discard((org[1], "eu-west-1"))
    aws.clear_log()
    try:
        code, report, err = scan("--aws-inventory", "resource-explorer", "--service", "s3")
    finally:  # the estate is the module's
        finance.client("s3", region_name="eu-west-1").delete_bucket(Bucket="finance-archive")
    assert code == 0, err
    assert {r["name"] for r in report["resources"]} == {"mgmt-logs", "finance-ledger", "finance-archive"}
    reads = [r for r in aws.requests if r.action == "GetBucketEncryption"]
    assert len(reads) == 3  # finance-ledger (found by the index) is not read again by the listing
    assert [r.action for r in aws.requests].count("ListBuckets") == 1  # only the account with a blind region


@pytest.mark.parametrize("engine", ["resource-explorer", "config:org"])
def test_document_and_graph_clusters_are_read_where_the_engine_finds_an_rds_cluster(
    aws: AwsEndpoint, org: list[str], engine: str
) -> None:
    # both engines know DocumentDB and Neptune clusters only as RDS clusters (rds:cluster, AWS::RDS::DBCluster)
    arn = aws.graph.docdb_cluster("docs", "eu-central-1")
    try:
        aws.inventory.add(DEFAULT_ACCOUNT, "eu-central-1", "rds:cluster", "AWS::RDS::DBCluster", arn)
        aws.inventory.index(org, REGIONS, aggregator_region="us-east-1")
        aws.inventory.aggregator("org", org, REGIONS)
        code, report, err = scan("--aws-inventory", engine, "--service", "docdb", "--service", "neptune")
        assert code == 0, err
        assert [(r["id"], r["service"]) for r in report["resources"]] == [(arn, "docdb")]
        # one DescribeDBClusters answers both stores, only where an RDS resource was found (finance's ledger-db in
        # eu-west-1 too): Config has no DocumentDB or Neptune type to be blind for, so they are never walked
        listed = sorted((r.region, r.action) for r in aws.requests if r.service == "rds")
        assert listed == [("eu-central-1", "DescribeDBClusters"), ("eu-central-1", "DescribeGlobalClusters"),
                          ("eu-west-1", "DescribeDBClusters")]  # fmt: skip
    finally:
        aws.graph.reset()
