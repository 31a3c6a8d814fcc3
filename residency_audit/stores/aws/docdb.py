"""DocumentDB and Neptune clusters: the cluster's region and its global cluster's members; live and planned.

Both services are served by the RDS API (botocore's docdb and neptune models: endpoint prefix and signing name
`rds`), so their clusters come from the one DescribeDBClusters per region that the rds store makes too (`Engine`
`docdb` or `neptune`). A global cluster's members (DescribeGlobalClusters `GlobalClusterMembers[].DBClusterArn`) are
copies in their own regions, each under its own KMS key, exactly as for an Aurora global database (rds.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ...clouds.aws import Account, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags
from ..common import dedupe_places
from .rds import _rds_key, db_clusters, global_members

# engine → (our service name, CloudFormation type, Terraform cluster type, its global type, its KMS key attribute)
ENGINES = {
    "docdb": ("docdb", "AWS::DocDB::DBCluster", "aws_docdb_cluster", "aws_docdb_global_cluster", "kms_key_id"),
    "neptune": (
        "neptune",
        "AWS::Neptune::DBCluster",
        "aws_neptune_cluster",
        "aws_neptune_global_cluster",
        "kms_key_arn",
    ),
}
# both encrypt with the RDS service key when none is named (DocumentDB and Neptune developer guides)
DEFAULT_KEY = "encrypted with the AWS managed key aws/rds"

# --- live -----------------------------------------------------------------------------------------------------


def _lister(engine: str) -> Callable[[Account, str], Iterator[Resource | Skip]]:
    service, rtype, *_ = ENGINES[engine]

    def listing(account: Account, region: str) -> Iterator[Resource | Skip]:
        for cluster in db_clusters(account, region):
            if cluster.get("Engine") != engine:
                continue
            footprint = [Copy(region, CopyRole.PRIMARY)]
            yield from global_members(account, region, cluster, service, footprint)
            name = cluster["DBClusterIdentifier"]
            arn = cluster.get("DBClusterArn", f"arn:{account.partition}:rds:{region}:{account.id}:cluster:{name}")
            tags = tag_list(cluster.get("TagList", []))
            key = _rds_key(account, region, cluster)
            yield resource(account, service, rtype, arn, name, dedupe_places(footprint), tags, key)
            if cluster.get("StorageEncrypted"):
                yield from account.key_skips(region, cluster.get("KmsKeyId"))

    listing.__doc__ = f"The region's {engine} clusters, each with its global cluster's members."
    return listing


docdb_list = _lister("docdb")
neptune_list = _lister("neptune")

# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan(engine: str) -> Callable[[Context, Item], Resource]:
    service, rtype, cluster_type, global_type, key_attr = ENGINES[engine]

    def group(ctx: Context, item: Item) -> str | None:
        name = item.text("global_cluster_identifier")
        if name is not None:
            return name
        found = ctx.referenced(item, ("global_cluster_identifier",), global_type)
        return (found[0].text("global_cluster_identifier") or found[0].address) if len(found) == 1 else None

    def evaluate(ctx: Context, item: Item) -> Resource:
        region, note = ctx.aws_region(item)
        footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
        gid = group(ctx, item)
        if gid is not None:
            for other in ctx.by_type.get(cluster_type, []):
                if other is not item and group(ctx, other) == gid:
                    where = ctx.aws_region(other)[0]
                    note = f"global cluster {gid} member {other.address}"
                    key = _plan_key(ctx, other, key_attr)[0]
                    footprint.append(Copy(where, CopyRole.REPLICA, note=note, key_control=key))
        return ctx.resource(
            item,
            Provider.AWS,
            (service, rtype, "cluster_identifier"),
            dedupe_places(footprint),
            _plan_key(ctx, item, key_attr),
            plan_tags(item, "tags_all", "tags"),
        )

    return evaluate


def _plan_key(ctx: Context, item: Item, key_attr: str) -> tuple[KeyControl, str]:
    encrypted = item.get("storage_encrypted")
    if encrypted is None and item.is_unknown("storage_encrypted"):
        return KeyControl.UNKNOWN, f"storage encryption {AFTER_APPLY}"
    if encrypted is not True:
        return KeyControl.PROVIDER_MANAGED, "storage not encrypted"
    return ctx.aws_key(item, (key_attr,), DEFAULT_KEY)


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "aws_docdb_cluster": _plan("docdb"),
    "aws_neptune_cluster": _plan("neptune"),
}
