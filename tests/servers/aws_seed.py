"""Seeding helpers for the local AWS endpoint: writes go straight to moto through boto3 (pass a session from
``endpoint.session(direct=True)``); what moto lacks is declared to the endpoint. The tool under test never writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import boto3

    from .aws import AwsEndpoint


def _account_of(session: boto3.Session) -> str:
    return str(session.client("sts").get_caller_identity()["Account"])


def seed_bucket(
    session: boto3.Session,
    name: str,
    region: str,
    replicate_to: Mapping[str, str] | Iterable[str] | None = None,
    kms_key_arn: str | None = None,
    sse: Literal["AES256", "aws:kms"] | None = "AES256",
    tags: Mapping[str, str] | None = None,
    replica_keys: Mapping[str, str] | None = None,
) -> str:
    """Create bucket ``name`` in ``region`` (``"EU"`` is sent as-is from us-east-1, as legacy clients did).

    ``replicate_to`` maps destination bucket → region, or lists regions (destination ``{name}-{region}``);
    destinations are created if missing and one replication rule per destination is added. ``sse`` sets default
    encryption (``aws:kms`` with ``kms_key_arn``); ``None`` leaves none configured. ``replica_keys`` maps a
    destination to the KMS key its rule re-encrypts SSE-KMS replicas with (``ReplicaKmsKeyID``). Returns ``name``.
    """
    create_region = "us-east-1" if region == "EU" else region
    s3 = session.client("s3", region_name=create_region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if sse is not None:
        rule: dict[str, Any] = {"SSEAlgorithm": sse}
        if sse == "aws:kms" and kms_key_arn:
            rule["KMSMasterKeyID"] = kms_key_arn
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": sse == "aws:kms"}]
            },
        )
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    if replicate_to:
        dests = dict(replicate_to) if isinstance(replicate_to, Mapping) else {f"{name}-{r}": r for r in replicate_to}
        existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        rules = []
        for i, (dest, dest_region) in enumerate(dests.items(), start=1):
            if dest not in existing:
                seed_bucket(session, dest, dest_region, sse=None)
            # S3 requires versioning on both ends of a replication rule.
            session.client("s3", region_name=dest_region).put_bucket_versioning(
                Bucket=dest, VersioningConfiguration={"Status": "Enabled"}
            )
            rule = {
                "ID": f"to-{dest}",
                "Priority": i,
                "Filter": {},
                "Status": "Enabled",
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{dest}"},
            }
            if replica_keys and dest in replica_keys:
                rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
                rule["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": replica_keys[dest]}
            rules.append(rule)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(
            Bucket=name,
            ReplicationConfiguration={
                "Role": f"arn:aws:iam::{_account_of(session)}:role/s3-replication",
                "Rules": rules,
            },
        )
    return name


def seed_kms_key(session: boto3.Session, region: str, *, origin: str = "AWS_KMS", alias: str | None = None) -> str:
    """Create a symmetric KMS key (moto accepts any ``origin`` without a key store); returns its ARN."""
    kms = session.client("kms", region_name=region)
    meta = kms.create_key(Origin=origin, Description="seeded")["KeyMetadata"]
    if alias:
        kms.create_alias(AliasName=alias if alias.startswith("alias/") else "alias/" + alias, TargetKeyId=meta["KeyId"])
    return str(meta["Arn"])


def seed_table(session: boto3.Session, name: str, region: str, *, kms_key_arn: str | None = None) -> str:
    """Create an on-demand DynamoDB table with a string hash key ``pk``; returns its ARN."""
    kwargs: dict[str, Any] = {}
    if kms_key_arn:
        kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn}
    table = session.client("dynamodb", region_name=region).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **kwargs,
    )
    return str(table["TableDescription"]["TableArn"])


def seed_global_table(endpoint: AwsEndpoint, session: boto3.Session, name: str, regions: Sequence[str]) -> list[str]:
    """A 2019.11.21 global table: the table in every region (moto) plus declared replicas (proxy); returns ARNs."""
    arns = [seed_table(session, name, region) for region in regions]
    endpoint.declare_global_table(name, regions)
    return arns


def seed_db_instance(
    session: boto3.Session,
    identifier: str,
    region: str,
    *,
    replica_regions: Sequence[str] = (),
    engine: str = "postgres",
    kms_key_arn: str | None = None,
    replica_kms_key_arns: Mapping[str, str] | None = None,
) -> str:
    """Create an RDS instance and a read replica ``{identifier}-{region}`` in each replica region; returns its ARN."""
    kwargs: dict[str, Any] = {}
    if kms_key_arn:
        kwargs.update(StorageEncrypted=True, KmsKeyId=kms_key_arn)
    db = session.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine=engine,
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin1",
        MasterUserPassword="seeded-password-1",
        AllocatedStorage=20,
        **kwargs,
    )["DBInstance"]
    for replica_region in replica_regions:
        session.client("rds", region_name=replica_region).create_db_instance_read_replica(
            DBInstanceIdentifier=f"{identifier}-{replica_region}",
            SourceDBInstanceIdentifier=db["DBInstanceArn"],
            # moto 5.2 otherwise copies the source's zone (eu-west-1a) into a replica in another region
            AvailabilityZone=f"{replica_region}a",
            # an encrypted source's cross-region replica is encrypted with a key of its own region
            **({"KmsKeyId": replica_kms_key_arns[replica_region]} if replica_kms_key_arns else {}),
        )
    return str(db["DBInstanceArn"])


def seed_volume(session: boto3.Session, region: str, *, size: int = 8, kms_key_arn: str | None = None) -> str:
    """Create an EBS volume in ``{region}a`` (encrypted when ``kms_key_arn`` is given); returns its id."""
    kwargs: dict[str, Any] = {"Encrypted": True, "KmsKeyId": kms_key_arn} if kms_key_arn else {}
    vol = session.client("ec2", region_name=region).create_volume(AvailabilityZone=region + "a", Size=size, **kwargs)
    return str(vol["VolumeId"])


def seed_organization(session: boto3.Session, account_names: Sequence[str]) -> list[str]:
    """Create an organization with the caller as management account plus one member per name; returns member ids."""
    org = session.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = []
    for name in account_names:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        ids.append(str(status["AccountId"]))
    return ids


def seed_backup_vault(
    session: boto3.Session, name: str, region: str, *, copy_to: Sequence[str] = (), kms_key_arn: str | None = None
) -> str:
    """A backup vault and, for ``copy_to`` (destination vault ARNs), a plan whose rule backs up into it and copies
    each recovery point there; returns the vault's ARN."""
    backup = session.client("backup", region_name=region)
    kwargs: dict[str, Any] = {"EncryptionKeyArn": kms_key_arn} if kms_key_arn else {}
    arn = str(backup.create_backup_vault(BackupVaultName=name, **kwargs)["BackupVaultArn"])
    if copy_to:
        rule = {
            "RuleName": f"{name}-daily",
            "TargetBackupVaultName": name,
            "ScheduleExpression": "cron(0 5 ? * * *)",
            "CopyActions": [{"DestinationBackupVaultArn": dest} for dest in copy_to],
        }
        backup.create_backup_plan(BackupPlan={"BackupPlanName": f"{name}-plan", "Rules": [rule]})
    return arn


def seed_multi_region_key(session: boto3.Session, region: str, replicas: Sequence[str]) -> str:
    """A multi-Region KMS key with a replica in each of ``replicas``; returns the primary's ARN."""
    kms = session.client("kms", region_name=region)
    meta = kms.create_key(MultiRegion=True, Description="multi-region seeded")["KeyMetadata"]
    for replica in replicas:
        kms.replicate_key(KeyId=meta["KeyId"], ReplicaRegion=replica)
    return str(meta["Arn"])


def seed_secret(
    session: boto3.Session, name: str, region: str, *, replicas: Sequence[str] = (), kms_key_id: str | None = None
) -> str:
    """A secret (a dummy value) replicated to each of ``replicas``; returns its ARN."""
    kwargs: dict[str, Any] = {"KmsKeyId": kms_key_id} if kms_key_id else {}
    if replicas:
        kwargs["AddReplicaRegions"] = [{"Region": r} for r in replicas]
    out = session.client("secretsmanager", region_name=region).create_secret(Name=name, SecretString="x", **kwargs)
    return str(out["ARN"])


def seed_repository(
    session: boto3.Session, name: str, region: str, *, replicate_to: Sequence[str] = (), prefix: str | None = None
) -> str:
    """An ECR repository; with ``replicate_to``, the region's registry replicates (repositories starting with
    ``prefix``, or all) to those regions. Returns the repository's ARN."""
    ecr = session.client("ecr", region_name=region)
    arn = str(ecr.create_repository(repositoryName=name)["repository"]["repositoryArn"])
    if replicate_to:
        account = _account_of(session)
        rule: dict[str, Any] = {"destinations": [{"region": r, "registryId": account} for r in replicate_to]}
        if prefix is not None:
            rule["repositoryFilters"] = [{"filter": prefix, "filterType": "PREFIX_MATCH"}]
        ecr.put_replication_configuration(replicationConfiguration={"rules": [rule]})
    return arn


LIMA_ZONE = {
    "ZoneName": "us-east-1-lim-1a",
    "ZoneType": "local-zone",
    "GroupName": "us-east-1-lim-1",
    "ParentZoneName": "us-east-1a",
    "NetworkBorderGroup": "us-east-1-lim-1",
}


def seed_local_zone_db(
    endpoint: AwsEndpoint, session: boto3.Session, name: str, zone: dict[str, str] = LIMA_ZONE
) -> str:
    """An RDS instance in a Local Zone (declared to DescribeAvailabilityZones of its parent region); returns its ARN."""
    region = zone["ParentZoneName"][:-1]
    if zone not in endpoint.extra_zones.setdefault(region, []):
        endpoint.extra_zones[region].append(zone)
    db = session.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin1",
        MasterUserPassword="seeded-password-1",
        AllocatedStorage=20,
        AvailabilityZone=zone["ZoneName"],
    )["DBInstance"]
    return str(db["DBInstanceArn"])


def seed_redshift_cluster(
    session: boto3.Session, name: str, region: str, *, copy_to: str | None = None, kms_key_arn: str | None = None
) -> str:
    """A provisioned Redshift cluster, its snapshots copied to ``copy_to`` when given; returns its identifier."""
    redshift = session.client("redshift", region_name=region)
    kwargs: dict[str, Any] = {"Encrypted": True, "KmsKeyId": kms_key_arn} if kms_key_arn else {}
    redshift.create_cluster(
        ClusterIdentifier=name,
        NodeType="ra3.xlplus",
        MasterUsername="admin1",
        MasterUserPassword="Seeded-password-1",
        ClusterType="single-node",
        **kwargs,
    )
    if copy_to and kms_key_arn:
        # an encrypted cluster's copies need a grant for a key in the destination region (real Redshift and moto)
        grant = f"{name}-grant"
        session.client("redshift", region_name=copy_to).create_snapshot_copy_grant(SnapshotCopyGrantName=grant)
        redshift.enable_snapshot_copy(ClusterIdentifier=name, DestinationRegion=copy_to, SnapshotCopyGrantName=grant)
    elif copy_to:
        redshift.enable_snapshot_copy(ClusterIdentifier=name, DestinationRegion=copy_to)
    return name


def seed_file_system(
    endpoint: AwsEndpoint, session: boto3.Session, name: str, region: str, *, replicate_to: Sequence[str] = ()
) -> list[str]:
    """An EFS file system replicated to a new file system in each of ``replicate_to`` (declared to the proxy, whose
    DescribeReplicationConfigurations answers in the source region); returns the ARNs, source first."""

    def create(where: str, token: str) -> dict[str, Any]:
        fs: dict[str, Any] = session.client("efs", region_name=where).create_file_system(
            CreationToken=token, Tags=[{"Key": "Name", "Value": token}]
        )
        return fs

    source = create(region, name)
    dests = [(where, create(where, f"{name}-{where}")) for where in replicate_to]
    if dests:
        endpoint.efs_replications.setdefault(region, []).append(
            {
                "SourceFileSystemId": source["FileSystemId"],
                "SourceFileSystemRegion": region,
                "SourceFileSystemArn": source["FileSystemArn"],
                "OriginalSourceFileSystemArn": source["FileSystemArn"],
                "CreationTime": 1764400000,
                "Destinations": [
                    {"Status": "ENABLED", "FileSystemId": fs["FileSystemId"], "Region": where} for where, fs in dests
                ],
            }
        )
    return [str(source["FileSystemArn"]), *(str(fs["FileSystemArn"]) for _, fs in dests)]


def copy_recovery_point(endpoint: AwsEndpoint, source_vault_arn: str, dest_vault_arn: str) -> str:
    """Declare a recovery point copied from one vault into another (the destination lists it); returns its ARN."""
    region, account, name = dest_vault_arn.split(":")[3], dest_vault_arn.split(":")[4], dest_vault_arn.split(":")[-1]
    points = endpoint.recovery_points.setdefault((region, name), [])
    arn = f"arn:aws:ec2:{region}::snapshot/snap-{len(points):017d}"
    points.append(
        {
            "RecoveryPointArn": arn,
            "BackupVaultName": name,
            "BackupVaultArn": dest_vault_arn,
            "SourceBackupVaultArn": source_vault_arn,
            "ResourceArn": f"arn:aws:ec2:{source_vault_arn.split(':')[3]}:{account}:volume/vol-0123456789abcdef0",
            "ResourceType": "EBS",
            "Status": "COMPLETED",
            "CreationDate": 1764400000,
            "IsEncrypted": True,
        }
    )
    return arn
