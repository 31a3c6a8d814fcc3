"""RDS instances and Aurora clusters: read replicas, global databases, replicated backups; live and planned."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, LINKS, RDS_DEFAULT_KEY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places, region_of_arn
from .common import member_copies

# DescribeDBClusters (and DescribeDBInstances) answer for every engine of the shared API: these have their own store
OTHER_ENGINES = {"docdb": "docdb", "neptune": "neptune"}

# --- RDS and Aurora ------------------------------------------------------------------------------------------


def db_clusters(account: Account, region: str) -> list[dict[str, Any]]:
    """The region's DB clusters of every engine, described once for the rds, docdb and neptune stores together."""

    def read(where: str) -> list[dict[str, Any]]:
        pages = account.client("rds", where).get_paginator("describe_db_clusters").paginate()
        return [cluster for page in pages for cluster in page.get("DBClusters", [])]

    found: list[dict[str, Any]] = account.memo("db-clusters", read).get(region)
    return found


def rds_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's RDS instances (cluster members excepted) and Aurora clusters."""
    rds = account.client("rds", region)
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page.get("DBInstances", []):
            if db.get("DBClusterIdentifier"):
                continue  # an Aurora cluster member: its data is the cluster's, reported with the cluster
            # a Local Zone is another city (and maybe country) than its parent region: located by its zone group
            zones = [account.place(region, db.get(f)) for f in ("AvailabilityZone", "SecondaryAvailabilityZone")]
            yield from (skip for _, _, skip in zones if skip is not None)
            primary = Copy(zones[0][0], CopyRole.PRIMARY, note=zones[0][1])
            standby = [Copy(where, CopyRole.REPLICA, note=f"Multi-AZ standby {note or ''}".strip())
                       for where, note, _ in zones[1:] if db.get("SecondaryAvailabilityZone")]  # fmt: skip
            yield from _rds_instance(account, region, db, [primary, *standby])
            if db.get("StorageEncrypted"):
                yield from account.key_skips(region, db.get("KmsKeyId"))
    for cluster in db_clusters(account, region):
        if cluster.get("Engine") in OTHER_ENGINES:
            continue  # a DocumentDB or Neptune cluster (the API is shared): read by its own store
        yield from _rds_cluster(account, region, cluster)
        if cluster.get("StorageEncrypted"):
            yield from account.key_skips(region, cluster.get("KmsKeyId"))


def _rds_key(account: Account, region: str, item: dict[str, Any]) -> tuple[KeyControl, str]:
    if not item.get("StorageEncrypted"):
        return KeyControl.PROVIDER_MANAGED, "storage not encrypted"
    return account.key_control(region, item.get("KmsKeyId"), None)


def _rds_instance(
    account: Account, region: str, db: dict[str, Any], footprint: list[Copy]
) -> Iterator[Resource | Skip]:
    links = [(r, f"read replica {r}") for r in db.get("ReadReplicaDBInstanceIdentifiers", [])]
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if source:
        links.append((source, f"source of this read replica: {source}"))
    for link, note in links:
        where = region_of_arn(link)
        if where is None or where == region:
            footprint.append(Copy(where or region, CopyRole.REPLICA, note=note))
            continue
        # a cross-region replica has its own KMS key (one of its region): described there, once per link
        key, skips = _linked_key(account, link)
        yield from skips
        footprint.append(Copy(where, CopyRole.REPLICA, note=f"{note}; its keys: {key[1]}", key_control=key[0]))
    for backup in db.get("DBInstanceAutomatedBackupsReplications", []):
        arn = backup.get("DBInstanceAutomatedBackupsArn")
        key, skips = _backup_key(account, arn)
        yield from skips
        note = f"automated backups replicated to {arn}; their keys: {key[1]}"
        footprint.append(Copy(region_of_arn(arn) or UNKNOWN_LOCATION, CopyRole.REPLICA, note=note, key_control=key[0]))
    arn = db.get("DBInstanceArn", f"arn:{account.partition}:rds:{region}:{account.id}:db:{db['DBInstanceIdentifier']}")
    yield resource(
        account,
        "rds",
        "AWS::RDS::DBInstance",
        arn,
        db["DBInstanceIdentifier"],
        dedupe_places(footprint),
        tag_list(db.get("TagList", [])),
        _rds_key(account, region, db),
    )


def _backup_key(account: Account, arn: str | None) -> tuple[tuple[KeyControl, str], list[Skip]]:
    """The key control of replicated automated backups: DescribeDBInstanceAutomatedBackups in their own region.

    A replication re-encrypts with a key of the destination region (botocore's rds model: `Encrypted`, `KmsKeyId`
    of DBInstanceAutomatedBackup), so the source instance's key says nothing about this copy.
    """
    where = region_of_arn(arn)
    if not arn or not where:
        return (KeyControl.UNKNOWN, "the replicated backups' ARN names no region"), []
    try:
        client = account.client("rds", where)
        found = client.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=arn)
        backup = found["DBInstanceAutomatedBackups"][0]
    except Exception as exc:
        scope = account.scope("region", where, "service", "rds", "automated-backups", arn)
        reason = f"keys of this copy unknown: {describe_error(exc)}"
        return (KeyControl.UNKNOWN, f"unreadable ({describe_error(exc)})"), [Skip(Provider.AWS, scope, reason)]
    if not backup.get("Encrypted"):
        return (KeyControl.PROVIDER_MANAGED, "not encrypted"), []
    skips = list(account.key_skips(where, backup.get("KmsKeyId")))
    return account.key_control(where, backup.get("KmsKeyId"), None), skips


def _linked_key(account: Account, arn: str) -> tuple[tuple[KeyControl, str], list[Skip]]:
    """The key control of the instance `arn` names in another region (DescribeDBInstances there, by its ARN)."""
    where = region_of_arn(arn) or ""
    try:
        found = account.client("rds", where).describe_db_instances(DBInstanceIdentifier=arn)["DBInstances"]
        db = found[0]
    except Exception as exc:
        scope = account.scope("region", where, "service", "rds", "instance", arn)
        reason = f"keys of this copy unknown: {describe_error(exc)}"
        return (KeyControl.UNKNOWN, f"unreadable ({describe_error(exc)})"), [Skip(Provider.AWS, scope, reason)]
    skips = list(account.key_skips(where, db.get("KmsKeyId"))) if db.get("StorageEncrypted") else []
    return _rds_key(account, where, db), skips


def _rds_cluster(account: Account, region: str, cluster: dict[str, Any]) -> Iterator[Resource | Skip]:
    footprint = [Copy(region, CopyRole.PRIMARY)]
    for replica in cluster.get("ReadReplicaIdentifiers", []):
        footprint.append(Copy(region_of_arn(replica) or region, CopyRole.REPLICA, note=f"replica cluster {replica}"))
    source = cluster.get("ReplicationSourceIdentifier")
    if source:
        footprint.append(Copy(region_of_arn(source) or region, CopyRole.REPLICA, note=f"replication source {source}"))
    yield from global_members(account, region, cluster, "rds", footprint)
    arn = cluster.get(
        "DBClusterArn",
        f"arn:{account.partition}:rds:{region}:{account.id}:cluster:{cluster['DBClusterIdentifier']}",
    )
    yield resource(
        account,
        "rds",
        "AWS::RDS::DBCluster",
        arn,
        cluster["DBClusterIdentifier"],
        dedupe_places(footprint),
        tag_list(cluster.get("TagList", [])),
        _rds_key(account, region, cluster),
    )


def global_members(
    account: Account, region: str, cluster: dict[str, Any], service: str, footprint: list[Copy]
) -> Iterator[Skip]:
    """Add the other members of `cluster`'s global cluster to `footprint`, each under its own keys; skips.

    Aurora and Neptune clusters name their global cluster (GlobalClusterIdentifier); a DocumentDB cluster does not
    (botocore's docdb model), so its global cluster is found among the region's (DescribeGlobalClusters, once per
    region and only where there is such a cluster). Each member is a cluster in its own region with its own KMS key:
    read from that region's DescribeDBClusters, which the walk of that region makes anyway. The members are then
    read as ElastiCache's and MemoryDB's are (common.member_copies).
    """
    gid, arn = cluster.get("GlobalClusterIdentifier"), cluster.get("DBClusterArn")
    members = account.memo("global-members", lambda key: _pairs(account.globals.get(key)))
    if not gid and cluster.get("Engine") == "docdb":
        try:
            gid = _global_of(account, region, arn)
        except Exception as exc:
            if account.memo("global-clusters", _no).first_failure(region):
                scope = account.scope("region", region, "service", service, "global-cluster", "")
                yield Skip(Provider.AWS, scope, f"global cluster members unknown: {describe_error(exc)}")
            footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note="global cluster members could not be read"))
            return
        members = account.memo("docdb-global-members", lambda key: _pairs(_listed(account, key)))
    if not gid:
        return
    skips: list[Skip] = []  # a member's key skips, and one for a member region whose listing failed

    def key_of(where: str, member_arn: str | None) -> tuple[KeyControl, str]:
        key, found = _member_key(account, where, member_arn or "")
        skips.extend(found)
        return key

    scope = account.scope("region", region, "service", service, "global-cluster", gid)
    yield from member_copies(members, region, gid, arn or "", "global cluster", scope, key_of, footprint)
    yield from skips


def _pairs(members: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
    """A global cluster's members as (Region, ARN), what member_copies reads."""
    return [(region_of_arn(m.get("DBClusterArn")), m.get("DBClusterArn")) for m in members]


def _no(_: Any) -> Any:
    raise LookupError("not read")  # a placeholder: the memo already exists whenever a failure is reported


def _global_clusters(account: Account, region: str) -> list[dict[str, Any]]:
    """The region's global clusters (DescribeGlobalClusters), once per region."""

    def read(where: str) -> list[dict[str, Any]]:
        pages = account.client("rds", where).get_paginator("describe_global_clusters").paginate()
        return [g for page in pages for g in page.get("GlobalClusters", [])]

    found: list[dict[str, Any]] = account.memo("global-clusters", read).get(region)
    return found


def _global_of(account: Account, region: str, arn: str | None) -> str | None:
    """The global cluster a DocumentDB cluster is a member of, searched among the region's."""
    for found in _global_clusters(account, region):
        if any(m.get("DBClusterArn") == arn for m in found.get("GlobalClusterMembers", [])):
            gid = found.get("GlobalClusterIdentifier")
            return gid if isinstance(gid, str) else None
    return None


def _listed(account: Account, key: tuple[str, str]) -> list[dict[str, Any]]:
    """The members of global cluster `key[1]` from region `key[0]`'s listing (already read by the search)."""
    region, gid = key
    found = [g for g in _global_clusters(account, region) if g.get("GlobalClusterIdentifier") == gid]
    return found[0].get("GlobalClusterMembers", []) if found else []


def _member_key(account: Account, where: str, arn: str) -> tuple[tuple[KeyControl, str], list[Skip]]:
    try:
        found = [c for c in db_clusters(account, where) if c.get("DBClusterArn") == arn]
    except Exception as exc:
        skip = []
        if account.memo("db-clusters", _no).first_failure(where):
            scope = account.scope("region", where, "service", "rds", "clusters")
            skip = [Skip(Provider.AWS, scope, f"keys of global cluster members here unknown: {describe_error(exc)}")]
        return (KeyControl.UNKNOWN, f"unreadable ({describe_error(exc)})"), skip
    if not found:
        return (KeyControl.UNKNOWN, f"not found in {where}'s DescribeDBClusters"), []
    skips = list(account.key_skips(where, found[0].get("KmsKeyId"))) if found[0].get("StorageEncrypted") else []
    return _rds_key(account, where, found[0]), skips


# --- the Terraform plan reader --------------------------------------------------------------------------------

# --- AWS: RDS --------------------------------------------------------------------------------------------------


def _plan_db_instance(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    source = _plan_db_source(ctx, item, region)
    if source is not None:
        footprint.append(source)
    for replica in ctx.linked(item, "aws_db_instance"):
        replica_region, _ = ctx.aws_region(replica)
        footprint.append(Copy(replica_region, CopyRole.REPLICA, note=f"read replica {replica.address}"))
    for backups in ctx.linked(item, "aws_db_instance_automated_backups_replication"):
        backup_region, _ = ctx.aws_region(backups)
        footprint.append(
            Copy(backup_region, CopyRole.REPLICA, note=f"automated backups replicated by {backups.address}")
        )
    return ctx.resource(
        item,
        Provider.AWS,
        ("rds", "AWS::RDS::DBInstance", "identifier"),
        dedupe_places(footprint),
        _plan_db_key(ctx, item),
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_db_source(ctx: Context, item: Item, region: str) -> Copy | None:
    """The source of a read replica: a copy of the same data, in the source's region."""
    value = item.text("replicate_source_db")
    if value is None and not item.is_unknown("replicate_source_db"):
        return None
    targets = ctx.target(item, ("replicate_source_db",), "aws_db_instance", LINKS["aws_db_instance"].match)
    if len(targets) == 1:
        source_region, _ = ctx.aws_region(targets[0])
        return Copy(source_region, CopyRole.REPLICA, note=f"source of this read replica: {targets[0].address}")
    if value is None:
        return unknown_copy(CopyRole.REPLICA, f"source of this read replica: {AFTER_APPLY}")
    # a same-region source is named by identifier, a cross-region one by ARN (which carries its region)
    return Copy(region_of_arn(value) or region, CopyRole.REPLICA, note=f"source of this read replica: {value}")


def _plan_db_key(ctx: Context, item: Item) -> tuple[KeyControl, str]:
    encrypted = item.get("storage_encrypted")
    if encrypted is None and item.is_unknown("storage_encrypted"):
        return KeyControl.UNKNOWN, f"storage encryption {AFTER_APPLY} (a replica inherits its source's)"
    if encrypted is not True:
        return KeyControl.PROVIDER_MANAGED, "storage not encrypted"
    return ctx.aws_key(item, ("kms_key_id",), RDS_DEFAULT_KEY)


def _plan_rds_cluster(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    link = LINKS["aws_rds_cluster"]
    sources = ctx.target(item, (link.attribute,), link.target_type, link.match)
    source = item.text(link.attribute)
    if len(sources) == 1:
        footprint.append(Copy(ctx.aws_region(sources[0])[0], CopyRole.REPLICA, note=f"replication source {source}"))
    elif source is not None:
        footprint.append(Copy(region_of_arn(source) or region, CopyRole.REPLICA, note=f"replication source {source}"))
    elif item.is_unknown(link.attribute):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"replication source {AFTER_APPLY}"))
    for replica in ctx.linked(item, "aws_rds_cluster"):
        footprint.append(Copy(ctx.aws_region(replica)[0], CopyRole.REPLICA, note=f"replica cluster {replica.address}"))
    for member, name in ctx.global_members(item):
        footprint.append(Copy(ctx.aws_region(member)[0], CopyRole.REPLICA, note=f"global database {name} member"))
    return ctx.resource(
        item,
        Provider.AWS,
        ("rds", "AWS::RDS::DBCluster", "cluster_identifier"),
        dedupe_places(footprint),
        _plan_db_key(ctx, item),
        plan_tags(item, "tags_all", "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "aws_db_instance": _plan_db_instance,
    "aws_rds_cluster": _plan_rds_cluster,
}
