"""ElastiCache cache clusters outside any replication group (Memcached, single-node Valkey/Redis OSS); live and planned.

Field names are those of botocore's `elasticache` model (2015-02-02): DescribeCacheClusters with
`ShowCacheNodeInfo` and `ShowCacheClustersNotInReplicationGroups` (`CacheClusters[]`: `CacheClusterId`, `ARN`,
`ReplicationGroupId`, `PreferredAvailabilityZone`, `PreferredOutpostArn`, `AtRestEncryptionEnabled`,
`CacheNodes[].CustomerAvailabilityZone`, `CacheNodes[].CustomerOutpostArn`). A cluster in a replication group is
read with its group (stores/aws/elasticache.py), so it is skipped here even if the filter is not honoured.

Where the data sits is each node's zone: a plain availability zone is the region, a Local Zone its zone group (its
own city), and a node on an Outpost an unknown location (the API does not say where the Outpost is). The cache
cluster API takes no KMS key: at-rest encryption is an option of replication groups and serverless caches only
(`AtRestEncryptionEnabled`: "Only available when creating a replication group"), so a standalone cluster is
reported as not encrypted at rest unless the API says otherwise, and then under ElastiCache's own key. An empty
region costs one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places
from .registry import TAG_TYPES

RTYPE = "AWS::ElastiCache::CacheCluster"
SERVICE = "elasticache-cluster"
NOT_ENCRYPTED = "not encrypted at rest (a cache cluster outside a replication group has no at-rest encryption option)"
DEFAULT_KEY = "encrypted at rest with an ElastiCache-managed key (the cache cluster API names no KMS key)"

# --- live -----------------------------------------------------------------------------------------------------


def cache_cluster_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's cache clusters that belong to no replication group, each placed by its nodes' zones."""
    paginator = account.client("elasticache", region).get_paginator("describe_cache_clusters")
    pages = paginator.paginate(ShowCacheNodeInfo=True, ShowCacheClustersNotInReplicationGroups=True)
    for cluster in (c for page in pages for c in page.get("CacheClusters", [])):
        if cluster.get("ReplicationGroupId"):
            continue  # read with its replication group
        name = cluster["CacheClusterId"]
        arn = cluster.get("ARN") or f"arn:{account.partition}:elasticache:{region}:{account.id}:cluster:{name}"
        footprint: list[Copy] = []
        for zone, outpost in _placements(cluster):
            if outpost:
                note = f"node on Outpost {outpost}, whose location the API does not give"
                footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.PRIMARY, note=note))
                continue
            where, placed, skip = account.place(region, zone)
            if skip is not None:
                yield skip
            footprint.append(Copy(where, CopyRole.PRIMARY, note=placed))
        tags, skip = account.tags_for(region, TAG_TYPES[SERVICE], arn)
        if skip is not None:
            yield skip
        key = (KeyControl.PROVIDER_MANAGED, DEFAULT_KEY if cluster.get("AtRestEncryptionEnabled") else NOT_ENCRYPTED)
        yield resource(account, SERVICE, RTYPE, arn, name, dedupe_places(footprint), tags, key)


def _placements(cluster: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    """(zone, Outpost ARN) of each node; the cluster's preferred zone where nodes are not listed."""
    nodes = [(n.get("CustomerAvailabilityZone"), n.get("CustomerOutpostArn")) for n in cluster.get("CacheNodes") or []]
    if nodes:
        return nodes
    zone = cluster.get("PreferredAvailabilityZone")
    # "Multiple": nodes in several zones of the region, none named; the region is where they are
    return [(None if zone == "Multiple" else zone, cluster.get("PreferredOutpostArn"))]


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_cluster(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint: list[Copy] = []
    zones = [z for z in (item.get("preferred_availability_zones") or []) if isinstance(z, str)]
    zones = zones or [z for z in (item.text("availability_zone"),) if z]
    if item.text("preferred_outpost_arn") or item.text("outpost_mode"):
        outpost = item.text("preferred_outpost_arn") or AFTER_APPLY
        footprint.append(unknown_copy(CopyRole.PRIMARY, f"nodes on Outpost {outpost}, whose location is not given"))
    for zone in zones:
        if region != UNKNOWN_LOCATION and zone.startswith(region) and len(zone) == len(region) + 1:
            footprint.append(Copy(region, CopyRole.PRIMARY, note=note))
        else:
            # a Local or Wavelength Zone sits in its own city: its zone group is not read from a plan, never guessed
            footprint.append(unknown_copy(CopyRole.PRIMARY, f"node in zone {zone}, not a plain zone of {region}"))
    if not footprint:
        footprint.append(Copy(region, CopyRole.PRIMARY, note=note))
    return ctx.resource(
        item,
        Provider.AWS,
        (SERVICE, RTYPE, "cluster_id"),
        dedupe_places(footprint),
        _plan_key(ctx, item),
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_key(ctx: Context, item: Item) -> tuple[KeyControl, str]:
    if item.text("replication_group_id") is None and not item.is_unknown("replication_group_id"):
        return KeyControl.PROVIDER_MANAGED, NOT_ENCRYPTED
    from .elasticache import _plan_key as group_key

    groups = ctx.target(item, ("replication_group_id",), "aws_elasticache_replication_group",
                        ("replication_group_id", "id"))  # fmt: skip
    if len(groups) == 1:
        control, how = group_key(ctx, groups[0])
        return control, f"member of replication group {groups[0].address}: {how}"
    group = ctx.describe(item, ("replication_group_id",))
    return KeyControl.UNKNOWN, f"member of replication group {group}, whose keys the plan does not show"


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_elasticache_cluster": _plan_cluster}
