"""The AWS copies that leave a region unnoticed (issue 12): Backup copy actions, multi-Region KMS keys, Secrets Manager
replicas and ECR replication, scanned by the real CLI over real HTTP against moto (through tests/servers/aws.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from .conftest import invoke_json, places
from .servers.aws import (
    DEFAULT_ACCOUNT,
    AwsEndpoint,
    copy_recovery_point,
    seed_backup_vault,
    seed_file_system,
    seed_kms_key,
    seed_multi_region_key,
    seed_redshift_cluster,
    seed_repository,
    seed_secret,
)

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
NEW = ("backup-vault", "kms-key", "secret", "ecr-repository", "redshift", "efs")


def scan(*services: str, regions: list[str] = REGIONS) -> tuple[int, dict[str, Any], str]:
    args = ["scan", "--format", "json", "--profile", "eu-gdpr"]
    for region in regions:
        args += ["--region", region]
    for service in services or NEW:
        args += ["--service", service]
    return invoke_json(args)


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["resources"]}


def test_backup_plan_copy_actions_are_copies_of_the_vault(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    cmk = seed_kms_key(s, "eu-west-1")
    us_vault = seed_backup_vault(s, "dr-us", "us-east-1")
    sydney_vault = seed_backup_vault(s, "dr-sydney", "ap-southeast-2")
    eu_vault = seed_backup_vault(s, "eu-main", "eu-west-1", copy_to=[us_vault, sydney_vault], kms_key_arn=cmk)
    local = seed_backup_vault(s, "eu-local", "eu-central-1")
    # what the plan copied is listed in the destination: recovery points whose source vault is in Ireland
    copy_recovery_point(aws, eu_vault, us_vault)

    code, report, err = scan("backup-vault")
    assert code == 1, err  # a copy in the US and one in Australia break eu-gdpr
    assert report["complete"] is True and report["skipped"] == []
    r = by_id(report)
    assert set(r) == {us_vault, sydney_vault, eu_vault, local}
    assert places(r[eu_vault]) == [("eu-west-1", "primary"), ("us-east-1", "replica"), ("ap-southeast-2", "replica")]
    assert r[eu_vault]["countries"] == ["AU", "IE", "US"]
    assert r[eu_vault]["type"] == "AWS::Backup::BackupVault" and r[eu_vault]["service"] == "backup-vault"
    assert r[eu_vault]["key_control"] == "customer-managed"
    assert "eu-main-plan" in " ".join(c.get("note") or "" for c in r[eu_vault]["footprint"])
    assert places(r[local]) == [("eu-central-1", "primary")]
    assert places(r[us_vault]) == [("us-east-1", "primary"), ("eu-west-1", "replica")]
    # only a vault with recovery points is asked for them
    listed = {rec.region for rec in aws.requests if rec.action == "ListRecoveryPointsByBackupVault"}
    assert listed == {"us-east-1"}
    violating = {f["resource"] for f in report["findings"] if f["rule"] == "RA001"}  # a copy not allowed
    assert eu_vault in violating and local not in violating


def test_multi_region_key_material_is_in_every_replica_region(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    primary = seed_multi_region_key(s, "eu-west-1", ["ap-southeast-2"])
    single = seed_kms_key(s, "eu-central-1")
    xks = seed_kms_key(s, "eu-central-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"

    code, report, err = scan("kms-key")
    assert code == 1, err
    r = by_id(report)
    replica = primary.replace("eu-west-1", "ap-southeast-2")
    assert set(r) == {primary, replica, single, xks}
    assert places(r[primary]) == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    assert places(r[replica]) == [("ap-southeast-2", "primary"), ("eu-west-1", "replica")]
    assert places(r[single]) == [("eu-central-1", "primary")]
    assert r[single]["key_control"] == "customer-managed" and r[xks]["key_control"] == "external"


def test_secret_replicas_from_the_primary_and_from_each_replica(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    replicated = seed_secret(s, "db-password", "eu-west-1", replicas=["ap-southeast-2", "eu-central-1"])
    local = seed_secret(s, "local", "eu-central-1", kms_key_id=seed_kms_key(s, "eu-central-1"))

    code, report, err = scan("secret")
    assert code == 1, err
    assert report["skipped"] == []
    r = by_id(report)
    au_replica = replicated.replace("eu-west-1", "ap-southeast-2")
    de_replica = replicated.replace("eu-west-1", "eu-central-1")
    assert set(r) == {replicated, au_replica, de_replica, local}
    assert places(r[replicated]) == [
        ("eu-west-1", "primary"),
        ("ap-southeast-2", "replica"),
        ("eu-central-1", "replica"),
    ]
    # a replica in the EU still has a sibling in Australia: read through the primary, which lists every replica
    assert places(r[de_replica]) == [
        ("eu-central-1", "primary"),
        ("eu-west-1", "replica"),
        ("ap-southeast-2", "replica"),
    ]
    assert r[replicated]["key_control"] == "provider-managed"  # no KmsKeyId: aws/secretsmanager
    assert r[local]["key_control"] == "customer-managed"
    assert places(r[local]) == [("eu-central-1", "primary")]


def test_registry_replication_rules_match_repositories_by_prefix(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    prod = seed_repository(s, "prod/api", "eu-west-1", replicate_to=["ap-southeast-2", "us-east-1"], prefix="prod/")
    dev = seed_repository(s, "dev/api", "eu-west-1")
    everything = seed_repository(s, "tool", "eu-central-1", replicate_to=["eu-west-1"])

    code, report, err = scan("ecr-repository")
    assert code == 1, err
    r = by_id(report)
    assert set(r) == {prod, dev, everything}
    assert places(r[prod]) == [("eu-west-1", "primary"), ("ap-southeast-2", "replica"), ("us-east-1", "replica")]
    assert places(r[dev]) == [("eu-west-1", "primary")]  # the rule's prefix does not match
    assert places(r[everything]) == [("eu-central-1", "primary"), ("eu-west-1", "replica")]
    assert r[prod]["key_control"] == "provider-managed"


def test_redshift_snapshot_copy_destination_is_a_copy(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    cmk = seed_kms_key(s, "eu-west-1")
    seed_redshift_cluster(s, "warehouse", "eu-west-1", copy_to="ap-southeast-2", kms_key_arn=cmk)
    seed_redshift_cluster(s, "local", "eu-central-1")

    code, report, err = scan("redshift")
    assert code == 1, err
    r = by_id(report)
    warehouse = f"arn:aws:redshift:eu-west-1:{DEFAULT_ACCOUNT}:cluster:warehouse"
    local = f"arn:aws:redshift:eu-central-1:{DEFAULT_ACCOUNT}:cluster:local"
    assert set(r) == {warehouse, local}
    assert places(r[warehouse]) == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    assert r[warehouse]["key_control"] == "customer-managed"
    assert places(r[local]) == [("eu-central-1", "primary")]


def test_efs_replication_from_the_source_and_from_the_replica(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    source, replica = seed_file_system(aws, s, "shared", "eu-west-1", replicate_to=["ap-southeast-2"])
    (local,) = seed_file_system(aws, s, "local", "eu-central-1")

    code, report, err = scan("efs")
    assert code == 1, err
    assert report["skipped"] == []
    r = by_id(report)
    assert set(r) == {source, replica, local}
    assert places(r[source]) == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    # the replica's region lists no configuration here: it is asked about by its id, which names its source
    assert places(r[replica]) == [("ap-southeast-2", "primary"), ("eu-west-1", "replica")]
    assert places(r[local]) == [("eu-central-1", "primary")]
    assert r[local]["name"] == "local"
    by_call = Counter((rec.region, rec.action) for rec in aws.requests if rec.service == "elasticfilesystem")
    assert by_call[("ap-southeast-2", "DescribeReplicationConfigurations")] == 2  # the region's, then the replica's


def test_an_empty_region_costs_one_request_per_new_service(aws: AwsEndpoint) -> None:
    code, report, err = scan(regions=["eu-north-1"])
    assert code == 0, err
    assert report["resources"] == []
    calls = [(rec.service, rec.action) for rec in aws.requests if rec.region == "eu-north-1"]
    assert sorted(calls) == sorted(
        [
            ("backup", "ListBackupVaults"),
            ("kms", "ListKeys"),
            ("secretsmanager", "ListSecrets"),
            ("ecr", "DescribeRepositories"),
            ("redshift", "DescribeClusters"),
            ("elasticfilesystem", "DescribeFileSystems"),
        ]
    )


@pytest.mark.parametrize(
    ("service", "action", "scope"),
    [
        ("backup", "ListBackupPlans", "region/eu-west-1/service/backup-vault/plans"),
        ("ecr", "DescribeRegistry", "region/eu-west-1/service/ecr-repository/registry"),
    ],
)
def test_unreadable_copy_settings_are_a_skip_and_the_store_is_still_reported(
    aws: AwsEndpoint, service: str, action: str, scope: str
) -> None:
    s = aws.session(direct=True)
    vault = seed_backup_vault(s, "vault", "eu-west-1", copy_to=[seed_backup_vault(s, "us", "us-east-1")])
    repo = seed_repository(s, "repo", "eu-west-1", replicate_to=["us-east-1"])
    aws.add_fault(service, "eu-west-1", action, status=403, code="AccessDeniedException", message="denied")
    code, report, err = scan("backup-vault", "ecr-repository")
    assert code == 3, err
    skips = {s["scope"]: s["reason"] for s in report["skipped"]}
    assert f"account/{DEFAULT_ACCOUNT}/{scope}" in skips
    assert f"AccessDeniedException on {action} (HTTP 403)" in skips[f"account/{DEFAULT_ACCOUNT}/{scope}"]
    assert {vault, repo} <= set(by_id(report))


# --- the plan readers ------------------------------------------------------------------------------------------

Block = tuple[str, str, dict[str, Any], str, dict[str, Any], dict[str, Any]]


def _block(
    rtype: str,
    name: str,
    values: dict[str, Any],
    provider: str = "aws",
    refs: dict[str, list[str]] | None = None,
    unknown: dict[str, Any] | None = None,
) -> Block:
    """A planned resource: its values, provider configuration key, attribute references and unknown values."""
    return rtype, name, values, provider, refs or {}, unknown or {}


def _plan(*blocks: Block) -> dict[str, Any]:
    """A `terraform show -json` plan (format 1.2) of `blocks`, with providers aws (eu-west-1) and aws.us (us-east-1)."""
    planned, changes, config = [], [], []
    for rtype, name, values, provider, refs, unknown in blocks:
        address = f"{rtype}.{name}"
        planned.append({"address": address, "mode": "managed", "type": rtype, "name": name, "values": values})
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": name,
                "change": {"actions": ["create"], "after": values, "after_unknown": unknown},
            }
        )
        expressions = {attr: {"references": r} for attr, r in refs.items()}
        config.append(
            {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": name,
                "provider_config_key": provider,
                "expressions": expressions,
            }
        )
    providers = {
        "aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}},
        "aws.us": {"name": "aws", "alias": "us", "expressions": {"region": {"constant_value": "us-east-1"}}},
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": providers, "root_module": {"resources": config}},
    }


def _read(plan: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    from residency_audit.plan.reader import read_plan

    resources, _ = read_plan(plan, "plan.json")
    return {r.id: [(c.code, str(c.role)) for c in r.footprint] for r in resources}


def test_plan_backup_plan_copying_to_a_vault_planned_in_another_region() -> None:
    plan = _plan(
        _block("aws_backup_vault", "eu", {"name": "eu-main", "kms_key_arn": None}, unknown={"kms_key_arn": True}),
        _block("aws_backup_vault", "us", {"name": "dr-us"}, provider="aws.us"),
        _block(
            "aws_backup_plan",
            "daily",
            {"name": "daily", "rule": [{"rule_name": "r", "target_vault_name": "eu-main", "copy_action": [{}]}]},
            refs={"rule": []},
            unknown={"rule": [{"copy_action": [{"destination_vault_arn": True}]}]},
        ),
    )
    # the copy action's destination is only known after apply: found through the configuration's reference
    plan["configuration"]["root_module"]["resources"][2]["expressions"] = {
        "rule": [{"copy_action": [{"destination_vault_arn": {"references": ["aws_backup_vault.us.arn"]}}]}]
    }
    found = _read(plan)
    assert found["aws_backup_vault.eu"] == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    assert found["aws_backup_vault.us"] == [("us-east-1", "primary")]


def test_plan_multi_region_key_and_its_replica() -> None:
    plan = _plan(
        _block("aws_kms_key", "main", {"description": "main", "multi_region": True}),
        _block(
            "aws_kms_replica_key",
            "us",
            {"description": "replica"},
            provider="aws.us",
            refs={"primary_key_arn": ["aws_kms_key.main.arn", "aws_kms_key.main"]},
            unknown={"primary_key_arn": True},
        ),
        _block("aws_kms_key", "local", {"description": "local"}),
    )
    found = _read(plan)
    assert found["aws_kms_key.main"] == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    assert found["aws_kms_replica_key.us"] == [("us-east-1", "primary"), ("eu-west-1", "replica")]
    assert found["aws_kms_key.local"] == [("eu-west-1", "primary")]


def test_plan_secret_replicas_and_registry_replication() -> None:
    replication = {"replication_configuration": [{"rule": [{
        "destination": [{"region": "ap-southeast-2", "registry_id": "123456789012"}],
        "repository_filter": [{"filter": "prod/", "filter_type": "PREFIX_MATCH"}],
    }]}]}  # fmt: skip
    plan = _plan(
        _block("aws_secretsmanager_secret", "db", {"name": "db", "replica": [{"region": "ap-southeast-2"}]}),
        _block("aws_ecr_repository", "prod", {"name": "prod/api"}),
        _block("aws_ecr_repository", "dev", {"name": "dev/api"}),
        _block("aws_ecr_replication_configuration", "registry", replication),
    )
    found = _read(plan)
    assert found["aws_secretsmanager_secret.db"] == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    assert found["aws_ecr_repository.prod"] == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    assert found["aws_ecr_repository.dev"] == [("eu-west-1", "primary")]


def test_plan_s3_replica_keys_per_rule() -> None:
    rules = [
        {"id": "plain", "status": "Enabled", "destination": [{"bucket": "arn:aws:s3:::copy-a"}]},
        {"id": "rekeyed", "status": "Enabled", "destination": [{
            "bucket": "arn:aws:s3:::copy-b",
            "encryption_configuration": [{"replica_kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"}],
        }]},
    ]  # fmt: skip
    plan = _plan(
        _block("aws_s3_bucket", "src", {"bucket": "src"}),
        _block("aws_s3_bucket", "a", {"bucket": "copy-a"}, provider="aws.us"),
        _block("aws_s3_bucket", "b", {"bucket": "copy-b"}, provider="aws.us"),
        _block("aws_s3_bucket_replication_configuration", "src", {"bucket": "src", "rule": rules}),
    )
    from residency_audit.plan.reader import read_plan

    resources, _ = read_plan(plan, "plan.json")
    src = next(r for r in resources if r.id == "aws_s3_bucket.src")
    keys = [(c.code, c.key_control) for c in src.footprint]
    assert keys == [("eu-west-1", None), ("us-east-1", "provider-managed"), ("us-east-1", "customer-managed")]


def test_plan_redshift_snapshot_copy_resource() -> None:
    plan = _plan(
        _block("aws_redshift_cluster", "dw", {"cluster_identifier": "dw", "encrypted": True}),
        _block(
            "aws_redshift_snapshot_copy",
            "dw",
            {"cluster_identifier": "dw", "destination_region": "ap-southeast-2"},
        ),
        _block("aws_redshift_cluster", "other", {"cluster_identifier": "other"}),
    )
    found = _read(plan)
    assert found["aws_redshift_cluster.dw"] == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    assert found["aws_redshift_cluster.other"] == [("eu-west-1", "primary")]


def test_plan_efs_replication_configuration() -> None:
    plan = _plan(
        _block("aws_efs_file_system", "shared", {"creation_token": "shared", "encrypted": True}),
        _block(
            "aws_efs_replication_configuration",
            "shared",
            {"destination": [{"region": "ap-southeast-2"}]},
            refs={"source_file_system_id": ["aws_efs_file_system.shared.id", "aws_efs_file_system.shared"]},
            unknown={"source_file_system_id": True},
        ),
    )
    assert _read(plan)["aws_efs_file_system.shared"] == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]


# --- a key per copy -----------------------------------------------------------------------------------------------


def test_dynamodb_replica_with_its_own_key_decides(aws: AwsEndpoint) -> None:
    from .servers.aws import seed_table

    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"
    us_key = seed_kms_key(s, "us-east-1")
    seed_table(s, "orders", "eu-west-1", kms_key_arn=xks)
    # the EU table's keys are held outside AWS; its US replica is under an ordinary customer managed key
    aws.dynamodb_replicas[("eu-west-1", "orders")] = [
        {"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": us_key}
    ]
    code, report, err = scan("dynamodb", regions=["eu-west-1"])
    [orders] = report["resources"]
    assert code == 0 and orders["key_control"] == "external", err  # the US has an adequacy decision
    assert [(c["location"], c.get("key_control")) for c in orders["footprint"]] == [
        ("eu-west-1", None),
        ("us-east-1", "customer-managed"),
    ]
    # the worst copy decides: a customer managed key in the US does not lower the level as the external key would
    assert orders["assessment"]["level"] == "critical"
    assert any("worst copy decides" in reason for reason in orders["assessment"]["reasons"])


def test_rds_cross_region_replica_with_its_own_key_decides(aws: AwsEndpoint) -> None:
    from .servers.aws import seed_db_instance

    s = aws.session(direct=True)
    xks = seed_kms_key(s, "eu-west-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"
    us_key = seed_kms_key(s, "us-east-1")
    seed_db_instance(
        s,
        "crm",
        "eu-west-1",
        replica_regions=["us-east-1"],
        kms_key_arn=xks,
        replica_kms_key_arns={"us-east-1": us_key},
    )
    code, report, err = scan("rds", regions=["eu-west-1", "us-east-1"])
    assert code == 0 and report["skipped"] == [], err  # the US has an EU adequacy decision: eu-gdpr passes
    r = {x["name"]: x for x in report["resources"]}
    assert r["crm"]["key_control"] == "external"
    assert [(c["location"], c.get("key_control")) for c in r["crm"]["footprint"]] == [
        ("eu-west-1", None),
        ("us-east-1", "customer-managed"),
    ]
    assert r["crm"]["assessment"]["level"] == "critical"  # the US replica's ordinary key decides
    # from the replica's side: its source in Ireland is under the external key
    replica = r["crm-us-east-1"]
    assert [(c["location"], c.get("key_control")) for c in replica["footprint"]] == [
        ("us-east-1", None),
        ("eu-west-1", "external"),
    ]
    assert replica["key_control"] == "customer-managed"


# --- Local Zones: a zone is located by its zone group, never by its parent region -------------------------------


def test_rds_instance_in_local_zones(aws: AwsEndpoint) -> None:
    from .servers.aws import seed_db_instance

    aws.extra_zones["us-east-1"] = [
        {"ZoneName": "us-east-1-lim-1a", "ZoneType": "local-zone", "GroupName": "us-east-1-lim-1",
         "ParentZoneName": "us-east-1a", "NetworkBorderGroup": "us-east-1-lim-1"},
        {"ZoneName": "us-east-1-zzz-9a", "ZoneType": "local-zone", "GroupName": "us-east-1-zzz-9",
         "ParentZoneName": "us-east-1b", "NetworkBorderGroup": "us-east-1-zzz-9"},
        {"ZoneName": "us-east-1-op-1a", "ZoneType": "outpost", "GroupName": "us-east-1",
         "ParentZoneName": "us-east-1a"},
    ]  # fmt: skip
    s = aws.session(direct=True)
    rds = s.client("rds", region_name="us-east-1")
    for name, zone in (("lima", "us-east-1-lim-1a"), ("new-zone", "us-east-1-zzz-9a"), ("outpost", "us-east-1-op-1a"),
                       ("gone", "us-east-1-old-1a"), ("virginia", "us-east-1b")):  # fmt: skip
        rds.create_db_instance(
            DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", MasterUsername="admin1",
            MasterUserPassword="seeded-password-1", AllocatedStorage=20, AvailabilityZone=zone,
        )  # fmt: skip
    seed_db_instance(s, "dublin", "eu-west-1")

    code, report, err = scan("rds", regions=["us-east-1", "eu-west-1"])
    assert report["skipped"] == [], err
    r = {x["name"]: x for x in report["resources"]}
    assert set(r) == {"lima", "new-zone", "outpost", "gone", "virginia", "dublin"}, err
    assert places(r["lima"]) == [("us-east-1-lim-1", "primary")]
    # a zone group the knowledge base does not know, an Outpost, a zone not listed: unknown, never the parent region
    assert places(r["new-zone"]) == [("us-east-1-zzz-9", "primary")]
    assert places(r["outpost"]) == places(r["gone"]) == [("unknown", "primary")]
    for name in ("new-zone", "outpost", "gone"):
        assert r[name]["countries"] == [] and r[name]["assessment"]["level"] == "unknown", name
    assert places(r["virginia"]) == [("us-east-1", "primary")]
    assert places(r["dublin"]) == [("eu-west-1", "primary")]
    # plain AZs need no lookup: one DescribeAvailabilityZones, in the region with zones that are not plain AZs
    zone_calls = [rec.region for rec in aws.requests if rec.action == "DescribeAvailabilityZones"]
    assert zone_calls == ["us-east-1"]
    # Lima is in Peru (the knowledge base's zone group), not in Virginia; Peru has no EU adequacy decision
    assert r["lima"]["countries"] == ["PE"]
    assert code == 1


def test_unreadable_zones_are_a_skip_and_an_unknown_location(aws: AwsEndpoint) -> None:
    rds = aws.session(direct=True).client("rds", region_name="us-east-1")
    rds.create_db_instance(
        DBInstanceIdentifier="lima", Engine="postgres", DBInstanceClass="db.t3.micro", MasterUsername="admin1",
        MasterUserPassword="seeded-password-1", AllocatedStorage=20, AvailabilityZone="us-east-1-lim-1a",
    )  # fmt: skip
    aws.add_fault("ec2", "us-east-1", "DescribeAvailabilityZones", status=403, code="UnauthorizedOperation")
    code, report, err = scan("rds", regions=["us-east-1"])
    assert code == 3, err
    skips = {s["scope"]: s["reason"] for s in report["skipped"]}
    scope = f"account/{DEFAULT_ACCOUNT}/region/us-east-1/availability-zones"
    assert "UnauthorizedOperation on DescribeAvailabilityZones (HTTP 403)" in skips[scope]
    [lima] = report["resources"]
    assert places(lima) == [("unknown", "primary")] and lima["countries"] == []


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ({"status": 403, "code": "AccessDenied"}, "AccessDenied on DescribeDBInstances (HTTP 403)"),
        ({"mode": "malformed"}, "Unable to parse response"),
        ({"status": 400, "code": "ThrottlingException", "times": 1}, None),  # once: retried, complete
        ({"status": 500, "code": "InternalFailure", "times": 1}, None),
    ],
    ids=["403", "malformed", "throttle-once", "500-once"],
)
def test_unreadable_replica_keys_are_a_skip_and_unknown(aws: AwsEndpoint, fault: dict[str, Any], cause: str) -> None:
    from .servers.aws import seed_db_instance

    s = aws.session(direct=True)
    key = seed_kms_key(s, "eu-west-1")
    seed_db_instance(s, "crm", "eu-west-1", replica_regions=["us-east-1"], kms_key_arn=key,
                     replica_kms_key_arns={"us-east-1": seed_kms_key(s, "us-east-1")})  # fmt: skip
    aws.add_fault("rds", "us-east-1", "DescribeDBInstances", **fault)  # the replica's region is not scanned
    code, report, err = scan("rds", regions=["eu-west-1"])
    [crm] = report["resources"]
    replica_key = crm["footprint"][1]["key_control"]
    if cause is None:
        assert code == 0 and report["skipped"] == [] and replica_key == "customer-managed", err
        return
    assert code == 3, err
    scope = f"account/{DEFAULT_ACCOUNT}/region/us-east-1/service/rds/instance/arn:aws:rds:us-east-1:"
    [(where, reason)] = [(s["scope"], s["reason"]) for s in report["skipped"]]
    assert where.startswith(scope) and cause in reason
    assert replica_key == "unknown"  # never credited with a key it may not have


def test_backup_secret_and_registry_copies_carry_their_own_keys(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    xks = seed_kms_key(s, "us-east-1", origin="EXTERNAL_KEY_STORE")
    aws.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"
    held_outside = seed_backup_vault(s, "dr-xks", "us-east-1", kms_key_arn=xks)
    unnamed = seed_backup_vault(s, "dr-plain", "ap-southeast-2")  # moto names no key: unknown, never assumed
    cmk = seed_kms_key(s, "eu-west-1")
    vault = seed_backup_vault(s, "eu-main", "eu-west-1", copy_to=[held_outside, unnamed], kms_key_arn=cmk)
    secret = seed_secret(s, "db", "eu-west-1", replicas=["ap-southeast-2"], kms_key_id=cmk)
    repo = seed_repository(s, "repo", "eu-west-1", replicate_to=["us-east-1"])

    aws.clear_log()
    code, report, err = scan("backup-vault", "secret", "ecr-repository")
    assert code == 1, err
    assert report["skipped"] == []
    r = by_id(report)
    keys = {rid: [(c["location"], c.get("key_control")) for c in r[rid]["footprint"]] for rid in (vault, secret, repo)}
    assert keys[vault] == [("eu-west-1", None), ("us-east-1", "external"), ("ap-southeast-2", "unknown")]
    assert r[vault]["key_control"] == "customer-managed"  # the resource's own; the worst copy decides the level
    # a replica is encrypted in its own region: here with the AWS managed key (moto's ReplicationStatus KmsKeyId)
    assert keys[secret] == [("eu-west-1", None), ("ap-southeast-2", "provider-managed")]
    assert keys[repo] == [("eu-west-1", None), ("us-east-1", "unknown")]  # the destination registry decides
    # each destination vault is described once, however many regions' plans copy to it
    described = Counter(rec.region for rec in aws.requests if rec.action == "DescribeBackupVault")
    assert described == Counter({"us-east-1": 1, "ap-southeast-2": 1})


@pytest.mark.parametrize("denied", [False, True])
def test_organization_backup_policy_copy_actions_are_copies_of_the_vault(aws: AwsEndpoint, denied: bool) -> None:
    from .servers.aws_copies import backup_policy_plan, seed_backup_policy

    s = aws.session(direct=True)
    dr = seed_backup_vault(s, "dr-us", "us-east-1")
    governed = seed_backup_vault(s, "central", "eu-west-1")
    elsewhere = seed_backup_vault(s, "central", "eu-central-1")  # the plan does not run in this region
    other = seed_backup_vault(s, "other", "eu-west-1")
    plan = backup_policy_plan(
        "central", ["eu-west-1", "ap-southeast-2"], ["arn:aws:backup:us-east-1:$account:backup-vault:dr-us"]
    )
    seed_backup_policy(aws.copies, DEFAULT_ACCOUNT, {"org-daily": plan})
    if denied:
        aws.add_fault("organizations", "us-east-1", "DescribeEffectivePolicy", status=400, code="AccessDeniedException",
                      message="not authorised")  # fmt: skip
    aws.clear_log()
    code, report, err = scan("backup-vault")
    r = by_id(report)
    assert set(r) == {dr, governed, elsewhere, other}
    # the caller's own effective policy: one request for the account, whichever regions hold vaults
    assert [rec.action for rec in aws.requests if rec.service == "organizations"] == ["DescribeEffectivePolicy"]
    if denied:
        assert code == 3, err
        (skip,) = report["skipped"]
        assert skip["scope"] == f"account/{DEFAULT_ACCOUNT}/backup-policy"
        assert "organizations:DescribeEffectivePolicy" in skip["reason"] and "AccessDeniedException" in skip["reason"]
        assert places(r[governed]) == [("eu-west-1", "primary")]
        return
    assert code == 0 and report["skipped"] == [], err
    assert places(r[governed]) == [("eu-west-1", "primary"), ("us-east-1", "replica")]
    note = r[governed]["footprint"][1]["note"]
    assert "organization backup policy plan org-daily rule daily" in note and dr in note
    assert places(r[elsewhere]) == [("eu-central-1", "primary")] and places(r[other]) == [("eu-west-1", "primary")]
