"""Graph and document databases (issue 12): DocumentDB and Neptune global clusters, and a key per copy of Aurora
global members and of RDS replicated automated backups, scanned by the real CLI over real HTTP (moto, plus
tests/servers/aws_graph.py for what moto lacks)."""

from __future__ import annotations

from typing import Any

import pytest

from residency_audit.model import KeyControl
from residency_audit.stores.common import UNKNOWN_LOCATION

from .conftest import invoke_json, places
from .servers.aws import DEFAULT_ACCOUNT, AwsEndpoint, seed_kms_key

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]


def scan(*services: str, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], str]:
    args = ["scan", "--format", "json", "--profile", "eu-gdpr", *extra]
    for region in REGIONS:
        args += ["--region", region]
    for service in services:
        args += ["--service", service]
    return invoke_json(args)


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["resources"]}


def keys(resource: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(c["location"], c.get("key_control")) for c in resource["footprint"]]


def _arn(region: str, name: str) -> str:
    return f"arn:aws:rds:{region}:{DEFAULT_ACCOUNT}:cluster:{name}"


def _global(s: Any, service: str, engine: str, gid: str, members: dict[str, str | None]) -> None:
    """A global cluster of `engine` with one member per region ({region: KMS key ARN or None})."""
    s.client(service, region_name="eu-west-1").create_global_cluster(GlobalClusterIdentifier=gid, Engine=engine)
    for region, key in members.items():
        extra: dict[str, Any] = {"StorageEncrypted": True, "KmsKeyId": key} if key else {}
        if engine.startswith("aurora"):
            extra |= {"MasterUsername": "admin1", "MasterUserPassword": "seeded-password-1"}
        s.client(service, region_name=region).create_db_cluster(
            DBClusterIdentifier=f"{gid}-{region}", Engine=engine, GlobalClusterIdentifier=gid, **extra
        )


@pytest.mark.parametrize("kind", ["neptune", "docdb", "aurora"])
def test_global_cluster_members_are_copies_each_under_its_own_key(aws: AwsEndpoint, kind: str) -> None:
    s = aws.session(direct=True)
    eu_key = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    eu, us = _arn("eu-west-1", f"g-{kind}-eu-west-1"), _arn("us-east-1", f"g-{kind}-us-east-1")
    if kind == "docdb":  # moto refuses the docdb engine: declared to the proxy, served in the RDS wire format
        aws.graph.docdb_cluster(f"g-{kind}-eu-west-1", "eu-west-1", kms_key_arn=eu_key, global_id=f"g-{kind}")
        aws.graph.docdb_cluster(f"g-{kind}-us-east-1", "us-east-1", global_id=f"g-{kind}")
    else:
        engine = "neptune" if kind == "neptune" else "aurora-postgresql"
        _global(s, kind if kind == "neptune" else "rds", engine, f"g-{kind}", {"eu-west-1": eu_key, "us-east-1": None})
    service = "rds" if kind == "aurora" else kind
    # a cluster of another engine in the same answer is left to its own store
    s.client("neptune", region_name="eu-central-1").create_db_cluster(DBClusterIdentifier="other", Engine="neptune")

    code, report, err = scan(service)
    assert code == 0, err  # a US copy: warned of under eu-gdpr (reach), not an error (the DPF adequacy decision)
    assert report["complete"] is True and report["skipped"] == []
    r = by_id(report)
    assert set(r) == {eu, us} | ({_arn("eu-central-1", "other")} if kind == "neptune" else set())
    assert places(r[eu]) == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    # the EU primary is under an external key store; its US member is not encrypted: that copy decides
    assert keys(r[eu])[1] == ("us-east-1", "provider-managed")
    assert "global cluster g-" in r[eu]["footprint"][1]["note"]
    assert places(r[us]) == [("us-east-1", "primary"), ("eu-west-1", "replica")]
    assert keys(r[us])[1] == ("eu-west-1", "external")
    assert r[eu]["type"] == {"neptune": "AWS::Neptune::DBCluster", "docdb": "AWS::DocDB::DBCluster",
                             "aurora": "AWS::RDS::DBCluster"}[kind]  # fmt: skip
    # one DescribeDBClusters per region, however many stores (and members' keys) need it
    calls = [rec.region for rec in aws.requests if rec.action == "DescribeDBClusters"]
    assert sorted(calls) == sorted(REGIONS)


def test_rds_leaves_document_and_graph_clusters_to_their_stores(aws: AwsEndpoint) -> None:
    aws.graph.docdb_cluster("docs", "eu-west-1")
    s = aws.session(direct=True)
    s.client("neptune", region_name="eu-west-1").create_db_cluster(DBClusterIdentifier="graph", Engine="neptune")
    code, report, err = scan("rds", "docdb", "neptune")
    assert code == 0, err
    r = by_id(report)
    assert {(x["service"], x["name"]) for x in r.values()} == {("docdb", "docs"), ("neptune", "graph")}


@pytest.mark.parametrize("kind", ["aurora", "neptune"])
def test_an_unreadable_named_global_cluster_is_one_skip_and_an_unknown_copy(aws: AwsEndpoint, kind: str) -> None:
    s = aws.session(direct=True)
    engine = "neptune" if kind == "neptune" else "aurora-postgresql"
    _global(s, kind if kind == "neptune" else "rds", engine, "g", {"eu-west-1": None, "us-east-1": None})
    aws.add_fault("rds", "eu-west-1", "DescribeGlobalClusters", status=403, code="AccessDenied", message="no")
    code, report, err = scan("rds" if kind == "aurora" else kind)
    assert code == 3, err
    service = "rds" if kind == "aurora" else kind
    scope = f"account/{DEFAULT_ACCOUNT}/region/eu-west-1/service/{service}/global-cluster/g"
    (skip,) = [x for x in report["skipped"] if x["scope"] == scope]
    assert skip["reason"].startswith("global cluster members unknown: ") and "AccessDenied" in skip["reason"]
    assert places(by_id(report)[_arn("eu-west-1", "g-eu-west-1")]) == [
        ("eu-west-1", "primary"),
        (UNKNOWN_LOCATION, "replica"),
    ]
    assert places(by_id(report)[_arn("us-east-1", "g-us-east-1")]) == [
        ("us-east-1", "primary"),
        ("eu-west-1", "replica"),
    ]


def test_a_member_region_whose_clusters_are_unreadable_is_a_skip_and_an_unknown_key(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    _global(s, "rds", "aurora-postgresql", "g", {"eu-west-1": None, "us-east-1": None})
    aws.add_fault("rds", "us-east-1", "DescribeDBClusters", status=403, code="AccessDenied", message="no")
    # only Ireland is scanned: the US member's keys are read from its region's listing, which fails
    code, report, err = invoke_json(["scan", "--format", "json", "--profile", "eu-gdpr", "--region", "eu-west-1",
                                     "--service", "rds"])  # fmt: skip
    assert code == 3, err
    scope = f"account/{DEFAULT_ACCOUNT}/region/us-east-1/service/rds/clusters"
    (skip,) = report["skipped"]
    assert skip["scope"] == scope and "keys of global cluster members here unknown" in skip["reason"]
    eu = by_id(report)[_arn("eu-west-1", "g-eu-west-1")]
    assert keys(eu) == [("eu-west-1", None), ("us-east-1", "unknown")]
    assert "global cluster g member " + _arn("us-east-1", "g-us-east-1") in eu["footprint"][1]["note"]


def test_an_unreadable_global_cluster_is_a_skip_and_an_unknown_copy(aws: AwsEndpoint) -> None:
    aws.graph.docdb_cluster("docs", "eu-west-1", global_id="g")
    aws.graph.docdb_cluster("docs-us", "us-east-1", global_id="g")
    aws.add_fault("rds", "eu-west-1", "DescribeGlobalClusters", status=403, code="AccessDenied", message="no")
    code, report, err = scan("docdb")
    assert code == 3, err
    scope = f"account/{DEFAULT_ACCOUNT}/region/eu-west-1/service/docdb/global-cluster/"
    assert any(s["scope"] == scope and "AccessDenied on DescribeGlobalClusters" in s["reason"]
               for s in report["skipped"]), report["skipped"]  # fmt: skip
    eu = by_id(report)[_arn("eu-west-1", "docs")]
    assert places(eu) == [("eu-west-1", "primary"), (UNKNOWN_LOCATION, "replica")]


def test_elasticache_global_datastore_members_are_copies_each_under_its_own_key(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    eu = aws.graph.cache_group("sessions-eu", "eu-west-1", kms_key_arn=xks, global_id="ldgnf-sessions")
    us = aws.graph.cache_group("sessions-us", "us-east-1", global_id="ldgnf-sessions")
    alone = aws.graph.cache_group("local", "eu-central-1")
    code, report, err = scan("elasticache")
    assert code == 0, err
    assert report["complete"] is True and report["skipped"] == []
    r = by_id(report)
    assert set(r) == {eu, us, alone}
    assert places(r[eu]) == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    assert r[eu]["key_control"] == "external"
    assert keys(r[eu])[1] == ("us-east-1", "provider-managed")  # the US member's own ElastiCache-managed key
    assert keys(r[us])[1] == ("eu-west-1", "external")
    assert places(r[alone]) == [("eu-central-1", "primary")]
    assert r[eu]["type"] == "AWS::ElastiCache::ReplicationGroup"
    # the global datastore is described once per region with a member; none is asked in a region without one
    described = sorted(rec.region for rec in aws.requests if rec.action == "DescribeGlobalReplicationGroups")
    assert described == ["eu-west-1", "us-east-1"]
    aws.add_fault("elasticache", "us-east-1", "DescribeGlobalReplicationGroups", status=403, code="AccessDenied",
                  message="no")  # fmt: skip
    code, report, err = scan("elasticache")
    assert code == 3, err
    r = by_id(report)
    assert places(r[us]) == [("us-east-1", "primary"), (UNKNOWN_LOCATION, "replica")]
    assert [s["scope"] for s in report["skipped"]] == [
        f"account/{DEFAULT_ACCOUNT}/region/us-east-1/service/elasticache/global-datastore/ldgnf-sessions"
    ]


def test_replicated_automated_backups_carry_their_own_key(aws: AwsEndpoint) -> None:
    from .servers.aws import seed_db_instance

    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    seed_db_instance(s, "pg", "eu-west-1", kms_key_arn=xks)
    backups = aws.graph.backup_replica("pg", "us-east-1")  # re-encrypted there: here, not encrypted at all
    code, report, err = scan("rds")
    assert code == 0 and report["complete"] is True, err
    (pg,) = report["resources"]
    assert pg["key_control"] == "external"
    assert keys(pg) == [("eu-west-1", None), ("us-east-1", "provider-managed")]
    assert backups in pg["footprint"][1]["note"]


def test_memorydb_multi_region_members_are_copies_each_under_its_own_key(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    eu = aws.graph.memorydb_cluster("cart-eu", "eu-west-1", kms_key_arn=xks, multi_region="mr-cart")
    us = aws.graph.memorydb_cluster("cart-us", "us-east-1", multi_region="mr-cart")
    code, report, err = scan("memorydb")
    assert code == 0 and report["complete"] is True, (err, report.get("skipped"))
    r = by_id(report)
    assert set(r) == {eu, us}
    assert places(r[eu]) == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    assert r[eu]["key_control"] == "external"
    assert keys(r[eu])[1] == ("us-east-1", "provider-managed")  # an AWS owned key: MemoryDB's default
    assert keys(r[us])[1] == ("eu-west-1", "external")
    assert r[eu]["type"] == "AWS::MemoryDB::Cluster"


def test_opensearch_connections_are_possible_copies_of_the_remote_domain(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    s.client("opensearch", region_name="eu-west-1").create_domain(DomainName="search-eu")
    s.client("opensearch", region_name="us-east-1").create_domain(DomainName="search-us")
    aws.graph.connect(("us-east-1", "search-us"), ("eu-west-1", "search-eu"))  # the US domain pulls from the EU one
    aws.graph.connect(("us-east-1", "other"), ("eu-west-1", "search-eu"), status="REJECTED")
    _code, report, err = scan("opensearch")
    assert report["complete"] is True, (err, report.get("skipped"))
    r = {x["name"]: x for x in report["resources"]}
    assert set(r) == {"search-eu", "search-us"}
    # the remote (leader) domain's data may be copied into the connecting domain's region; not the other way
    assert places(r["search-eu"]) == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    assert "possible copy" in r["search-eu"]["footprint"][1]["note"]
    assert keys(r["search-eu"])[1] == ("us-east-1", "unknown")
    assert places(r["search-us"]) == [("us-east-1", "primary")]
    assert r["search-eu"]["type"] == "AWS::OpenSearchService::Domain"
    # a region without a domain costs ListDomainNames alone
    asked = {(rec.region, rec.action) for rec in aws.requests if rec.service == "es"}
    assert {a for reg, a in asked if reg == "eu-central-1"} == {"ListDomainNames"}


# --- Terraform plans: the same copies before apply ----------------------------------------------------------------


def _ref(address: str) -> dict[str, list[str]]:
    return {"references": [f"{address}.id", address]}


@pytest.mark.parametrize(
    ("cluster", "glob", "gid_attr", "key_attr", "rtype"),
    [
        ("aws_docdb_cluster", "aws_docdb_global_cluster", "global_cluster_identifier", "kms_key_id",
         "AWS::DocDB::DBCluster"),
        ("aws_neptune_cluster", "aws_neptune_global_cluster", "global_cluster_identifier", "kms_key_arn",
         "AWS::Neptune::DBCluster"),
    ],
)  # fmt: skip
def test_planned_global_cluster_members_are_copies_under_their_own_keys(
    cluster: str, glob: str, gid_attr: str, key_attr: str, rtype: str
) -> None:
    from .test_terraform import P, R, _add, _load, _places, _provider, _read

    data = _load("aws")
    _provider(data, "tokyo", "ap-northeast-1")
    _add(data, f"{glob}.g", {"global_cluster_identifier": "g"}, "aws.eu")
    _add(data, f"{cluster}.eu", {"cluster_identifier": "eu", "storage_encrypted": True}, "aws.eu",
         **{gid_attr: _ref(f"{glob}.g")})  # fmt: skip
    _add(data, f"{cluster}.ap", {"cluster_identifier": "ap", "storage_encrypted": False}, "aws.tokyo",
         **{gid_attr: _ref(f"{glob}.g")})  # fmt: skip
    resources, skipped = _read("aws", data)
    eu, ap = resources[f"{cluster}.eu"], resources[f"{cluster}.ap"]
    assert eu.type == rtype and _places(eu) == [("eu-central-1", P), ("ap-northeast-1", R)]
    assert eu.footprint[1].key_control is KeyControl.PROVIDER_MANAGED
    assert _places(ap) == [("ap-northeast-1", P), ("eu-central-1", R)]
    assert all(s.type != cluster for s in skipped)
    # the global cluster holds no data of its own: counted as part of the store it copies
    assert [s.category for s in skipped if s.type == glob] == ["part-of-store"]


def test_planned_cache_and_memory_groups_and_search_connections_are_copies() -> None:
    from .test_terraform import P, R, _add, _load, _places, _provider, _read

    data = _load("aws")
    _provider(data, "virginia", "us-east-1")
    group = "aws_elasticache_replication_group"
    _add(data, f"{group}.eu", {"replication_group_id": "eu", "at_rest_encryption_enabled": True}, "aws.eu")
    _add(data, "aws_elasticache_global_replication_group.g", {"global_replication_group_id_suffix": "g"}, "aws.eu",
         primary_replication_group_id=_ref(f"{group}.eu"))  # fmt: skip
    _add(data, f"{group}.us", {"replication_group_id": "us"}, "aws.virginia",
         global_replication_group_id=_ref("aws_elasticache_global_replication_group.g"))  # fmt: skip
    for name, provider in (("eu", "aws.eu"), ("us", "aws.virginia")):
        _add(data, f"aws_memorydb_cluster.{name}", {"name": name, "multi_region_cluster_name": "mr"}, provider)
    _add(data, "aws_opensearch_domain.eu", {"domain_name": "search-eu"}, "aws.eu")
    _add(data, "aws_opensearch_outbound_connection.c", {
        "connection_alias": "c",
        "local_domain_info": [{"owner_id": "1", "region": "us-east-1", "domain_name": "search-us"}],
        "remote_domain_info": [{"owner_id": "1", "region": "eu-central-1", "domain_name": "search-eu"}],
    }, "aws.virginia")  # fmt: skip
    resources, _ = _read("aws", data)
    for address in (f"{group}.eu", "aws_memorydb_cluster.eu", "aws_opensearch_domain.eu"):
        assert _places(resources[address]) == [("eu-central-1", P), ("us-east-1", R)], address
    assert _places(resources[f"{group}.us"]) == [("us-east-1", P), ("eu-central-1", R)]
    assert resources["aws_opensearch_domain.eu"].footprint[1].key_control is KeyControl.UNKNOWN
