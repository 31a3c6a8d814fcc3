"""MemoryDB clusters: the cluster's region and its multi-Region cluster's other Regional clusters; live and planned.

Field names are those of botocore's `memorydb` model (2021-01-01): DescribeClusters `Clusters[]` (`Name`, `ARN`,
`KmsKeyId`, `MultiRegionClusterName`) and DescribeMultiRegionClusters with `ShowClusterDetails`
(`MultiRegionClusters[].Clusters[].Region`, `ClusterName`). An empty region costs one request; a multi-Region
cluster is described once per region with a member, and each member's own key comes from its region's listing.
MemoryDB always encrypts at rest: a cluster naming no KMS key uses an AWS owned key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import Context, Item, plan_tags
from ..common import dedupe_places
from .common import member_copies
from .registry import TAG_TYPES

DEFAULT_KEY = "encrypted at rest with an AWS owned key (MemoryDB's default)"

# --- live -----------------------------------------------------------------------------------------------------


def clusters(account: Account, region: str) -> list[dict[str, Any]]:
    """The region's clusters, described once per region (the listing and multi-Region members' keys share it)."""

    def read(where: str) -> list[dict[str, Any]]:
        pages = account.client("memorydb", where).get_paginator("describe_clusters").paginate()
        return [cluster for page in pages for cluster in page.get("Clusters", [])]

    found: list[dict[str, Any]] = account.memo("memorydb-clusters", read).get(region)
    return found


def memorydb_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's clusters, each with the other Regions of its multi-Region cluster."""
    for cluster in clusters(account, region):
        name = cluster["Name"]
        arn = cluster.get("ARN") or f"arn:{account.partition}:memorydb:{region}:{account.id}:cluster/{name}"
        footprint = [Copy(region, CopyRole.PRIMARY)]
        if cluster.get("MultiRegionClusterName"):
            yield from _members(account, region, cluster["MultiRegionClusterName"], name, footprint)
        tags, skip = account.tags_for(region, TAG_TYPES["memorydb"], arn)
        if skip is not None:
            yield skip
        key = account.key_control(region, cluster.get("KmsKeyId"), DEFAULT_KEY)
        yield resource(account, "memorydb", "AWS::MemoryDB::Cluster", arn, name, dedupe_places(footprint), tags, key)
        yield from account.key_skips(region, cluster.get("KmsKeyId"))


def _members(account: Account, region: str, group: str, own: str, footprint: list[Copy]) -> Iterator[Skip]:
    def read(arg: tuple[str, str]) -> list[tuple[str | None, str | None]]:
        where, name = arg
        pages = (
            account.client("memorydb", where)
            .get_paginator("describe_multi_region_clusters")
            .paginate(MultiRegionClusterName=name, ShowClusterDetails=True)
        )
        members = [c for page in pages for m in page.get("MultiRegionClusters", []) for c in m.get("Clusters", [])]
        return [(c.get("Region"), c.get("ClusterName")) for c in members]

    def key_of(where: str, name: str | None) -> tuple[KeyControl, str]:
        found = [c for c in clusters(account, where) if c.get("Name") == name]
        if not found:
            return KeyControl.UNKNOWN, f"{name} not found in {where}"
        return account.key_control(where, found[0].get("KmsKeyId"), DEFAULT_KEY)

    scope = account.scope("region", region, "service", "memorydb", "multi-region-cluster", group)
    memo = account.memo("memorydb-multi-region", read)
    yield from member_copies(memo, region, group, own, "multi-Region cluster", scope, key_of, footprint)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_cluster(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    group = _plan_group(ctx, item)
    if group is not None:
        for other in ctx.by_type.get("aws_memorydb_cluster", []):
            if other is not item and _plan_group(ctx, other) == group:
                key = ctx.aws_key(other, ("kms_key_arn",), DEFAULT_KEY)[0]
                footprint.append(Copy(ctx.aws_region(other)[0], CopyRole.REPLICA, key_control=key,
                                      note=f"multi-Region cluster {group} member {other.address}"))  # fmt: skip
    return ctx.resource(
        item,
        Provider.AWS,
        ("memorydb", "AWS::MemoryDB::Cluster", "name"),
        dedupe_places(footprint),
        ctx.aws_key(item, ("kms_key_arn",), DEFAULT_KEY),
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_group(ctx: Context, item: Item) -> str | None:
    name = item.text("multi_region_cluster_name")
    if name is not None:
        return name
    found = ctx.referenced(item, ("multi_region_cluster_name",), "aws_memorydb_multi_region_cluster")
    return (found[0].text("multi_region_cluster_name_suffix") or found[0].address) if len(found) == 1 else None


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_memorydb_cluster": _plan_cluster}
