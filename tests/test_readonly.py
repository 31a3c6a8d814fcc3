"""Read-only and least privilege: every API call a full scan of all three clouds makes is a read, and the policies
shipped in residency_audit/permissions/ (documented in docs/permissions.md) allow each one, and nothing broader.

The three local servers record every request. A representative estate (every service of every cloud, with the
features that make the connectors read more: replication, KMS keys, global tables, read replicas, failover groups,
an organisation with a member account, folders) is scanned by the real CLI on every inventory path (AWS --org and
the GetBucketLocation fallback; Azure Resource Graph and --no-resource-graph; GCP projects:search and
--organization). The maps below, from a recorded call to the permission it needs, come from AWS's Service
Authorization Reference, Azure's resource provider operations and the Google Cloud IAM permissions reference; a call
without a mapping fails the test with its name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from residency_audit.cli import app
from residency_audit.scan import SERVICES

from .servers.aws import (
    AwsEndpoint,
    copy_recovery_point,
    seed_backup_vault,
    seed_bucket,
    seed_db_instance,
    seed_file_system,
    seed_global_table,
    seed_kms_key,
    seed_local_zone_db,
    seed_multi_region_key,
    seed_organization,
    seed_redshift_cluster,
    seed_repository,
    seed_secret,
    seed_table,
    seed_volume,
)
from .servers.aws_copies import (
    backup_policy_plan,
    copy_image,
    seed_backup_policy,
    seed_centralization_rule,
    seed_image,
    seed_log_group,
)
from .servers.azure import AzureEndpoint
from .servers.azure_stores import (
    add_backup_vault,
    add_image_version,
    add_instance_failover_group,
    add_key_vault,
    add_managed_hsm,
    add_managed_instance,
    add_namespace,
    add_object_replication,
    add_recovery_vault,
    add_redis,
    add_redis_link,
    add_registry,
    add_workspace,
)
from .servers.gcp import GcpEndpoint

REGIONS = ("eu-west-1", "us-east-1", "eu-central-1", "us-west-2")
S1 = "11111111-1111-4111-8111-111111111111"
S2 = "22222222-2222-4222-8222-222222222222"
S_RETIRED = "99999999-9999-4999-8999-999999999999"  # a disabled subscription: never scanned
CMEK = "projects/keys/locations/europe-west3/keyRings/ring/cryptoKeys/cmek"
EKM = "projects/keys/locations/europe-west3/keyRings/ring/cryptoKeys/ekm"

# --- recorded call → permission ----------------------------------------------------------------------------------

#: (SigV4 service, API operation) → IAM action (Service Authorization Reference: the action is not always the
#: operation's name: S3 subresources, ListBuckets and the tagging API's prefix differ).
AWS_ACTIONS = {
    ("sts", "GetCallerIdentity"): "sts:GetCallerIdentity",
    ("sts", "AssumeRole"): "sts:AssumeRole",
    ("organizations", "ListAccounts"): "organizations:ListAccounts",
    ("ec2", "DescribeRegions"): "ec2:DescribeRegions",
    ("ec2", "DescribeSnapshots"): "ec2:DescribeSnapshots",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketLocation"): "s3:GetBucketLocation",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("kms", "DescribeKey"): "kms:DescribeKey",
    ("tagging", "GetResources"): "tag:GetResources",
    ("dynamodb", "ListTables"): "dynamodb:ListTables",
    ("dynamodb", "DescribeTable"): "dynamodb:DescribeTable",
    ("rds", "DescribeDBInstances"): "rds:DescribeDBInstances",
    ("rds", "DescribeDBClusters"): "rds:DescribeDBClusters",
    ("rds", "DescribeGlobalClusters"): "rds:DescribeGlobalClusters",
    ("rds", "DescribeDBInstanceAutomatedBackups"): "rds:DescribeDBInstanceAutomatedBackups",
    ("elasticache", "DescribeReplicationGroups"): "elasticache:DescribeReplicationGroups",
    ("elasticache", "DescribeGlobalReplicationGroups"): "elasticache:DescribeGlobalReplicationGroups",
    ("elasticache", "DescribeCacheClusters"): "elasticache:DescribeCacheClusters",
    ("elasticache", "DescribeServerlessCaches"): "elasticache:DescribeServerlessCaches",
    ("docdb-elastic", "ListClusters"): "docdb-elastic:ListClusters",
    ("docdb-elastic", "GetCluster"): "docdb-elastic:GetCluster",
    ("docdb-elastic", "ListTagsForResource"): "docdb-elastic:ListTagsForResource",
    ("memorydb", "DescribeClusters"): "memorydb:DescribeClusters",
    ("memorydb", "DescribeMultiRegionClusters"): "memorydb:DescribeMultiRegionClusters",
    ("es", "ListDomainNames"): "es:ListDomainNames",
    ("es", "DescribeDomains"): "es:DescribeDomains",
    ("es", "DescribeInboundConnections"): "es:DescribeInboundConnections",
    ("backup", "ListBackupVaults"): "backup:ListBackupVaults",
    ("backup", "ListBackupPlans"): "backup:ListBackupPlans",
    ("backup", "GetBackupPlan"): "backup:GetBackupPlan",
    ("backup", "ListRecoveryPointsByBackupVault"): "backup:ListRecoveryPointsByBackupVault",
    ("kms", "ListKeys"): "kms:ListKeys",
    ("secretsmanager", "ListSecrets"): "secretsmanager:ListSecrets",
    ("secretsmanager", "DescribeSecret"): "secretsmanager:DescribeSecret",
    ("ecr", "DescribeRepositories"): "ecr:DescribeRepositories",
    ("ecr", "DescribeRegistry"): "ecr:DescribeRegistry",
    ("redshift", "DescribeClusters"): "redshift:DescribeClusters",
    ("ec2", "DescribeAvailabilityZones"): "ec2:DescribeAvailabilityZones",
    ("elasticfilesystem", "DescribeFileSystems"): "elasticfilesystem:DescribeFileSystems",
    ("elasticfilesystem", "DescribeReplicationConfigurations"): "elasticfilesystem:DescribeReplicationConfigurations",
    ("ec2", "DescribeImages"): "ec2:DescribeImages",
    ("backup", "DescribeBackupVault"): "backup:DescribeBackupVault",
    ("organizations", "DescribeEffectivePolicy"): "organizations:DescribeEffectivePolicy",
    ("observabilityadmin", "ListCentralizationRulesForOrganization"): (
        "observabilityadmin:ListCentralizationRulesForOrganization"
    ),
    (
        "observabilityadmin",
        "GetCentralizationRuleForOrganization",
    ): "observabilityadmin:GetCentralizationRuleForOrganization",
    ("logs", "DescribeLogGroups"): "logs:DescribeLogGroups",
    ("logs", "DescribeAccountPolicies"): "logs:DescribeAccountPolicies",
    ("logs", "DescribeSubscriptionFilters"): "logs:DescribeSubscriptionFilters",
    # --aws-inventory resource-explorer / config:NAME (the IAM prefix of Resource Explorer is its signing name)
    ("resource-explorer-2", "ListIndexes"): "resource-explorer-2:ListIndexes",
    ("resource-explorer-2", "ListIndexesForMembers"): "resource-explorer-2:ListIndexesForMembers",
    ("resource-explorer-2", "GetDefaultView"): "resource-explorer-2:GetDefaultView",
    ("resource-explorer-2", "GetView"): "resource-explorer-2:GetView",
    ("resource-explorer-2", "ListSupportedResourceTypes"): "resource-explorer-2:ListSupportedResourceTypes",
    ("resource-explorer-2", "Search"): "resource-explorer-2:Search",
    ("config", "DescribeConfigurationAggregators"): "config:DescribeConfigurationAggregators",
    ("config", "DescribeConfigurationAggregatorSourcesStatus"): "config:DescribeConfigurationAggregatorSourcesStatus",
    ("config", "SelectAggregateResourceConfig"): "config:SelectAggregateResourceConfig",
}
#: Calls that are not reads of data-store metadata, each allowed for a stated reason.
AWS_NOT_READS = {
    # "No permissions are required to perform this operation" (STS API reference); it names the caller's account
    "sts:GetCallerIdentity": "identifies the caller; needs no permission and cannot be denied",
    # returns temporary credentials; changes nothing; required for --org and --account-id only
    "sts:AssumeRole": "enters a member account (--org, --account-id) with the role named by --role-name",
}
#: IAM actions that need no statement in a policy.
AWS_NO_PERMISSION = {"sts:GetCallerIdentity"}

#: (method, path pattern as the Azure server records it, lower-case) → Azure RBAC operation.
AZURE_OPERATIONS = {
    ("GET", "/subscriptions"): "Microsoft.Resources/subscriptions/read",
    ("POST", "/providers/microsoft.resourcegraph/resources"): "Microsoft.ResourceGraph/resources/read",
    ("GET", "/subscriptions/{subscriptionid}/resources"): "Microsoft.Resources/subscriptions/resources/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.storage/storageaccounts"): (
        "Microsoft.Storage/storageAccounts/read"
    ),
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.storage"
        "/storageaccounts/{name}/objectreplicationpolicies",
    ): "Microsoft.Storage/storageAccounts/objectReplicationPolicies/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.storage"
        "/storageaccounts/{name}",
    ): "Microsoft.Storage/storageAccounts/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.documentdb/databaseaccounts"): (
        "Microsoft.DocumentDB/databaseAccounts/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.sql/servers"): "Microsoft.Sql/servers/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.sql/servers/{name}"
        "/databases",
    ): "Microsoft.Sql/servers/databases/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.sql/servers/{name}"
        "/failovergroups",
    ): "Microsoft.Sql/servers/failoverGroups/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.sql/servers/{name}"
        "/replicationlinks",
    ): "Microsoft.Sql/servers/replicationLinks/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.sql/servers/{name}"
        "/encryptionprotector/current",
    ): "Microsoft.Sql/servers/encryptionProtector/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.dbforpostgresql/flexibleservers"): (
        "Microsoft.DBforPostgreSQL/flexibleServers/read"
    ),
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.dbforpostgresql"
        "/flexibleservers/{name}",
    ): "Microsoft.DBforPostgreSQL/flexibleServers/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.dbforpostgresql"
        "/flexibleservers/{name}/replicas",
    ): "Microsoft.DBforPostgreSQL/flexibleServers/replicas/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.dbformysql/flexibleservers"): (
        "Microsoft.DBforMySQL/flexibleServers/read"
    ),
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.dbformysql"
        "/flexibleservers/{name}",
    ): "Microsoft.DBforMySQL/flexibleServers/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.dbformysql"
        "/flexibleservers/{name}/replicas",
    ): "Microsoft.DBforMySQL/flexibleServers/replicas/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.compute/disks"): "Microsoft.Compute/disks/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.compute/snapshots"): (
        "Microsoft.Compute/snapshots/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.recoveryservices/vaults"): (
        "Microsoft.RecoveryServices/vaults/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.dataprotection/backupvaults"): (
        "Microsoft.DataProtection/backupVaults/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.keyvault/vaults"): "Microsoft.KeyVault/vaults/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.keyvault/managedhsms"): (
        "Microsoft.KeyVault/managedHSMs/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.sql/managedinstances"): (
        "Microsoft.Sql/managedInstances/read"
    ),
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.sql/locations/{name}"
        "/instancefailovergroups",
    ): "Microsoft.Sql/locations/instanceFailoverGroups/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.sql"
        "/managedinstances/{name}/encryptionprotector/current",
    ): "Microsoft.Sql/managedInstances/encryptionProtector/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.containerregistry/registries"): (
        "Microsoft.ContainerRegistry/registries/read"
    ),
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.containerregistry"
        "/registries/{name}/replications",
    ): "Microsoft.ContainerRegistry/registries/replications/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.eventhub/namespaces"): (
        "Microsoft.EventHub/namespaces/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.servicebus/namespaces"): (
        "Microsoft.ServiceBus/namespaces/read"
    ),
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.cache/redis"): "Microsoft.Cache/redis/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/providers/microsoft.compute/galleries",
    ): "Microsoft.Compute/galleries/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.compute/galleries"
        "/{name}/images",
    ): "Microsoft.Compute/galleries/images/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.compute/galleries"
        "/{name}/images/{name}/versions",
    ): "Microsoft.Compute/galleries/images/versions/read",
    (
        "GET",
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.cache/redis/{name}"
        "/linkedservers",
    ): "Microsoft.Cache/redis/linkedServers/read",
    ("GET", "/subscriptions/{subscriptionid}/providers/microsoft.operationalinsights/workspaces"): (
        "Microsoft.OperationalInsights/workspaces/read"
    ),
}

#: (api, operation) as the GCP server records them → IAM permission (None: no permission, the OAuth exchange).
GCP_PERMISSIONS: dict[tuple[str, str], str | None] = {
    ("oauth2", "token"): None,
    ("cloudasset", "searchAllResources"): "cloudasset.assets.searchAllResources",
    ("storage", "buckets.list"): "storage.buckets.list",
    ("kms", "cryptoKeys.get"): "cloudkms.cryptoKeys.get",
    # "bigquery.datasets.get … is required to list datasets or get information on datasets" (BigQuery docs)
    ("bigquery", "datasets.list"): "bigquery.datasets.get",
    ("bigquery", "datasets.get"): "bigquery.datasets.get",
    # the replicas' metadata query is a query job (INFORMATION_SCHEMA.SCHEMATA_REPLICAS)
    ("bigquery", "jobs.query"): "bigquery.jobs.create",
    ("sqladmin", "instances.list"): "cloudsql.instances.list",
    # projects:search returns "projects that the caller has the resourcemanager.projects.get permission on"
    ("resourcemanager", "projects.search"): "resourcemanager.projects.get",
    ("resourcemanager", "folders.list"): "resourcemanager.folders.list",
    # issue 14's stores (IAM permissions reference: one list permission per collection)
    ("compute", "snapshots.list"): "compute.snapshots.list",
    ("compute", "images.list"): "compute.images.list",
    ("compute", "machineImages.list"): "compute.machineImages.list",
    # regionally scoped snapshots (the walk): regionSnapshots.list is a snapshots permission, as regional disks' are
    ("compute", "regions.list"): "compute.regions.list",
    ("compute", "regionSnapshots.list"): "compute.snapshots.list",
    ("secretmanager", "secrets.list"): "secretmanager.secrets.list",
    ("logging", "buckets.list"): "logging.buckets.list",
    ("pubsub", "topics.list"): "pubsub.topics.list",
    ("spanner", "instances.list"): "spanner.instances.list",
    ("spanner", "instanceConfigs.get"): "spanner.instanceConfigs.get",
    ("spanner", "databases.list"): "spanner.databases.list",
    ("artifactregistry", "locations.list"): "artifactregistry.locations.list",
    ("artifactregistry", "repositories.list"): "artifactregistry.repositories.list",
    ("firestore", "databases.list"): "datastore.databases.list",
    ("bigtableadmin", "instances.list"): "bigtable.instances.list",
    ("bigtableadmin", "clusters.list"): "bigtable.clusters.list",
    ("backupdr", "backupVaults.list"): "backupdr.backupVaults.list",
    ("backupdr", "backupVaults.get"): "backupdr.backupVaults.get",
    ("backupdr", "backupPlans.list"): "backupdr.backupPlans.list",
    ("logging", "sinks.list"): "logging.sinks.list",
    ("logging", "buckets.get"): "logging.buckets.get",
    ("pubsub", "topics.get"): "pubsub.topics.get",
    ("storage", "buckets.get"): "storage.buckets.get",
    ("secretmanager", "locations.list"): "secretmanager.locations.list",
    ("secretmanager", "regionalSecrets.list"): "secretmanager.secrets.list",
}


def permissions_file(name: str) -> Any:
    """A policy file as shipped in the package."""
    return json.loads(resources.files("residency_audit").joinpath("permissions", name).read_text(encoding="utf-8"))


def aws_policy_actions() -> set[str]:
    """The exact actions the shipped IAM policy allows; wildcards and Deny statements are refused."""
    policy = permissions_file("aws-iam-policy.json")
    assert policy["Version"] == "2012-10-17"
    allowed: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        for action in actions:
            assert "*" not in action and "?" not in action, f"wildcard action {action} is not least privilege"
            allowed.add(action)
    return allowed


def azure_role_actions() -> set[str]:
    role = permissions_file("azure-role.json")
    assert role["DataActions"] == [] and role["NotActions"] == [], "only control-plane reads are needed"
    actions = set(role["Actions"])
    assert all(a.endswith("/read") and "*" not in a for a in actions), actions
    return {a.lower() for a in actions}


def gcp_permissions() -> set[str]:
    data = permissions_file("gcp-permissions.json")
    listed = {p["permission"] for p in data["permissions"]}
    assert listed == set(data["custom_role"]["includedPermissions"])
    return listed


# --- the servers and the estate ------------------------------------------------------------------------------------


@dataclass
class Clouds:
    """The three local clouds, seeded, with the member account the organisation has."""

    aws: AwsEndpoint
    azure: AzureEndpoint
    gcp: GcpEndpoint
    member: str = ""

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """An environment pointing every SDK at the local servers (and at nothing of the developer's)."""
        return self.gcp.env(self.azure.env(self.aws.env(base)))

    def clear_logs(self) -> None:
        self.aws.clear_log()
        self.azure.clear_log()
        self.gcp.clear_log()


@pytest.fixture(scope="module")
def clouds() -> Iterator[Clouds]:
    with AwsEndpoint() as aws, AzureEndpoint() as azure, GcpEndpoint() as gcp:
        yield Clouds(aws, azure, gcp)


def prepare(clouds: Clouds, mp: pytest.MonkeyPatch, extra_env: dict[str, str] | None = None) -> Clouds:
    """Empty servers, every service of every cloud seeded, and this process's environment pointing at them."""
    clouds.aws.reset()
    clouds.azure.reset()
    clouds.gcp.reset()
    for key in list(os.environ):
        if key.startswith(("AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "RESIDENCY_AUDIT_")):
            mp.delenv(key)
    for key, value in {**clouds.env(dict(os.environ)), **(extra_env or {})}.items():
        mp.setenv(key, value)
    clouds.member = seed_aws(clouds.aws)
    seed_azure(clouds.azure)
    seed_gcp(clouds.gcp)
    clouds.clear_logs()
    return clouds


def seed_aws(ep: AwsEndpoint) -> str:
    s = ep.session(direct=True)
    key = seed_kms_key(s, "eu-west-1")
    seed_bucket(s, "data-eu", "eu-west-1", replicate_to={"data-eu-copy": "us-west-2"}, sse="aws:kms", kms_key_arn=key)
    seed_bucket(s, "plain", "us-east-1", sse=None, tags={"data-classification": "public"})
    seed_global_table(ep, s, "orders", ["eu-west-1", "us-east-1"])
    seed_table(s, "sessions", "eu-central-1", kms_key_arn=seed_kms_key(s, "eu-central-1"))
    seed_db_instance(s, "pg", "eu-west-1", replica_regions=["eu-central-1"], kms_key_arn=key)
    rds = s.client("rds", region_name="eu-west-1")
    rds.create_global_cluster(GlobalClusterIdentifier="global-aurora", Engine="aurora-postgresql")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora-eu",
        Engine="aurora-postgresql",
        GlobalClusterIdentifier="global-aurora",
        MasterUsername="admin1",
        MasterUserPassword="seeded-password-1",
        StorageEncrypted=True,
        KmsKeyId=key,
    )
    s.client("neptune", region_name="eu-west-1").create_db_cluster(DBClusterIdentifier="graph", Engine="neptune")
    ep.graph.docdb_cluster("docs", "eu-west-1", global_id="docs-global")
    ep.graph.backup_replica("pg", "eu-central-1")
    ep.graph.cache_group("sessions", "eu-west-1", global_id="sessions-global")
    ep.graph.memorydb_cluster("cart", "eu-west-1", multi_region="mr-cart")
    s.client("elasticache", region_name="eu-west-1").create_cache_cluster(
        CacheClusterId="tokens", Engine="memcached", CacheNodeType="cache.t3.micro"
    )
    ep.caches.serverless_cache("feed", "eu-west-1", kms_key_arn=key)
    ep.caches.elastic_cluster("catalog", "eu-west-1", key)
    s.client("opensearch", region_name="eu-west-1").create_domain(DomainName="search")
    ep.graph.connect(("us-east-1", "search-us"), ("eu-west-1", "search"))
    volume = seed_volume(s, "eu-west-1", kms_key_arn=key)
    s.client("ec2", region_name="eu-west-1").create_snapshot(VolumeId=volume)
    dr_us = seed_backup_vault(s, "dr-us", "us-east-1")
    copy_recovery_point(ep, seed_backup_vault(s, "eu-main", "eu-west-1", copy_to=[dr_us]), dr_us)
    seed_multi_region_key(s, "eu-west-1", ["us-east-1"])
    seed_secret(s, "db-password", "eu-west-1", replicas=["us-east-1"])
    seed_repository(s, "prod/api", "eu-west-1", replicate_to=["us-west-2"])
    seed_redshift_cluster(s, "warehouse", "eu-west-1", copy_to="us-east-1")
    seed_local_zone_db(ep, s, "lima-db")
    seed_file_system(ep, s, "shared-fs", "eu-west-1", replicate_to=["us-west-2"])
    plan = backup_policy_plan("eu-main", ["eu-west-1"], ["arn:aws:backup:us-east-1:$account:backup-vault:dr-us"])
    seed_backup_policy(ep.copies, _account_of_session(s), {"org-daily": plan})
    copy_image(ep.copies, s, seed_image(ep.copies, s, "base", "eu-west-1", kms_key_id=key), "eu-west-1", "us-east-1")
    seed_log_group(ep.copies, s, "/app/api", "eu-west-1", send_to=["arn:aws:kinesis:us-east-1:1:stream/siem"])
    seed_centralization_rule(ep.copies, "central", "eu-west-1", ["eu-west-1"], "eu-central-1")
    (member,) = seed_organization(s, ["member"])
    seed_bucket(ep.member_session(member, direct=True), "member-data", "eu-central-1")
    # the organization-wide engines: an index in every account-region, an aggregator over all of them
    accounts = [_account_of_session(s), member]
    ep.inventory.index(accounts, REGIONS, aggregator_region="us-east-1")
    ep.inventory.aggregator("org", accounts, REGIONS)
    return member


def _account_of_session(session: Any) -> str:
    return str(session.client("sts").get_caller_identity()["Account"])


def seed_azure(ep: AzureEndpoint) -> None:
    ep.add_subscription(S1, "production")
    ep.add_subscription(S2, "analytics")
    brgrs = ep.add_storage_account(S1, "brgrs", "brazilsouth", "Standard_GRS", secondary_location="southcentralus")
    # blob object replication to an account in a disabled subscription (not scanned): its policies, and it by id
    ep.add_subscription(S_RETIRED, "retired", state="Disabled")
    add_object_replication(ep, brgrs, ep.add_storage_account(S_RETIRED, "archive", "westeurope"))
    ep.add_storage_account(S2, "wecmk", "westeurope", "Standard_LRS", key_source="Microsoft.Keyvault")
    ep.add_cosmosdb(S1, "orders", ["West Europe", "North Europe"], backup_redundancy="Geo")
    weu = ep.add_sql_server(S1, "sql-weu", "westeurope")
    eus = ep.add_sql_server(S1, "sql-eus", "eastus", cmk=True)
    app_db = ep.add_sql_database(weu, "app", "westeurope", backup="Geo")
    app_copy = ep.add_sql_database(eus, "app", "eastus")
    ep.add_failover_group(weu, "app-fg", eus, [app_db])
    ep.add_replication_link(app_db, app_copy)
    pg = ep.add_flexible_server("postgresql", S1, "pg-main", "westeurope", geo_backup=True)
    ep.add_flexible_server("postgresql", S1, "pg-replica", "swedencentral", source=pg)
    mysql = ep.add_flexible_server("mysql", S2, "mysql-main", "germanywestcentral", cmk=True)
    ep.add_flexible_server("mysql", S2, "mysql-replica", "westeurope", source=mysql)
    ep.add_disk(S2, "vm-os-disk", "westeurope")
    ep.add_disk(S2, "nightly", "eastus", snapshot=True, customer_key=True)
    add_recovery_vault(ep, S1, "rsv", "westeurope")
    add_backup_vault(ep, S2, "bv", "francecentral")
    add_key_vault(ep, S1, "kv", "westeurope")
    add_managed_hsm(ep, S2, "hsm", "northeurope", extended=["westeurope"])
    primary = add_managed_instance(ep, S1, "mi", "westeurope")
    add_instance_failover_group(ep, "mi-fog", primary, add_managed_instance(ep, S2, "mi-dr", "northeurope"))
    add_registry(ep, S1, "acr", "westeurope", replicas=["australiaeast"])
    add_namespace(ep, "eventhub", S1, "events", "westeurope", replicas=["northeurope"])
    add_namespace(ep, "servicebus", S2, "queues", "westeurope")
    add_workspace(ep, S2, "logs", "westeurope", replica="northeurope")
    add_redis_link(ep, add_redis(ep, S1, "cache", "westeurope"), add_redis(ep, S2, "cache-dr", "northeurope"))
    add_image_version(ep, S1, "gallery", "app", "1.0.0", "westeurope", ["westeurope", "eastus"])


def seed_gcp(ep: GcpEndpoint) -> None:
    ep.cloud_asset.enabled = True
    ep.add_project("data", parent="organizations/1000")
    ep.add_folder("folders/7", parent="organizations/1000")
    ep.add_project("analytics", parent="folders/7")
    ep.add_key(CMEK, "HSM")
    ep.add_key(EKM, "EXTERNAL")
    client = ep.storage_client("data")
    client.create_bucket("eu-multi", location="EU")
    bucket = client.bucket("frankfurt-cmek")
    bucket.default_kms_key_name = CMEK
    client.create_bucket(bucket, location="EUROPE-WEST3")
    ep.storage_client("analytics").create_bucket(
        "de-ch", location="EU", data_locations=["EUROPE-WEST3", "EUROPE-WEST6"]
    )
    ep.add_dataset("data", "events", "EU", kms_key=EKM)
    ep.add_dataset("analytics", "marts", "europe-west3")
    ep.add_instance("data", "pg", "europe-west3", kms_key=CMEK, backup_location="eu")
    ep.stores.add_snapshot("data", "disk-snap", ["eu"], kms_key=CMEK)
    ep.stores.add_snapshot("data", "golden", ["eu"], kind="images")
    ep.stores.add_snapshot("analytics", "vm", ["us"], kind="machineImages")
    ep.stores.add_secret("data", "token")
    ep.stores.add_log_bucket("analytics", "_Default", "global")
    ep.stores.add_topic("data", "events")
    ep.stores.add_spanner_instance("analytics", "ledger", "eur3", databases=[EKM])
    ep.stores.add_repository("data", "images", "europe")
    ep.stores.add_firestore("analytics", "(default)", "eur3")
    ep.stores.add_bigtable("data", "events", ["europe-west1-b"])
    vault = ep.stores.add_vault("analytics", "vault", "europe-west3")["name"]
    ep.stores.add_plan("analytics", "nightly-vms", "europe-west3", vault)
    ep.stores.add_sink(
        "analytics", "audit", "logging.googleapis.com/projects/analytics/locations/global/buckets/_Default"
    )
    ep.stores.add_regional_secret("data", "regional-token", "europe-west3")
    ep.stores.add_sink("data", "archive", "storage.googleapis.com/eu-multi")
    ep.stores.add_sink("data", "stream", "pubsub.googleapis.com/projects/data/topics/events")
    ep.add_instance("data", "pg-replica", "europe-west1", master="pg")


def run(*args: str) -> Result:
    """The real CLI, in this process."""
    return CliRunner().invoke(app, list(args))


def full_scans(clouds: Clouds, tmp: Path, *extra: str) -> list[Result]:
    """Scans of all three clouds that, together, take every inventory path; their results."""
    regions = [a for r in REGIONS for a in ("--region", r)]
    providers = ["--provider", "aws", "--provider", "azure", "--provider", "gcp"]
    out = [
        # AWS --org (the caller and the member account), Azure over Resource Graph, GCP projects:search
        run(*extra, "scan", *providers, *regions, "--org", "--format", "json", "--output", str(tmp / "a.json")),
        # Resource Manager lists instead of Resource Graph; the organization's folder walk
        run(
            *extra,
            "scan",
            "--provider",
            "azure",
            "--provider",
            "gcp",
            "--no-resource-graph",
            "--no-cloud-asset",
            "--organization",
            "1000",
            "--format",
            "json",
            "--output",
            str(tmp / "b.json"),
        ),
    ]
    # an S3 that does not report BucketRegion: the GetBucketLocation fallback
    for engine in ("resource-explorer", "config:org"):
        out.append(
            # --allow-incomplete: the engines also see the EBS volume, which no store reads yet (exit 3 otherwise)
            run(*extra, "scan", *regions, "--org", "--aws-inventory", engine, "--allow-incomplete", "--format",
                "json", "--output", str(tmp / f"{engine[:6]}.json"))
        )  # fmt: skip
    clouds.aws.list_buckets_region = False
    out.append(run(*extra, "scan", "--service", "s3", *regions, "--format", "json", "--output", str(tmp / "c.json")))
    clouds.aws.list_buckets_region = True
    return out


@pytest.fixture(scope="module")
def recorded(clouds: Clouds, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clouds]:
    """The estate after full scans, with every request they made still in the servers' logs."""
    tmp = tmp_path_factory.mktemp("readonly")
    with pytest.MonkeyPatch.context() as mp:
        estate = prepare(clouds, mp)
        for result in full_scans(estate, tmp):
            assert result.exit_code == 0, (result.stdout, result.stderr)
        report = json.loads((tmp / "a.json").read_text())
        names = {r["name"] for r in report["resources"]}
        # the estate really was read: every service of every cloud, the member account included
        assert {"data-eu", "orders", "pg", "aurora-eu", "member-data", "brgrs", "app", "pg-replica"} <= names, names
        assert {"mysql-replica", "nightly", "vm-os-disk", "frankfurt-cmek", "events", "marts", "de-ch"} <= names, names
        # every --service of every cloud (scan.SERVICES) was read in this estate
        assert {r["service"] for r in report["resources"]} == {s for names in SERVICES.values() for s in names}
        assert json.loads((tmp / "b.json").read_text())["complete"] is True
        yield estate


def aws_calls(ep: AwsEndpoint) -> set[tuple[str, str]]:
    return {(str(r.service), str(r.action)) for r in ep.requests}


def azure_calls(ep: AzureEndpoint) -> set[tuple[str, str]]:
    return {(r.method, r.pattern.lower()) for r in ep.requests}


def gcp_calls(ep: GcpEndpoint) -> set[tuple[str, str, str]]:
    return {(r.api, r.operation, r.method) for r in ep.requests}


# --- the tests -----------------------------------------------------------------------------------------------------


def test_every_call_of_a_full_scan_is_a_read(recorded: Clouds) -> None:
    aws = aws_calls(recorded.aws)
    unmapped = sorted(c for c in aws if c not in AWS_ACTIONS)
    assert not unmapped, f"AWS calls with no known IAM action (add them to AWS_ACTIONS and the policy): {unmapped}"
    for call in aws:
        action = AWS_ACTIONS[call]
        verb = action.split(":", 1)[1]
        # Resource Explorer's Search and Config's Select* are queries: reads of the inventory, nothing else
        reads = ("List", "Get", "Describe", "Search", "SelectAggregate")
        assert verb.startswith(reads) or action in AWS_NOT_READS, f"AWS write? {action}"
    # the whole read surface was exercised, so the coverage check below is worth something
    assert aws == set(AWS_ACTIONS), f"not exercised: {sorted(set(AWS_ACTIONS) - aws)}"

    azure = {(r.method, r.pattern) for r in recorded.azure.requests}
    for method, pattern in azure:
        assert method == "GET" or (method, pattern.lower()) == (
            "POST",
            "/providers/microsoft.resourcegraph/resources",
        ), f"Azure write? {method} {pattern}"
    assert all(r.status < 400 for r in recorded.azure.requests), [r for r in recorded.azure.requests if r.status >= 400]

    for api, operation, method in gcp_calls(recorded.gcp):
        # jobs.query is BigQuery's SELECT on INFORMATION_SCHEMA.SCHEMATA_REPLICAS: metadata, read-only
        reads = {("oauth2", "token"), ("bigquery", "jobs.query")}
        assert method == "GET" or (api, operation) in reads, f"GCP write? {method} {api} {operation}"


def test_the_shipped_policies_allow_every_recorded_call(recorded: Clouds) -> None:
    allowed = aws_policy_actions()
    needed = {AWS_ACTIONS[c] for c in aws_calls(recorded.aws) if c in AWS_ACTIONS} - AWS_NO_PERMISSION
    assert not needed - allowed, f"AWS actions missing from aws-iam-policy.json: {sorted(needed - allowed)}"
    assert not allowed - needed, f"aws-iam-policy.json allows actions no scan makes: {sorted(allowed - needed)}"

    role = azure_role_actions()
    calls = azure_calls(recorded.azure)
    unmapped = sorted(c for c in calls if c not in AZURE_OPERATIONS)
    assert not unmapped, f"Azure requests with no known operation (add them to AZURE_OPERATIONS): {unmapped}"
    operations = {AZURE_OPERATIONS[c] for c in calls}
    assert operations == set(AZURE_OPERATIONS.values()), f"not exercised: {set(AZURE_OPERATIONS.values()) - operations}"
    missing = sorted(op for op in operations if op.lower() not in role)
    assert not missing, f"Azure operations missing from azure-role.json: {missing}"
    assert role == {op.lower() for op in operations}, "azure-role.json allows operations no scan performs"

    permissions = gcp_permissions()
    calls_gcp = {(api, op) for api, op, _ in gcp_calls(recorded.gcp)}
    unmapped_gcp = sorted(c for c in calls_gcp if c not in GCP_PERMISSIONS)
    assert not unmapped_gcp, f"GCP calls with no known permission (add them to GCP_PERMISSIONS): {unmapped_gcp}"
    assert calls_gcp == set(GCP_PERMISSIONS), f"not exercised: {set(GCP_PERMISSIONS) - calls_gcp}"
    needed_gcp = {p for c in calls_gcp if (p := GCP_PERMISSIONS[c]) is not None}
    assert not needed_gcp - permissions, (
        f"GCP permissions missing from gcp-permissions.json: {needed_gcp - permissions}"
    )
    assert not permissions - needed_gcp, (
        f"gcp-permissions.json lists permissions no scan needs: {permissions - needed_gcp}"
    )


def test_policy_files_are_well_formed_and_documented() -> None:
    policy = permissions_file("aws-iam-policy.json")
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)) and all(s.isalnum() for s in sids)
    assume = next(s for s in policy["Statement"] if "sts:AssumeRole" in s["Action"])
    assert assume["Action"] == ["sts:AssumeRole"] and assume["Resource"] != "*", "AssumeRole only into the scan role"
    role = permissions_file("azure-role.json")
    assert role["IsCustom"] is True and role["AssignableScopes"]
    gcp = permissions_file("gcp-permissions.json")
    for item in gcp["permissions"]:
        assert item["needed_for"] and item["predefined_roles"], item
    doc = (Path(__file__).parent.parent / "docs" / "permissions.md").read_text(encoding="utf-8")
    for action in aws_policy_actions() | set(role["Actions"]) | gcp_permissions():
        assert action in doc, f"docs/permissions.md does not mention {action}"
    # the policy shown in the docs is the shipped one
    assert json.dumps(policy, indent=2) in doc
