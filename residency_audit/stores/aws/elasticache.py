"""ElastiCache replication groups: the group's region and its global datastore's members; live and planned.

Field names are those of botocore's `elasticache` model (2015-02-02): DescribeReplicationGroups `ReplicationGroups[]`
(`ReplicationGroupId`, `ARN`, `AtRestEncryptionEnabled`, `KmsKeyId`, `GlobalReplicationGroupInfo.
GlobalReplicationGroupId`), and DescribeGlobalReplicationGroups with `ShowMemberInfo` (`Members[].
ReplicationGroupRegion`, `ReplicationGroupId`). An empty region costs one request; a global datastore is described
once however many of its members are read, and each member's own key comes from its region's listing.
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

# AtRestEncryptionEnabled without a KmsKeyId: ElastiCache's own key (ElastiCache user guide, at-rest encryption)
DEFAULT_KEY = "encrypted at rest with an ElastiCache-managed key"

# --- live -----------------------------------------------------------------------------------------------------


def groups(account: Account, region: str) -> list[dict[str, Any]]:
    """The region's replication groups, described once per region (the listing and members' keys share it)."""

    def read(where: str) -> list[dict[str, Any]]:
        pages = account.client("elasticache", where).get_paginator("describe_replication_groups").paginate()
        return [group for page in pages for group in page.get("ReplicationGroups", [])]

    found: list[dict[str, Any]] = account.memo("elasticache-groups", read).get(region)
    return found


def elasticache_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's replication groups, each with its global datastore's other members."""
    for group in groups(account, region):
        name = group["ReplicationGroupId"]
        arn = group.get("ARN") or f"arn:{account.partition}:elasticache:{region}:{account.id}:replicationgroup:{name}"
        footprint = [Copy(region, CopyRole.PRIMARY)]
        gid = (group.get("GlobalReplicationGroupInfo") or {}).get("GlobalReplicationGroupId")
        if gid:
            yield from _members(account, region, gid, name, footprint)
        tags, skip = account.tags_for(region, TAG_TYPES["elasticache"], arn)
        if skip is not None:
            yield skip
        key = _key(account, region, group)
        yield resource(account, "elasticache", "AWS::ElastiCache::ReplicationGroup", arn, name,
                       dedupe_places(footprint), tags, key)  # fmt: skip
        if group.get("AtRestEncryptionEnabled"):
            yield from account.key_skips(region, group.get("KmsKeyId"))


def _key(account: Account, region: str, group: dict[str, Any]) -> tuple[KeyControl, str]:
    if not group.get("AtRestEncryptionEnabled"):
        return KeyControl.PROVIDER_MANAGED, "not encrypted at rest"
    return account.key_control(region, group.get("KmsKeyId"), DEFAULT_KEY)


def _members(account: Account, region: str, gid: str, own: str, footprint: list[Copy]) -> Iterator[Skip]:
    def read(arg: tuple[str, str]) -> list[tuple[str | None, str | None]]:
        where, name = arg
        out = account.client("elasticache", where).describe_global_replication_groups(
            GlobalReplicationGroupId=name, ShowMemberInfo=True
        )
        members = [m for g in out.get("GlobalReplicationGroups", []) for m in g.get("Members", [])]
        return [(m.get("ReplicationGroupRegion"), m.get("ReplicationGroupId")) for m in members]

    def key_of(where: str, name: str | None) -> tuple[KeyControl, str]:
        found = [g for g in groups(account, where) if g.get("ReplicationGroupId") == name]
        return _key(account, where, found[0]) if found else (KeyControl.UNKNOWN, f"{name} not found in {where}")

    scope = account.scope("region", region, "service", "elasticache", "global-datastore", gid)
    memo = account.memo("elasticache-global", read)
    yield from member_copies(memo, region, gid, own, "global datastore", scope, key_of, footprint)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_group(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    gid = _plan_global(ctx, item)
    if gid is not None:
        for other in ctx.by_type.get("aws_elasticache_replication_group", []):
            if other is not item and _plan_global(ctx, other) == gid:
                where = ctx.aws_region(other)[0]
                footprint.append(Copy(where, CopyRole.REPLICA, note=f"global datastore {gid} member {other.address}",
                                      key_control=_plan_key(ctx, other)[0]))  # fmt: skip
    return ctx.resource(
        item,
        Provider.AWS,
        ("elasticache", "AWS::ElastiCache::ReplicationGroup", "replication_group_id"),
        dedupe_places(footprint),
        _plan_key(ctx, item),
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_global(ctx: Context, item: Item) -> str | None:
    """The global datastore a planned group belongs to: a secondary names it, the primary is named by it."""
    name = item.text("global_replication_group_id")
    if name is not None:
        return name
    found = ctx.referenced(item, ("global_replication_group_id",), "aws_elasticache_global_replication_group")
    if len(found) == 1:
        return found[0].text("global_replication_group_id_suffix") or found[0].address
    for glob in ctx.by_type.get("aws_elasticache_global_replication_group", []):
        targets = ctx.target(glob, ("primary_replication_group_id",), "aws_elasticache_replication_group",
                             ("replication_group_id", "id"))  # fmt: skip
        if item.address in {t.address for t in targets}:
            return glob.text("global_replication_group_id_suffix") or glob.address
    return None


def _plan_key(ctx: Context, item: Item) -> tuple[KeyControl, str]:
    if item.get("at_rest_encryption_enabled") is False:
        return KeyControl.PROVIDER_MANAGED, "not encrypted at rest"
    return ctx.aws_key(item, ("kms_key_id",), DEFAULT_KEY)


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_elasticache_replication_group": _plan_group}
