"""The demo's estate: a fictional group, Acme, with data in AWS, Azure and Google Cloud.

Everything is written through the real SDKs (boto3 straight to moto, google-cloud-storage to the GCS stand-in) or the
test servers' seeding methods, exactly as the tests seed; the tool under test only ever reads. Each ``seed_*`` function
returns the notable things it planted, so the demo can point at them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.servers.aws import (
    DEFAULT_ACCOUNT,
    AwsEndpoint,
    copy_recovery_point,
    seed_backup_vault,
    seed_bucket,
    seed_db_instance,
    seed_global_table,
    seed_kms_key,
    seed_local_zone_db,
    seed_multi_region_key,
    seed_organization,
    seed_repository,
    seed_secret,
    seed_table,
    seed_volume,
)
from tests.servers.azure import AzureEndpoint
from tests.servers.azure_stores import add_key_vault, add_object_replication, add_recovery_vault, add_registry
from tests.servers.gcp import GcpEndpoint

PERSONAL = {"data-classification": "personal"}
CLIENT_SIDE_AWS = {"residency:encryption": "client-side"}

# Azure subscriptions: two the scanner may read, one it may not (the "skipped scope").
SUB_PRODUCTION = "0a1c3e5f-1111-4111-8111-acme00000001"
SUB_ANALYTICS = "0a1c3e5f-2222-4222-8222-acme00000002"
SUB_LEGACY = "0a1c3e5f-3333-4333-8333-acme00000003"

GCP_PROJECTS = ("acme-web", "acme-data", "acme-analytics")
GCP_CMEK = "projects/acme-keys/locations/europe-west3/keyRings/acme/cryptoKeys/cmek-hsm"
GCP_EKM = "projects/acme-keys/locations/europe-west3/keyRings/acme/cryptoKeys/ekm-external"


@dataclass
class Planted:
    """What one cloud's seeding created: the number of data stores the scan should find, and the traps."""

    stores: int = 0
    accounts: list[str] = field(default_factory=list)
    traps: list[str] = field(default_factory=list)


# -- AWS ---------------------------------------------------------------------------------------------------------


def seed_aws(ep: AwsEndpoint) -> Planted:
    """An organization: the management account and two members, S3/DynamoDB/RDS/EBS in a dozen regions."""
    out = Planted()
    mgmt = ep.session("eu-central-1", direct=True)
    finance_id, research_id = seed_organization(mgmt, ["acme-finance", "acme-research"])
    out.accounts = [DEFAULT_ACCOUNT, finance_id, research_id]

    # keys: a customer-managed key in two regions, and one in an external key store (keys held outside AWS)
    cmk_dublin = seed_kms_key(mgmt, "eu-west-1", alias="acme-hr")
    cmk_frankfurt = seed_kms_key(mgmt, "eu-central-1", alias="acme-orders")
    xks = seed_kms_key(mgmt, "eu-central-1", origin="EXTERNAL_KEY_STORE", alias="acme-xks")
    ep.kms_origin_override[xks] = "EXTERNAL_KEY_STORE"

    buckets = [
        # the legacy "EU" location constraint: really eu-west-1 (Ireland)
        seed_bucket(mgmt, "acme-legacy-eu", "EU"),
        # null location constraint: us-east-1
        seed_bucket(mgmt, "acme-web-assets", "us-east-1", tags={"data-classification": "public"}),
        # replication EU → US: the copy in Virginia is the point of the demo
        seed_bucket(
            mgmt, "acme-invoices", "eu-central-1", replicate_to={"acme-invoices-dr": "us-east-1"}, tags=PERSONAL
        ),
        "acme-invoices-dr",
        seed_bucket(mgmt, "acme-hr-records", "eu-west-1", sse="aws:kms", kms_key_arn=cmk_dublin, tags=PERSONAL),
        # the compliant one: Frankfurt, keys in an external key store
        seed_bucket(mgmt, "acme-sovereign-vault", "eu-central-1", sse="aws:kms", kms_key_arn=xks, tags=PERSONAL),
        # replication inside the EU
        seed_bucket(mgmt, "acme-backups-paris", "eu-west-3", replicate_to={"acme-backups-stockholm": "eu-north-1"}),
        "acme-backups-stockholm",
        # declared client-side encryption (a tag the tool trusts, and says so)
        seed_bucket(mgmt, "acme-client-side-archive", "eu-west-1", tags=CLIENT_SIDE_AWS),
        # London: "eu-" in the name, outside the EU/EEA
        seed_bucket(mgmt, "acme-logs-london", "eu-west-2"),
        seed_bucket(mgmt, "acme-ml-datasets", "us-west-2"),
        seed_bucket(mgmt, "acme-paused-replication", "eu-west-1"),
        seed_bucket(mgmt, "acme-paused-replica-sg", "ap-southeast-1"),
    ]
    _replication(mgmt, "acme-paused-replication", "eu-west-1", "acme-paused-replica-sg", enabled=False)
    seed_global_table(ep, mgmt, "acme-sessions", ["eu-west-1", "eu-central-1", "us-east-1"])
    seed_table(mgmt, "acme-orders", "eu-central-1", kms_key_arn=cmk_frankfurt)
    seed_db_instance(mgmt, "acme-crm", "eu-central-1", replica_regions=["us-east-1"])
    seed_db_instance(mgmt, "acme-billing", "eu-west-1", kms_key_arn=cmk_dublin)
    volume = seed_volume(mgmt, "eu-central-1")
    ec2 = mgmt.client("ec2", region_name="eu-central-1")
    snapshot = ec2.create_snapshot(VolumeId=volume, Description="nightly")["SnapshotId"]
    mgmt.client("ec2", region_name="us-east-1").copy_snapshot(
        SourceSnapshotId=snapshot, SourceRegion="eu-central-1", Description="disaster recovery copy"
    )
    out.stores += len(buckets) + 3 + 1 + 2 + 1 + 2
    # the copies that leave a region unnoticed: a backup plan copying Frankfurt's recovery points to Virginia, a
    # multi-Region key with a US replica, a secret replicated to Virginia, a registry replicating to Sydney
    dr_vault = seed_backup_vault(mgmt, "acme-dr-virginia", "us-east-1")
    frankfurt_vault = seed_backup_vault(
        mgmt, "acme-backups-frankfurt", "eu-central-1", copy_to=[dr_vault], kms_key_arn=cmk_frankfurt
    )
    copy_recovery_point(ep, frankfurt_vault, dr_vault)  # what the plan has copied so far
    seed_multi_region_key(mgmt, "eu-central-1", ["us-east-1"])
    seed_secret(mgmt, "acme/crm/db-password", "eu-central-1", replicas=["us-east-1"])
    seed_repository(mgmt, "acme/checkout", "eu-central-1", replicate_to=["ap-southeast-2"])
    out.stores += 2 + 2 + 2 + 1 + 3  # vaults, the key and its replica, the secret and its replica, repo, 3 keys
    # an RDS instance in us-east-1's Lima Local Zone: in Peru, not in Virginia
    seed_local_zone_db(ep, mgmt, "acme-latam-orders")
    out.stores += 1
    # caches outside any replication group and an elastic document cluster: each its own store
    mgmt.client("elasticache", region_name="eu-central-1").create_cache_cluster(
        CacheClusterId="acme-cart-memcached", Engine="memcached", CacheNodeType="cache.t3.micro"
    )
    ep.caches.serverless_cache("acme-feed-cache", "us-east-1")
    ep.caches.elastic_cluster("acme-catalog", "eu-central-1", cmk_frankfurt)
    out.stores += 3

    finance = ep.member_session(finance_id, region="eu-central-1", direct=True)
    finance_xks = seed_kms_key(finance, "eu-central-1", origin="EXTERNAL_KEY_STORE")
    ep.kms_origin_override[finance_xks] = "EXTERNAL_KEY_STORE"
    seed_bucket(finance, "acme-finance-ledger", "eu-central-1", sse="aws:kms", kms_key_arn=finance_xks, tags=PERSONAL)
    seed_bucket(finance, "acme-finance-reports", "eu-west-1")
    seed_bucket(finance, "acme-finance-export", "us-east-2")
    seed_db_instance(finance, "acme-finance-db", "eu-west-1", replica_regions=["eu-central-1"])
    out.stores += 3 + 2 + 1  # buckets, the database and its replica, the key

    research = ep.member_session(research_id, region="eu-north-1", direct=True)
    seed_bucket(research, "acme-genomics", "eu-north-1", replicate_to={"acme-genomics-us": "us-west-2"}, tags=PERSONAL)
    seed_bucket(research, "acme-research-scratch", "ap-northeast-1")
    seed_bucket(research, "acme-research-share", "eu-west-1")
    # replicates into a partner's bucket the scan cannot see: its location is unknown, never guessed
    _replication(research, "acme-research-share", "eu-west-1", "partner-lab-intake", enabled=True)
    seed_table(research, "acme-experiments", "eu-west-1")
    out.stores += 4 + 1

    out.traps = [
        "S3 replication eu-central-1 → us-east-1 (acme-invoices)",
        'the legacy "EU" location constraint (acme-legacy-eu: Ireland)',
        "a paused replication rule whose earlier copies may remain in Singapore",
        "a replication target in a partner's account: location unknown (acme-research-share)",
        "a DynamoDB global table with a replica in Virginia, an RDS read replica across the Atlantic",
        "an EBS snapshot copied to us-east-1",
        "eu-west-2 is London: outside the EU/EEA",
        "an AWS Backup plan copying Frankfurt's recovery points to a vault in us-east-1 (acme-backups-frankfurt)",
        "a multi-Region KMS key with a replica in us-east-1, a secret replicated to us-east-1",
        "an ECR registry replicating acme/checkout to Sydney",
        "an RDS instance in us-east-1's Lima Local Zone: Peru, not Virginia (acme-latam-orders)",
        "an ElastiCache serverless cache in us-east-1 (acme-feed-cache), found by no store before",
    ]
    return out


def seed_aws_sovereign(ep: AwsEndpoint) -> Planted:
    """An account in the AWS European Sovereign Cloud (partition aws-eusc): two buckets and a key, its own scan."""
    eusc = ep.session("eusc-de-east-1", direct=True)
    seed_bucket(eusc, "acme-eusc-records", "eusc-de-east-1", tags=PERSONAL)
    key = seed_kms_key(eusc, "eusc-de-east-1", origin="EXTERNAL_KEY_STORE")
    ep.kms_origin_override[key] = "EXTERNAL_KEY_STORE"
    seed_bucket(eusc, "acme-eusc-vault", "eusc-de-east-1", sse="aws:kms", kms_key_arn=key, tags=PERSONAL)
    return Planted(stores=3, accounts=[DEFAULT_ACCOUNT], traps=["eusc-de-east-1: German operator, US parent"])


def _replication(session: Any, bucket: str, region: str, dest: str, *, enabled: bool) -> None:
    s3 = session.client("s3", region_name=region)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    account = session.client("sts").get_caller_identity()["Account"]
    s3.put_bucket_replication(
        Bucket=bucket,
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{account}:role/s3-replication",
            "Rules": [
                {
                    "ID": f"to-{dest}",
                    "Priority": 1,
                    "Filter": {},
                    "Status": "Enabled" if enabled else "Disabled",
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{dest}"},
                }
            ],
        },
    )


# -- Azure -------------------------------------------------------------------------------------------------------


def seed_azure(ep: AzureEndpoint) -> Planted:
    """Three subscriptions; the third answers 403 to everything (a skip in the report)."""
    out = Planted(accounts=[SUB_PRODUCTION, SUB_ANALYTICS, SUB_LEGACY])
    ep.add_subscription(SUB_PRODUCTION, "acme-production")
    ep.add_subscription(SUB_ANALYTICS, "acme-analytics")
    ep.add_subscription(SUB_LEGACY, "acme-legacy-emea")

    p = SUB_PRODUCTION
    # geo-redundant storage: the API reports the secondary, the knowledge base knows the pair
    ep.add_storage_account(p, "acmebrgrs", "brazilsouth", "Standard_GRS", secondary_location="southcentralus")
    ep.add_storage_account(
        p, "acmeneragrs", "northeurope", "Standard_RAGRS", secondary_location="westeurope", tags=PERSONAL
    )
    ep.add_storage_account(
        p,
        "acmewegzrs",
        "westeurope",
        "Standard_GZRS",
        secondary_location="francecentral",
        key_source="Microsoft.Keyvault",
    )
    ep.add_storage_account(p, "acmechgrs", "switzerlandnorth", "Standard_GRS", secondary_location="switzerlandwest")
    gwc = ep.add_storage_account(
        p, "acmegwcgrs", "germanywestcentral", "Standard_GRS", secondary_location="germanynorth"
    )
    # blob object replication from Germany to the US: a copy neither the SKU nor any account field shows
    add_object_replication(ep, gwc, ep.add_storage_account(p, "acmeusreplica", "eastus", "Standard_LRS"),
                           [("invoices", "invoices-replica")])  # fmt: skip
    ep.add_storage_account(p, "acmeuklogs", "uksouth", "Standard_LRS")
    ep.add_storage_account(p, "acmeitlrs", "italynorth", "Standard_ZRS")
    ep.add_storage_account(
        p, "acmeusvault", "eastus", "Standard_LRS", tags={"residency:encryption": "client-side", **PERSONAL}
    )
    ep.add_cosmosdb(p, "acme-orders", ["West Europe", "North Europe", "East US"], tags=PERSONAL)
    ep.add_cosmosdb(
        p, "acme-catalog", ["Germany West Central"], key_vault_key_uri="https://acme.vault.azure.net/keys/cosmos"
    )
    weu = ep.add_sql_server(p, "acme-sql-weu", "westeurope")
    eus = ep.add_sql_server(p, "acme-sql-eus", "eastus", cmk=True)
    app = ep.add_sql_database(weu, "app", "westeurope", backup="Geo", tags=PERSONAL)
    app_copy = ep.add_sql_database(eus, "app", "eastus", backup="Local")
    ep.add_failover_group(weu, "app-fg", eus, [app])
    ep.add_replication_link(app, app_copy)
    ep.add_sql_database(weu, "reports", "westeurope", backup="Zone")
    pg = ep.add_flexible_server("postgresql", p, "acme-pg", "westeurope", geo_backup=True)
    ep.add_flexible_server("postgresql", p, "acme-pg-replica", "swedencentral", source=pg)
    out.stores += 9 + 2 + 3 + 2

    a = SUB_ANALYTICS
    ep.add_storage_account(a, "acmelake", "westeurope", "Standard_ZRS", rg="lake")
    ep.add_cosmosdb(a, "acme-telemetry", ["Sweden Central", "Norway East"], rg="lake")
    ep.add_flexible_server("mysql", a, "acme-mysql", "germanywestcentral", rg="lake", cmk=True)
    ep.add_disk(a, "acme-vm-os", "westeurope", rg="lake")
    ep.add_disk(a, "acme-nightly", "eastus", rg="lake", snapshot=True, customer_key=True)
    out.stores += 5
    # the copies that hide: Recovery Services vaults are geo-redundant by default (West Europe's copy in North
    # Europe, Brazil South's in Texas), and Key Vault copies a vault to the paired region by itself
    add_recovery_vault(ep, a, "acme-backup-weu", "westeurope", rg="lake", cross_region_restore=True)
    add_recovery_vault(ep, a, "acme-backup-br", "brazilsouth", rg="lake")
    add_key_vault(ep, a, "acme-lake-kv", "westeurope", rg="lake")
    # a Premium registry replicated to Australia: its images are copied there
    add_registry(ep, a, "acmeimages", "westeurope", replicas=["australiaeast"], rg="lake")
    out.stores += 4
    # found by Resource Graph, not read by any store: coverage shows the Application Insights component (logs:
    # data-bearing, not assessed yet), counts the network, and names a type the catalogue does not know
    ep._put(
        a, "lake", "Microsoft.Insights/components", "acme-telemetry-ai", {"location": "westeurope", "properties": {}}
    )
    ep._put(a, "lake", "Microsoft.Network/virtualNetworks", "acme-lake-net", {"location": "westeurope"})
    ep._put(a, "lake", "Microsoft.DigitalTwins/digitalTwinsInstances", "acme-twins", {"location": "westeurope"})

    # the legacy subscription exists but the scanner's identity has no role on it
    ep.add_storage_account(SUB_LEGACY, "acmeoldarchive", "westeurope", "Standard_GRS", secondary_location="northeurope")
    ep.add_fault(
        subscription=SUB_LEGACY,
        status=403,
        code="AuthorizationFailed",
        message="The client 'residency-audit' does not have authorization to perform action 'read' over this scope",
    )
    out.traps = [
        "brazilsouth GRS: the second copy is in Texas (southcentralus)",
        "northeurope RA-GRS paired with westeurope; Switzerland and the UK are outside the EU/EEA",
        "Cosmos DB in three regions (one in the US); a SQL failover group West Europe → East US",
        "a subscription the scanner may not read (403): one skip naming it, not a clean bill of health",
        "blob object replication from Germany West Central to East US: a copy the storage SKU does not show",
        "Recovery Services vaults, geo-redundant by default: West Europe's copy in North Europe, Brazil's in Texas",
        "a Key Vault in West Europe: the service keeps a copy in North Europe that no API field shows",
        "a container registry in West Europe replicated to Australia East",
        "an Application Insights component no store reads yet: counted, shown, incomplete (never a pass)",
    ]
    return out


# -- Google Cloud ------------------------------------------------------------------------------------------------


def seed_gcp(ep: GcpEndpoint) -> Planted:
    """Three projects: Cloud Storage in every kind of location, BigQuery datasets, Cloud SQL with replicas."""
    out = Planted(accounts=list(GCP_PROJECTS))
    for project in GCP_PROJECTS:
        ep.add_project(project, parent="organizations/1000")
    ep.add_key(GCP_CMEK, "HSM")
    ep.add_key(GCP_EKM, "EXTERNAL")

    web = ep.storage_client("acme-web")
    web.create_bucket("acme-web-eu", location="EU")
    web.create_bucket("acme-web-asia-cdn", location="ASIA")
    web.create_bucket("acme-web-us", location="US")
    web.create_bucket("acme-web-frankfurt", location="europe-west3")
    declared = web.bucket("acme-web-client-side")
    declared.labels = {"residency-encryption": "client-side", "data-classification": "personal"}
    web.create_bucket(declared, location="US")
    out.stores += 5

    data = ep.storage_client("acme-data")
    data.create_bucket("acme-data-eur4", location="EUR4")
    data.create_bucket("acme-data-eur8", location="EUR8")
    data.create_bucket("acme-data-de-ch", location="EU", data_locations=["EUROPE-WEST3", "EUROPE-WEST6"])
    data.create_bucket("acme-data-warsaw", location="europe-central2")
    data.create_bucket("acme-data-madrid", location="europe-southwest1")
    for name, key in (("acme-data-cmek", GCP_CMEK), ("acme-data-ekm", GCP_EKM)):
        bucket = data.bucket(name)
        bucket.default_kms_key_name = key
        bucket.labels = {"data-classification": "personal"}
        data.create_bucket(bucket, location="EUROPE-WEST3")
    out.stores += 7

    ep.add_dataset("acme-analytics", "analytics_us", "US", labels={"data-classification": "internal"})
    ep.add_dataset("acme-analytics", "analytics_eu", "EU")
    ep.add_dataset("acme-analytics", "events_de", "europe-west3", kms_key=GCP_CMEK)
    ep.add_instance("acme-analytics", "acme-orders", "europe-west1", labels={"data-classification": "personal"})
    ep.add_instance("acme-analytics", "acme-orders-us", "us-east1", master="acme-orders")
    ep.add_instance("acme-analytics", "acme-ledger", "europe-west3", backup_location="us")
    ep.add_instance("acme-analytics", "acme-crm", "europe-west4", kms_key=GCP_EKM)
    out.stores += 3 + 4

    # the copies that hide (issue 14): each in a place nobody chose
    stores = ep.stores
    stores.add_snapshot("acme-data", "orders-disk-nightly", ["eu"], source_disk="zones/europe-west3-a/disks/orders")
    stores.add_secret("acme-web", "stripe-api-key")  # automatic replication: global
    stores.add_secret("acme-web", "session-key", [("europe-west3", GCP_CMEK), ("europe-west4", GCP_CMEK)])
    stores.add_spanner_instance("acme-analytics", "acme-ledger-global", "nam-eur-asia1", databases=[GCP_CMEK])
    stores.add_topic("acme-web", "clickstream")  # no message storage policy
    stores.add_topic("acme-web", "orders", ["europe-west3"])
    for project in GCP_PROJECTS:
        stores.add_log_bucket(project, "_Required", "global")
        stores.add_log_bucket(project, "_Default", "global")
    stores.add_repository("acme-web", "acme-images", "europe")  # Artifact Registry's europe: the UK and CH too
    stores.add_firestore("acme-web", "(default)", "nam5")
    stores.add_bigtable("acme-analytics", "acme-events", ["europe-west1-b", "us-east1-c"])
    stores.add_vault("acme-data", "acme-backups", "us")
    # the audit logs of the EU data project, routed to a dataset in the US by a sink nobody looks at
    stores.add_sink("acme-data", "audit-to-bq", "bigquery.googleapis.com/projects/acme-analytics/datasets/analytics_us")
    out.stores += 6 + 2 * len(GCP_PROJECTS) + 4 + 1
    # Cloud Asset Inventory is on here: the scan finds all of the above in one search per project; the stores
    # whose types it lists read those projects (snapshots, secrets, topics, ...)
    ep.cloud_asset.enabled = True

    out.traps = [
        "EUR8 and a configurable DE+CH dual-region: Zurich is outside the EU",
        "EU and ASIA multi-regions, a BigQuery dataset in the US",
        "a Cloud SQL read replica in us-east1, and backups pinned to the US multi-region",
        "CMEK (Cloud HSM) and Cloud EKM (keys outside Google) buckets",
        "a disk snapshot in the EU multi-region, a secret replicated automatically (global), log buckets in global",
        "a Spanner instance on nam-eur-asia1 (US, Belgium, Taiwan) and a Pub/Sub topic without a storage policy",
        "a Bigtable cluster replicating to us-east1, a Firestore database in nam5, a backup vault in the US",
        "a log sink copying the EU data project's logs to a BigQuery dataset in the US",
    ]
    return out
