"""Redshift clusters: the cluster's region and the region its snapshots are copied to (cross-region snapshot copy).

Field names are those of botocore's `redshift` model (2012-12-01): DescribeClusters `Clusters[]`
(`ClusterIdentifier`, `Encrypted`, `KmsKeyId`, `Tags`, `ClusterSnapshotCopyStatus.DestinationRegion`). One paged call
per region answers everything: the copy, the key and the tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, resource, tag_list
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import dedupe_places

# Since January 2025 a cluster created without a key is encrypted with an AWS owned key; DescribeClusters names none.
DEFAULT_KEY = "encrypted, with no KMS key named: an AWS owned key (Redshift's default)"

# --- live -----------------------------------------------------------------------------------------------------


def redshift_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's provisioned clusters, each with the region its snapshots are copied to."""
    client = account.client("redshift", region)
    for page in client.get_paginator("describe_clusters").paginate():
        for cluster in page.get("Clusters", []):
            yield from _cluster(account, region, cluster)


def _cluster(account: Account, region: str, cluster: dict[str, Any]) -> Iterator[Resource | Skip]:
    name = cluster["ClusterIdentifier"]
    footprint = [Copy(region, CopyRole.PRIMARY)]
    copy = cluster.get("ClusterSnapshotCopyStatus") or {}
    if copy.get("DestinationRegion"):
        note = f"snapshots copied to {copy['DestinationRegion']} (cross-region snapshot copy)"
        footprint.append(Copy(copy["DestinationRegion"], CopyRole.REPLICA, note=note))
    if cluster.get("Encrypted"):
        key = account.key_control(region, cluster.get("KmsKeyId"), DEFAULT_KEY)
        yield from account.key_skips(region, cluster.get("KmsKeyId"))
    else:
        key = (KeyControl.PROVIDER_MANAGED, "cluster not encrypted")
    arn = f"arn:{account.partition}:redshift:{region}:{account.id}:cluster:{name}"
    tags = tag_list(cluster.get("Tags", []))
    yield resource(account, "redshift", "AWS::Redshift::Cluster", arn, name, dedupe_places(footprint), tags, key)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_cluster(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    # provider v5's inline block (deprecated) and the aws_redshift_snapshot_copy resource that replaces it; the
    # block is not computed, so a block known only after apply was configured (a dynamic block over a new value)
    if item.is_unknown("snapshot_copy"):
        footprint.append(unknown_copy(CopyRole.REPLICA, f"{item.address} snapshot_copy {AFTER_APPLY}"))
    for block in item.blocks("snapshot_copy"):
        footprint.append(_plan_destination(block.get("destination_region"), f"{item.address} snapshot_copy"))
    for copy in ctx.by_type.get("aws_redshift_snapshot_copy", []):
        targets = ctx.target(copy, ("cluster_identifier",), "aws_redshift_cluster", ("cluster_identifier", "id"))
        if item.address in {t.address for t in targets}:
            footprint.append(_plan_destination(copy.get("destination_region"), copy.address))
    if item.get("encrypted") is False:
        key = (KeyControl.PROVIDER_MANAGED, "cluster not encrypted")
    else:
        key = ctx.aws_key(item, ("kms_key_id",), DEFAULT_KEY)
    return ctx.resource(
        item,
        Provider.AWS,
        ("redshift", "AWS::Redshift::Cluster", "cluster_identifier"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_destination(region: Any, what: str) -> Copy:
    if isinstance(region, str) and region:
        return Copy(region, CopyRole.REPLICA, note=f"{what}: snapshots copied to {region}")
    return unknown_copy(CopyRole.REPLICA, f"{what}: destination region {AFTER_APPLY}")


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_redshift_cluster": _plan_cluster}
