"""Caches and elastic clusters no store read before: ElastiCache cache clusters outside replication groups (moto),
serverless caches and DocumentDB elastic clusters (tests/servers/aws_caches.py), scanned by the real CLI over real
HTTP; their Terraform plans; and the AWS Config engine finding types under Config's own names."""

from __future__ import annotations

from typing import Any

import pytest

from residency_audit.model import KeyControl
from residency_audit.stores.common import UNKNOWN_LOCATION

from .conftest import by_name, invoke_json, places
from .servers.aws import DEFAULT_ACCOUNT, AwsEndpoint, seed_kms_key

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]
NEW = ("elasticache-cluster", "elasticache-serverless", "docdb-elastic")


def scan(*services: str, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], str]:
    args = ["scan", "--format", "json", "--profile", "eu-gdpr", *extra]
    for region in REGIONS:
        args += ["--region", region]
    for service in services:
        args += ["--service", service]
    return invoke_json(args)


def _cache(s: Any, region: str, name: str, **kw: Any) -> None:
    s.client("elasticache", region_name=region).create_cache_cluster(
        CacheClusterId=name, CacheNodeType="cache.t3.micro", **kw
    )


def test_standalone_cache_clusters_are_placed_by_their_zones(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    _cache(s, "eu-west-1", "sessions", Engine="memcached", NumCacheNodes=2, PreferredAvailabilityZone="eu-west-1a",
           Tags=[{"Key": "data-classification", "Value": "internal"}])  # fmt: skip
    aws.extra_zones["eu-central-1"] = [{"ZoneName": "eu-central-1-waw-1a", "ZoneType": "local-zone",
                                        "GroupName": "eu-central-1-waw-1", "ParentZoneName": "eu-central-1a"}]  # fmt: skip
    _cache(s, "eu-central-1", "edge", Engine="redis", PreferredAvailabilityZone="eu-central-1-waw-1a")
    outpost = f"arn:aws:outposts:us-east-1:{DEFAULT_ACCOUNT}:outpost/op-0123456789abcdef0"
    _cache(s, "us-east-1", "factory", Engine="memcached", OutpostMode="single-outpost", PreferredOutpostArn=outpost)
    # a member of a replication group is that group's data, read by the elasticache store: not listed again
    _cache(s, "eu-west-1", "grp-001", Engine="redis", ReplicationGroupId="grp")
    aws.clear_log()
    code, report, err = scan("elasticache-cluster")
    assert report["complete"] is True, (err, report.get("skipped"))
    r = by_name(report)
    assert set(r) == {"sessions", "edge", "factory"}
    assert places(r["sessions"]) == [("eu-west-1", "primary")]
    assert (
        r["sessions"]["type"] == "AWS::ElastiCache::CacheCluster" and r["sessions"]["service"] == "elasticache-cluster"
    )
    assert r["sessions"]["key_control"] == "provider-managed" and "not encrypted at rest" in r["sessions"]["key_note"]
    assert places(r["edge"]) == [("eu-central-1-waw-1", "primary")]  # Warsaw, not Frankfurt
    assert places(r["factory"]) == [(UNKNOWN_LOCATION, "primary")]  # where the Outpost stands is not in the API
    assert code == 0  # eu-gdpr warns of an unknown location
    # one request per region, filtered to clusters outside replication groups, nodes' zones included
    calls = [(r.region, r.action) for r in aws.requests if r.service == "elasticache"]
    assert sorted(calls) == sorted((region, "DescribeCacheClusters") for region in REGIONS), calls


def test_serverless_caches_each_under_their_own_key(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    held = aws.caches.serverless_cache("held", "eu-west-1", kms_key_arn=xks)
    default = aws.caches.serverless_cache("default", "us-east-1")
    code, report, err = scan("elasticache-serverless")
    assert report["complete"] is True, (err, report.get("skipped"))
    r = {x["id"]: x for x in report["resources"]}
    assert set(r) == {held, default}
    assert places(r[held]) == [("eu-west-1", "primary")] and r[held]["key_control"] == "external"
    assert r[default]["key_control"] == "provider-managed" and "ElastiCache-managed" in r[default]["key_note"]
    assert r[held]["type"] == "AWS::ElastiCache::ServerlessCache"
    assert code == 0, err


def test_serverless_cache_key_unreadable_is_a_skip_and_unknown(aws: AwsEndpoint) -> None:
    key = f"arn:aws:kms:eu-west-1:{DEFAULT_ACCOUNT}:key/00000000-0000-4000-8000-000000000000"  # no such key
    aws.caches.serverless_cache("lost", "eu-west-1", kms_key_arn=key)
    code, report, _ = scan("elasticache-serverless")
    assert code == 3 and report["complete"] is False
    (lost,) = report["resources"]
    assert lost["key_control"] == "unknown"
    assert any(key in s["scope"] for s in report["skipped"]), report["skipped"]


def test_elastic_clusters_with_keys_tags_and_an_unreadable_one(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    cmk = seed_kms_key(s, "eu-west-1")
    tags = {"residency:encryption": "client-side", "data-classification": "secret"}
    eu = aws.caches.elastic_cluster("catalog", "eu-west-1", cmk, tags=tags)
    central = aws.caches.elastic_cluster("orders", "eu-central-1", seed_kms_key(s, "eu-central-1"))
    code, report, err = scan("docdb-elastic")
    assert code == 0 and report["complete"] is True, (err, report.get("skipped"))
    r = {x["id"]: x for x in report["resources"]}
    assert set(r) == {eu, central}
    assert places(r[eu]) == [("eu-west-1", "primary")]
    assert r[eu]["key_control"] == "client-side" and r[eu]["classification"] == "secret"
    assert r[central]["key_control"] == "customer-managed" and r[central]["type"] == "AWS::DocDBElastic::Cluster"
    # a region without a cluster costs ListClusters alone; a cluster, its description and its tags
    asked = sorted((c.region or "", c.action or "") for c in aws.requests if c.service == "docdb-elastic")
    assert asked == sorted([*(("eu-west-1", a) for a in ("ListClusters", "GetCluster", "ListTagsForResource")),
                            *(("eu-central-1", a) for a in ("ListClusters", "GetCluster", "ListTagsForResource")),
                            ("us-east-1", "ListClusters")])  # fmt: skip
    # a cluster that cannot be described is still reported, under unknown keys, with a skip saying why
    aws.add_fault("docdb-elastic", "eu-central-1", "GetCluster", status=403, code="AccessDeniedException", message="no")
    code, report, _ = scan("docdb-elastic")
    assert code == 3
    assert {x["id"]: x["key_control"] for x in report["resources"]} == {eu: "client-side", central: "unknown"}
    (skip,) = [s for s in report["skipped"] if "orders" in s["scope"]]
    assert "AccessDeniedException on GetCluster (HTTP 403)" in skip["reason"]


@pytest.mark.parametrize("service", NEW)
def test_denied_listing_is_a_skip_never_silence(aws: AwsEndpoint, service: str) -> None:
    sig, action = {"elasticache-cluster": ("elasticache", "DescribeCacheClusters"),
                   "elasticache-serverless": ("elasticache", "DescribeServerlessCaches"),
                   "docdb-elastic": ("docdb-elastic", "ListClusters")}[service]  # fmt: skip
    aws.add_fault(sig, "eu-west-1", action, status=403, code="AccessDenied", message="denied")
    code, report, _ = scan(service)
    assert code == 3 and report["complete"] is False
    scopes = {s["scope"]: s["reason"] for s in report["skipped"]}
    scope = f"account/{DEFAULT_ACCOUNT}/region/eu-west-1/service/{service}"
    assert scope in scopes and f"AccessDenied on {action} (HTTP 403)" in scopes[scope]


def test_an_empty_region_costs_one_request_per_new_store(aws: AwsEndpoint) -> None:
    code, report, err = scan(*NEW, extra=())
    assert code == 0 and report["resources"] == [], err
    per_region: dict[str, int] = {}
    for rec in aws.requests:
        if rec.service in ("elasticache", "docdb-elastic"):
            per_region[rec.region or ""] = per_region.get(rec.region or "", 0) + 1
    assert per_region == dict.fromkeys(REGIONS, 3)


# --- AWS Config records some types under other names than CloudFormation's --------------------------------------


@pytest.mark.parametrize(
    ("service", "config_type", "re_type", "listing"),
    [("opensearch", "AWS::OpenSearch::Domain", "es:domain", "ListDomainNames"),
     ("opensearch", "AWS::Elasticsearch::Domain", "es:domain", "ListDomainNames"),
     ("kms-key", "AWS::KMS::Key", "kms:key", "ListKeys")],
)  # fmt: skip
def test_config_finds_types_under_configs_own_names(
    aws: AwsEndpoint, service: str, config_type: str, re_type: str, listing: str
) -> None:
    s = aws.session(direct=True)
    if service == "opensearch":
        s.client("opensearch", region_name="eu-west-1").create_domain(DomainName="search")
        arn = f"arn:aws:es:eu-west-1:{DEFAULT_ACCOUNT}:domain/search"
    else:
        arn = seed_kms_key(s, "eu-west-1")
    aws.inventory.add(DEFAULT_ACCOUNT, "eu-west-1", re_type, config_type, arn)
    aws.inventory.aggregator("org", [DEFAULT_ACCOUNT], REGIONS)
    code, report, err = scan(service, extra=("--aws-inventory", "config:org"))
    assert code == 0 and report["complete"] is True, (err, report.get("skipped"))
    assert [r["id"] for r in report["resources"]] == [arn]
    # read where Config recorded it, not walked in every region as a type Config cannot see
    assert sorted(r.region or "" for r in aws.requests if r.action == listing) == ["eu-west-1"]


# --- Terraform plans ------------------------------------------------------------------------------------------------


def test_planned_caches_and_elastic_clusters() -> None:
    from .test_terraform import P, _add, _load, _places, _read

    data = _load("aws")
    _add(data, "aws_elasticache_cluster.mc", {"cluster_id": "mc", "engine": "memcached",
                                              "availability_zone": "eu-central-1b"}, "aws.eu")  # fmt: skip
    _add(data, "aws_elasticache_cluster.edge", {"cluster_id": "edge", "availability_zone": "eu-central-1-waw-1a"},
         "aws.eu")  # fmt: skip
    _add(data, "aws_elasticache_replication_group.g", {"replication_group_id": "g", "at_rest_encryption_enabled": True},
         "aws.eu")  # fmt: skip
    _add(data, "aws_elasticache_cluster.member", {"cluster_id": "member", "replication_group_id": "g"}, "aws.eu")
    _add(data, "aws_elasticache_serverless_cache.s", {"name": "s", "kms_key_id": None}, "aws.eu")
    _add(data, "aws_docdb_elastic_cluster.d", {"name": "d", "kms_key_id": "arn:aws:kms:eu-central-1:1:key/x"},
         "aws.eu")  # fmt: skip
    resources, skipped = _read("aws", data)
    assert _places(resources["aws_elasticache_cluster.mc"]) == [("eu-central-1", P)]
    assert resources["aws_elasticache_cluster.mc"].key_control is KeyControl.PROVIDER_MANAGED
    # a Local Zone's city is not read from a plan, never guessed from its name
    assert _places(resources["aws_elasticache_cluster.edge"]) == [(UNKNOWN_LOCATION, P)]
    member = resources["aws_elasticache_cluster.member"]
    assert member.key_control is KeyControl.PROVIDER_MANAGED
    assert "aws_elasticache_replication_group.g" in str(member.key_note)
    serverless = resources["aws_elasticache_serverless_cache.s"]
    assert _places(serverless) == [("eu-central-1", P)] and serverless.key_control is KeyControl.PROVIDER_MANAGED
    assert resources["aws_docdb_elastic_cluster.d"].key_control is KeyControl.CUSTOMER_MANAGED
    assert resources["aws_docdb_elastic_cluster.d"].type == "AWS::DocDBElastic::Cluster"
    assert not [s for s in skipped if s.type.startswith(("aws_elasticache", "aws_docdb_elastic"))]


# --- Resource Explorer: a type it does not index is walked, never assumed absent ---------------------------------


@pytest.mark.parametrize(
    ("service", "re_type", "cfn", "listing"),
    [("elasticache-cluster", "elasticache:cluster", "AWS::ElastiCache::CacheCluster", "DescribeCacheClusters"),
     ("elasticache-serverless", "elasticache:serverlesscache", "AWS::ElastiCache::ServerlessCache",
      "DescribeServerlessCaches"),
     ("docdb-elastic", "docdb-elastic:cluster", "AWS::DocDBElastic::Cluster", "ListClusters")],
)  # fmt: skip
@pytest.mark.parametrize("indexed", [True, False])
def test_resource_explorer_reads_where_it_found_and_walks_a_type_it_does_not_index(
    aws: AwsEndpoint, service: str, re_type: str, cfn: str, listing: str, indexed: bool
) -> None:
    s = aws.session(direct=True)
    if service == "elasticache-cluster":
        _cache(s, "eu-west-1", "mc", Engine="memcached")
        arn = f"arn:aws:elasticache:eu-west-1:{DEFAULT_ACCOUNT}:cluster:mc"
    elif service == "elasticache-serverless":
        arn = aws.caches.serverless_cache("sls", "eu-west-1")
    else:
        arn = aws.caches.elastic_cluster("el", "eu-west-1", seed_kms_key(s, "eu-west-1"))
    aws.inventory.index([DEFAULT_ACCOUNT], REGIONS, aggregator_region="us-east-1")
    if indexed:
        aws.inventory.add(DEFAULT_ACCOUNT, "eu-west-1", re_type, cfn, arn)
    else:
        aws.inventory.unindexed.add(re_type)
    aws.clear_log()
    code, report, err = scan(service, extra=("--aws-inventory", "resource-explorer"))
    assert code == 0 and report["complete"] is True, (err, report.get("skipped"))
    assert [r["id"] for r in report["resources"]] == [arn]
    listed = sorted(r.region or "" for r in aws.requests if r.action == listing)
    # found by the index: read in its region only; a type the index does not cover: listed in every region
    assert listed == (["eu-west-1"] if indexed else sorted(REGIONS))


# --- the catalogue's aws_config names --------------------------------------------------------------------------------

#: the store types AWS Config records under no name at all (not in botocore's config ResourceType enum, nor in
#: awslabs/aws-config-resource-schema's resource types): the Config engine walks them in every account-region
CONFIG_NEVER = {
    "AWS::EC2::Snapshot", "AWS::EC2::Image", "AWS::Logs::LogGroup", "AWS::Logs::SubscriptionFilter",
    "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ServerlessCache",
    "AWS::DocDB::DBCluster", "AWS::Neptune::DBCluster", "AWS::DocDBElastic::Cluster", "AWS::MemoryDB::Cluster",
}  # fmt: skip


def test_every_store_type_is_asked_of_config_under_a_name_it_records_or_known_to_be_walked() -> None:
    from residency_audit.catalogue import load
    from residency_audit.inventory.aws_config import recordable
    from residency_audit.model import Provider

    known = recordable()
    for entry in load().types:
        if entry.provider is Provider.AWS and entry.store:
            names = set(entry.recorded_as)
            assert names <= known or (entry.native in CONFIG_NEVER and not entry.config_types), (entry.name, names)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"aws_config": "AWS::OpenSearch::Domain"}, "must be a list"),
     ({"aws_config": ["opensearch"]}, "must be a list of names in the form"),
     ({"aws_config": ["AWS::Other::Thing"], "arm": None}, "unknown field(s) aws_config")],
)  # fmt: skip
def test_a_malformed_config_name_is_refused(fields: dict[str, Any], problem: str) -> None:
    from residency_audit.catalogue import CatalogueError, load_from
    from residency_audit.model import Provider

    entry = {"name": "Thing", "category": "data-store", "copies": "none", "aws_type": "AWS::Thing::Thing"} | fields
    provider, file = (Provider.AZURE, "azure.toml") if "arm" in fields else (Provider.AWS, "aws.toml")
    if provider is Provider.AZURE:
        entry = {k: v for k, v in entry.items() if k != "aws_type" and v is not None} | {"arm": "Microsoft.A/b"}
    with pytest.raises(CatalogueError, match=r"types\[0\]") as raised:
        load_from({provider: (file, {"types": [entry]})})
    assert problem in str(raised.value)


def test_a_config_name_read_by_another_service_is_refused() -> None:
    from residency_audit.catalogue import CatalogueError, load_from
    from residency_audit.model import Provider

    types = [
        {"name": "Key", "category": "key-or-secret", "copies": "none", "aws_type": "AWS::KMS::Key",
         "store": "aws.kms", "service": "kms-key"},
        {"name": "Replica", "category": "key-or-secret", "copies": "none", "aws_type": "AWS::KMS::ReplicaKey",
         "aws_config": ["AWS::KMS::Key"], "store": "aws.secrets", "service": "secret"},
    ]  # fmt: skip
    with pytest.raises(CatalogueError, match="read by another service"):
        load_from({Provider.AWS: ("aws.toml", {"types": types})})
    types[1] |= {"store": "aws.kms", "service": "kms-key"}  # the same listing reads both: allowed
    catalogue = load_from({Provider.AWS: ("aws.toml", {"types": types})})
    assert catalogue.find("AWS::KMS::Key") is not None and catalogue.find("AWS::KMS::Key").name == "Key"  # type: ignore[union-attr]
